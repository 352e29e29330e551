"""The board learns queues and campaigns created at run time, fed by a real ACD's event log."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from callfloor.floorwiring import campaign_queues
from dialer.campaign import Campaign
from floor.acd import Acd
from floor.errors import UnknownQueue
from floor.eventlog import acd_record
from floor.events import AcdCommand
from floor.metrics import CampaignNotFound, CampaignSpec, FloorMetrics, QueueNotFound, QueueSpec
from floor.metrics_windows import DropFormula
from floor.model import QueueConfig, SeatConfig
from floor.states import PresenceAction

DAY0 = 19_700 * 86400.0
T = DAY0 + 36_000.0
EMPTY_SEATS = {"ready": 0, "ringing": 0, "talking": 0, "wrap_up": 0, "paused": 0, "logged_out": 0}


def feed(m: FloorMetrics, commands: Iterable[AcdCommand]) -> set[tuple[str, str]]:
    """Publish the ACD's records to the board, as the switchboard does; the changed subjects."""
    changed: set[tuple[str, str]] = set()
    for command in commands:
        record = acd_record(command)
        if record is not None:
            changed |= m.apply(*record)
    return changed


def floor() -> tuple[Acd, FloorMetrics]:
    """Seat s1 in ``sales``, registered and READY at T, on both the ACD and the board."""
    queues, seats = [QueueConfig("sales", wrap_up=0)], [SeatConfig("s1", queues=("sales",))]
    acd, m = Acd(queues, seats, now=T), FloorMetrics.for_floor(queues, seats)
    feed(m, acd.seat_reachable("s1", True, T))
    feed(m, acd.set_presence("s1", PresenceAction.READY, T))
    return acd, m


def pick(view: dict[str, object], *keys: str) -> tuple[object, ...]:
    return tuple(view[k] for k in keys)


def test_a_queue_added_at_run_time_is_shown_and_counted() -> None:
    acd, m = floor()
    support = QueueConfig("support", service_level_threshold=5, announce_every=None)
    acd.add_queue(support, T + 10)
    assert m.add_queue(support) == {("queue", "support")}
    assert m.subjects() == [("queue", "sales"), ("queue", "support"), ("seat", "s1")]
    board = m.board(T + 10)
    assert list(board["queues"]) == ["sales", "support"]
    assert pick(board["queues"]["support"], "waiting", "offered", "sl_threshold_s", "seats") == (
        0, 0, 5, EMPTY_SEATS)
    assert feed(m, acd.caller_joined("c1", "support", T + 11)) == {("queue", "support")}
    assert m.queue("support", T + 12)["waiting"] == 1
    changed = feed(m, acd.set_membership("s1", ["sales", "support"], T + 12))
    assert changed == {("seat", "s1"), ("queue", "sales"), ("queue", "support")}
    feed(m, acd.offer_accepted("c1", "s1", T + 18))
    q = m.queue("support", T + 20)
    assert pick(q, "waiting", "offered", "answered", "asa_s", "seats") == (
        0, 1, 1, 7.0, {**EMPTY_SEATS, "talking": 1})
    assert q["sl"]["today"] == 0.0  # 7 s > the new queue's 5 s threshold
    assert m.seat("s1", T + 20)["queues"] == ["sales", "support"]


def test_adding_a_known_queue_keeps_its_figures_and_takes_the_new_spec() -> None:
    acd, m = floor()
    feed(m, acd.caller_joined("c1", "sales", T + 1))
    feed(m, acd.offer_accepted("c1", "s1", T + 3))
    before = m.queue("sales", T + 4)
    assert m.add_queue(QueueSpec("sales", 20.0)) == {("queue", "sales")}
    assert m.queue("sales", T + 4) == before
    m.replace_queue(QueueConfig("sales", service_level_threshold=2))
    after = m.queue("sales", T + 4)
    assert pick(after, "offered", "answered", "sl_threshold_s", "seats") == (
        1, 1, 2, {**EMPTY_SEATS, "talking": 1})
    assert after["sl"] == before["sl"]  # outcomes keep the ACD's within_threshold flag of their time
    m.apply("queue.joined", T + 5, {"call": "x1", "queue": "late", "ts": T + 5})
    m.add_queue(QueueConfig("late", service_level_threshold=9))
    assert pick(m.queue("late", T + 6), "waiting", "sl_threshold_s") == (1, 9)


