"""The queue-watcher's policy: parsed from TOML (a dict in), validated, frozen.

Every key is described in ``docs/watcher.md`` and shown in ``config/watcher.toml``. A bad key or
value raises :class:`PolicyError` naming the source and the key (``watcher.toml: queue[0].
trigger_sl: must be in (0, 1], not 1.5``). Pure: no file is read here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from floor.errors import ConfigError

__all__ = ["Model", "PolicyError", "QueueRule", "WatcherMode", "WatcherPolicy", "parse_policy"]


class PolicyError(ConfigError):
    """A watcher policy key is missing or invalid; the message names the source and the key."""


class WatcherMode(StrEnum):
    """How the watcher decides how many seats a queue should have."""

    OFF = "off"  # never moves a seat
    RULES = "rules"  # thresholds with hysteresis: lend on trouble, return once healthy
    ERLANG = "erlang"  # forecast: the seats Erlang C / A says the queue needs, the rest outbound


class Model(StrEnum):
    """The staffing formula of the forecasting mode."""

    ERLANG_C = "erlang-c"
    ERLANG_A = "erlang-a"


@dataclass(frozen=True, slots=True)
class QueueRule:
    """What the watcher does for one inbound queue (see docs/watcher.md for each field)."""

    id: str
    queue: str
    skill: str
    min_level: int
    lend_from: tuple[str, ...]  # campaign ids, in the order seats are borrowed
    lend_out_to: tuple[str, ...]  # campaign ids that get the queue's spare home seats (erlang mode)
    max_lent: int
    lend_step: int
    step_every_s: float
    trigger_sl: float | None
    trigger_longest_wait_s: float | None
    recover_sl: float
    recover_longest_wait_s: float
    healthy_for_s: float
    target_sl: float
    sl_threshold_s: float
    model: Model
    patience_s: float
    min_seats: int
    spare_margin: int


@dataclass(frozen=True, slots=True)
class WatcherPolicy:
    """The whole policy: the mode, the anti-flapping limits and one rule per inbound queue."""

    mode: WatcherMode
    min_dwell_s: float
    max_moves_per_minute: int
    rules: tuple[QueueRule, ...]

    def with_mode(self, mode: WatcherMode | str) -> WatcherPolicy:
        """The same policy in another mode."""
        return WatcherPolicy(WatcherMode(mode), self.min_dwell_s, self.max_moves_per_minute, self.rules)


TOP_KEYS = {"mode", "min_dwell_s", "max_moves_per_minute", "queue"}
QUEUE_KEYS = {"id", "queue", "skill", "min_level", "lend_from", "lend_out_to", "max_lent",
              "lend_step", "step_every_s", "trigger_sl", "trigger_longest_wait_s", "recover_sl",
              "recover_longest_wait_s", "healthy_for_s", "target_sl", "sl_threshold_s", "model",
              "patience_s", "min_seats", "spare_margin"}


class _Reader:
    """Reads one table's keys; errors name ``source: prefix.key``."""

    def __init__(self, data: Mapping[str, Any], source: str, prefix: str, known: set[str]) -> None:
        self.data, self.source, self.prefix = data, source, prefix
        unknown = sorted(set(data) - known)
        if unknown:
            raise self.fail(unknown[0], f"unknown key (expected one of {', '.join(sorted(known))})")

    def fail(self, key: str, problem: str) -> PolicyError:
        return PolicyError(f"{self.source}: {self.prefix}{key}: {problem}")

    def number(self, key: str, default: float | None, low: float, high: float, *,
               low_open: bool = False) -> float:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(key, f"must be a number, not {value!r}")
        if (value <= low if low_open else value < low) or value > high:
            raise self.fail(key, f"must be in {'(' if low_open else '['}{low:g}, {high:g}], not {value!r}")
        return float(value)

    def optional(self, key: str, default: float | None, low: float, high: float) -> float | None:
        if key in self.data and self.data[key] is False:
            return None  # ``false`` turns a trigger off
        if key not in self.data and default is None:
            return None
        return self.number(key, default, low, high, low_open=True)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"must be a whole number from {low} to {high}, not {value!r}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def names(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, f"must be a list of campaign ids, not {value!r}")
        names = tuple(v.strip().removeprefix("campaign:") for v in value)
        if len(set(names)) != len(names):
            raise self.fail(key, "names a campaign twice")
        return names

    def choice(self, key: str, allowed: Sequence[str], default: str) -> str:
        value = self.data.get(key, default)
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(repr(a) for a in allowed)}, not {value!r}")
        return str(value)


