"""Configuration objects: parsing and the checks that name the bad item."""

from __future__ import annotations

import pytest

from floor.errors import ConfigError
from floor.model import OverflowKind, OverflowTarget, QueueConfig, SeatConfig, Skill, Strategy, Tier


def test_skill_parse() -> None:
    assert Skill.parse("vip=3") == Skill("vip", 3)
    assert Skill.parse(" billing = 1 ") == Skill("billing", 1)
    assert Skill.parse("english") == Skill("english", 1)
    for bad in ("vip=x", "=2", "vip=-1"):
        with pytest.raises(ConfigError):
            Skill.parse(bad)


def test_overflow_target_parse_and_text() -> None:
    target = OverflowTarget.parse("queue:sales")
    assert target == OverflowTarget(OverflowKind.QUEUE, "sales")
    assert str(target) == "queue:sales"
    assert OverflowTarget.parse("voicemail:support").kind is OverflowKind.VOICEMAIL
    assert OverflowTarget.parse("flow:after-hours").name == "after-hours"
    for bad in ("sales", "fax:1", "queue:"):
        with pytest.raises(ConfigError):
            OverflowTarget.parse(bad)


def test_queue_defaults() -> None:
    q = QueueConfig("sales")
    assert (q.strategy, q.ring_timeout, q.wrap_up, q.service_level_threshold) == (
        Strategy.LONGEST_IDLE, 20.0, 10.0, 20.0)
    assert q.max_wait is None and q.overflow is None and q.tiers == frozenset()


@pytest.mark.parametrize("kwargs, message", [
    ({"ring_timeout": 0}, "ring_timeout must be > 0"),
    ({"max_wait": -5, "overflow": OverflowTarget.parse("flow:x")}, "max_wait must be > 0"),
    ({"announce_every": 0}, "announce_every"),
    ({"wrap_up": -1}, "wrap_up"),
    ({"max_wait": 60}, "need an overflow target"),
    ({"overflow_when_no_seats": True}, "need an overflow target"),
    ({"overflow": OverflowTarget.parse("queue:sales")}, "into itself"),
    ({"skills": {"vip": -1}}, "skill 'vip'=-1"),
])
def test_queue_checks(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        QueueConfig("sales", **kwargs)  # type: ignore[arg-type]


def test_seat_config() -> None:
    seat = SeatConfig("1001", team="north", tier=Tier.VIP, skills={"vip": 3}, queues=("sales",))
    assert seat.level("vip") == 3 and seat.level("billing") == 0
    with pytest.raises(ConfigError, match="needs an id"):
        SeatConfig("")
    with pytest.raises(ConfigError, match="seat 1001: penalty"):
        SeatConfig("1001", penalties={"sales": -1})