def test_unknown_names_are_refused_by_replace() -> None:
    _, m = floor()
    with pytest.raises(KeyError, match="no queue 'nope' on the board") as info:
        m.replace_queue(QueueSpec("nope"))
    assert isinstance(info.value, UnknownQueue) and isinstance(info.value, QueueNotFound)
    with pytest.raises(KeyError, match="no campaign 'nope' on the board") as missing:
        m.replace_campaign(CampaignSpec("nope"))
    assert isinstance(missing.value, CampaignNotFound)
    with pytest.raises(LookupError, match="no campaign 'nope' on the board"):
        m.campaign("nope", T)
    assert m.subjects() == [("queue", "sales"), ("seat", "s1")]


def test_a_campaign_added_at_run_time_counts_its_dials_and_seats_and_keeps_them_on_replace() -> None:
    acd, m = floor()
    spring = Campaign(id="spring", caller_id="+12125550100", target_abandon=0.02, grace=1.5,
                      abandon_formula="connections", amd_allowance=0.1)
    (queue,) = campaign_queues([spring])
    acd.add_queue(queue, T + 10)
    m.add_queue(queue)
    assert m.add_campaign(spring) == {("campaign", "spring")}
    assert m.subjects() == [("queue", "sales"), ("queue", "campaign-spring"), ("campaign", "spring"),
                            ("seat", "s1")]
    assert feed(m, acd.set_membership("s1", ["campaign-spring"], T + 11)) == {
        ("seat", "s1"), ("queue", "sales"), ("queue", "campaign-spring"), ("campaign", "spring")}
    m.apply("dialer.dial", T + 12, {"campaign": "spring", "call": "d1", "ts": T + 12})
    view = m.campaign("spring", T + 13)
    assert pick(view, "dials", "in_flight", "target_abandon", "seats") == (
        1, 1, 0.02, {"busy": 0, "idle": 1})
    assert m.queue("campaign-spring", T + 13)["sl_threshold_s"] == 1.5
    assert m.add_campaign(spring) == {("campaign", "spring")}  # known: nothing reset
    assert m.campaign("spring", T + 13) == view
    m.replace_campaign(CampaignSpec("spring", 0.01, DropFormula.ANSWERS))
    assert pick(m.campaign("spring", T + 13), "dials", "in_flight", "target_abandon", "seats") == (
        1, 1, 0.01, {"busy": 0, "idle": 1})
    assert "campaign-spring" not in m.board(T + 13)["campaigns"]
    assert list(m.board(T + 13)["campaigns"]) == ["spring"]


def test_a_deleted_campaign_leaves_the_board_with_its_queue() -> None:
    acd, m = floor()
    spring = Campaign(id="spring", caller_id="+12125550100")
    (queue,) = campaign_queues([spring])
    acd.add_queue(queue, T + 10)
    m.add_queue(queue)
    m.add_campaign(spring)
    feed(m, acd.set_membership("s1", ["sales", "campaign-spring"], T + 11))
    assert m.seat("s1", T + 11)["queues"] == ["campaign-spring", "sales"]
    changed = feed(m, acd.remove_queue("campaign-spring", T + 12, by="lead1"))
    assert changed == {("seat", "s1"), ("queue", "sales"), ("queue", "campaign-spring"), ("campaign", "spring")}
    assert m.remove_campaign("spring") == {("campaign", "spring"), ("queue", "campaign-spring")}
    assert m.subjects() == [("queue", "sales"), ("seat", "s1")]
    board = m.board(T + 13)
    assert (list(board["queues"]), board["campaigns"], board["seats"]["s1"]["queues"]) == (["sales"], {}, ["sales"])
    assert pick(m.queue("sales", T + 13), "seats")[0] == {**EMPTY_SEATS, "ready": 1}
    with pytest.raises(CampaignNotFound, match="no campaign 'spring' on the board"):
        m.remove_campaign("spring")