def _rule(data: Any, source: str, index: int) -> QueueRule:
    if not isinstance(data, Mapping):
        raise PolicyError(f"{source}: queue[{index}]: must be a table ([[queue]])")
    r = _Reader(data, source, f"queue[{index}].", QUEUE_KEYS)
    queue = r.text("queue").removeprefix("queue:")
    trigger_sl = r.optional("trigger_sl", 0.8, 0.0, 1.0)
    recover_sl = r.number("recover_sl", max(trigger_sl or 0.0, 0.9), 0.0, 1.0)
    if trigger_sl is not None and recover_sl < trigger_sl:
        raise r.fail("recover_sl", f"must be >= trigger_sl ({trigger_sl:g}): hysteresis")
    trigger_wait = r.optional("trigger_longest_wait_s", 60.0, 0.0, 86400.0)
    recover_wait = r.number("recover_longest_wait_s", min(trigger_wait or 20.0, 20.0), 0.0, 86400.0)
    if trigger_wait is not None and recover_wait > trigger_wait:
        raise r.fail("recover_longest_wait_s", f"must be <= trigger_longest_wait_s ({trigger_wait:g})")
    lend_from = r.names("lend_from")
    return QueueRule(
        id=r.text("id", queue), queue=queue, skill=r.text("skill", queue),
        min_level=r.integer("min_level", 1, 0, 1000), lend_from=lend_from,
        lend_out_to=r.names("lend_out_to"),
        max_lent=r.integer("max_lent", 1000, 0, 100_000),
        lend_step=r.integer("lend_step", 1, 1, 1000),
        step_every_s=r.number("step_every_s", 60.0, 0.0, 86400.0),
        trigger_sl=trigger_sl, trigger_longest_wait_s=trigger_wait,
        recover_sl=recover_sl, recover_longest_wait_s=recover_wait,
        healthy_for_s=r.number("healthy_for_s", 600.0, 0.0, 86400.0),
        target_sl=r.number("target_sl", trigger_sl or 0.8, 0.0, 1.0, low_open=True),
        sl_threshold_s=r.number("sl_threshold_s", 20.0, 0.0, 3600.0, low_open=True),
        model=Model(r.choice("model", [m.value for m in Model], Model.ERLANG_A.value)),
        patience_s=r.number("patience_s", 120.0, 0.0, 86400.0, low_open=True),
        min_seats=r.integer("min_seats", 1, 0, 100_000),
        spare_margin=r.integer("spare_margin", 1, 0, 1000),
    )


def parse_policy(data: Mapping[str, Any], source: str = "<watcher policy>") -> WatcherPolicy:
    """Validate a parsed TOML policy; ``source`` (the file name) prefixes every error."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"{source}: must be a table of keys")
    r = _Reader(data, source, "", TOP_KEYS)
    queues = data.get("queue", [])
    if not isinstance(queues, list):
        raise r.fail("queue", "must be an array of tables ([[queue]])")
    rules = tuple(_rule(q, source, i) for i, q in enumerate(queues))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.queue in seen:
            raise PolicyError(f"{source}: queue[{i}].queue: {rule.queue} has two rules")
        seen.add(rule.queue)
    if len({rule.id for rule in rules}) != len(rules):
        raise r.fail("queue", "two rules share an id")
    return WatcherPolicy(
        mode=WatcherMode(r.choice("mode", [m.value for m in WatcherMode], WatcherMode.RULES.value)),
        min_dwell_s=r.number("min_dwell_s", 300.0, 0.0, 86400.0),
        max_moves_per_minute=r.integer("max_moves_per_minute", 6, 1, 10_000),
        rules=rules,
    )
