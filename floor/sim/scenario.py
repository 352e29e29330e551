"""Blended-floor scenarios: inbound queues, outbound campaigns, seats and the watcher policy.

A TOML file (every key in docs/watcher.md, example ``config/scenarios/floor/example.toml``),
parsed here from a dict and validated; errors name the source and the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floor.errors import ConfigError
from floor.watcher_policy import PolicyError, WatcherPolicy, parse_policy

__all__ = ["CampaignSpec", "FloorScenario", "InboundSpec", "ScenarioError", "SeatGroup",
           "load_floor_scenario", "parse_floor_scenario"]


class ScenarioError(ConfigError):
    """A floor scenario key is missing or invalid; the message names the source and the key."""


@dataclass(frozen=True, slots=True)
class InboundSpec:
    """An inbound queue: its arrival profile (calls/hour from each hour offset), times, patience."""

    id: str
    rates: tuple[tuple[float, float], ...]  # (from hour, calls per hour), piecewise constant
    talk_mean: float
    talk_cv: float  # lognormal; ``talk_dist = "exponential"`` sets cv to 1
    exponential: bool
    wrap_up: float
    patience: float  # mean, exponential
    sl_threshold: float

    def rate_at(self, hour: float) -> float:
        """Arrivals per second at ``hour`` hours into the day."""
        per_hour = 0.0
        for start, value in self.rates:
            if start <= hour:
                per_hour = value
        return per_hour / 3600.0

    def mean_rate(self, start_h: float, end_h: float) -> float:
        """Mean arrivals per second over ``[start_h, end_h)``."""
        edges = sorted({start_h, end_h, *(s for s, _ in self.rates if start_h < s < end_h)})
        total = sum(self.rate_at(a) * (b - a) for a, b in zip(edges, edges[1:], strict=False))
        return total / (end_h - start_h)


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """An outbound campaign, as the dialer simulator's scenario has it."""

    id: str
    mode: str
    target_abandon: float
    answer_rate: float
    ring_time: tuple[float, float]
    no_answer_time: tuple[float, float]
    talk_mean: float
    talk_cv: float
    wrap_up: float
    grace: float


@dataclass(frozen=True, slots=True)
class SeatGroup:
    """``count`` seats with the same home and skills, named ``<prefix>-01`` ..."""

    count: int
    home: str
    skills: Mapping[str, int]
    prefix: str


@dataclass(frozen=True, slots=True)
class FloorScenario:
    """A validated blended-floor scenario."""

    name: str
    hours: float
    watch_every_s: float
    queues: tuple[InboundSpec, ...]
    campaigns: tuple[CampaignSpec, ...]
    seats: tuple[SeatGroup, ...]
    policy: WatcherPolicy

    @property
    def seat_count(self) -> int:
        """All seats of the floor."""
        return sum(g.count for g in self.seats)


class _R:
    def __init__(self, data: Any, source: str, prefix: str, known: set[str]) -> None:
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{source}: {prefix.rstrip('.') or 'scenario'}: must be a table")
        self.data, self.source, self.prefix = data, source, prefix
        unknown = sorted(set(data) - known)
        if unknown:
            raise self.fail(unknown[0], f"unknown key (expected one of {', '.join(sorted(known))})")

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {self.prefix}{key}: {problem}")

    def num(self, key: str, low: float, high: float, default: float | None = None, *,
            value: Any = None, low_open: bool = False) -> float:
        v = value if value is not None else self.data.get(key, default)
        if v is None:
            raise self.fail(key, "missing")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(key, f"must be a number, not {v!r}")
        if (v <= low if low_open else v < low) or v > high:
            raise self.fail(key, f"must be in {'(' if low_open else '['}{low:g}, {high:g}], not {v!r}")
        return float(v)

    def text(self, key: str, default: str | None = None) -> str:
        v = self.data.get(key, default)
        if not isinstance(v, str) or not v:
            raise self.fail(key, "missing" if v is None else f"must be a non-empty string, not {v!r}")
        return v

    def pair(self, key: str, names: tuple[str, str], default: tuple[float, float] | None = None
             ) -> tuple[float, float]:
        v = self.data.get(key)
        if v is None and default is not None:
            return default
        if not isinstance(v, Mapping) or set(v) != set(names):
            raise self.fail(key, f"must be a table {{ {names[0]} = ..., {names[1]} = ... }}")
        a = self.num(f"{key}.{names[0]}", 0.0, 86400.0, value=v[names[0]])
        b = self.num(f"{key}.{names[1]}", 0.0, 86400.0, value=v[names[1]])
        return a, b


def _queue(data: Any, source: str, i: int, hours: float) -> InboundSpec:
    r = _R(data, source, f"queue[{i}].", {"id", "rates", "talk_time", "talk_dist", "wrap_up_s",
                                           "patience_s", "sl_threshold_s"})
    rates = data.get("rates")
    if not isinstance(rates, list) or not rates:
        raise r.fail("rates", "must be a list of [from_hour, calls_per_hour] pairs")
    parsed: list[tuple[float, float]] = []
    for j, item in enumerate(rates):
        if not isinstance(item, list) or len(item) != 2:
            raise r.fail(f"rates[{j}]", f"must be [from_hour, calls_per_hour], not {item!r}")
        start = r.num(f"rates[{j}][0]", 0.0, hours, value=item[0])
        if parsed and start <= parsed[-1][0]:
            raise r.fail(f"rates[{j}][0]", "hours must increase")
        parsed.append((start, r.num(f"rates[{j}][1]", 0.0, 1e6, value=item[1])))
    if parsed[0][0] != 0:
        raise r.fail("rates[0][0]", "the profile must start at hour 0")
    mean, cv = r.pair("talk_time", ("mean", "cv"))
    dist = r.text("talk_dist", "lognormal")
    if dist not in ("lognormal", "exponential"):
        raise r.fail("talk_dist", f"must be 'lognormal' or 'exponential', not {dist!r}")
    if mean <= 0 or cv <= 0:
        raise r.fail("talk_time", "mean and cv must be > 0")
    return InboundSpec(r.text("id"), tuple(parsed), mean, 1.0 if dist == "exponential" else cv,
                       dist == "exponential", r.num("wrap_up_s", 0.0, 3600.0, 0.0),
                       r.num("patience_s", 0.0, 86400.0, 120.0, low_open=True),
                       r.num("sl_threshold_s", 0.0, 3600.0, 20.0, low_open=True))


def _campaign(data: Any, source: str, i: int) -> CampaignSpec:
    r = _R(data, source, f"campaign[{i}].", {"id", "mode", "target_abandon", "answer_rate",
                                              "ring_time", "no_answer_time", "talk_time",
                                              "wrap_up_s", "grace_s"})
    mode = r.text("mode", "predictive")
    if mode not in ("predictive", "progressive"):
        raise r.fail("mode", f"must be 'predictive' or 'progressive', not {mode!r}")
    talk = r.pair("talk_time", ("mean", "cv"), (120.0, 1.0))
    if talk[0] <= 0 or talk[1] <= 0:
        raise r.fail("talk_time", "mean and cv must be > 0")
    ring, no_answer = r.pair("ring_time", ("min", "max"), (4.0, 20.0)), \
        r.pair("no_answer_time", ("min", "max"), (4.0, 25.0))
    for key, (lo, hi) in (("ring_time", ring), ("no_answer_time", no_answer)):
        if hi < lo or hi <= 0:
            raise r.fail(key, "max must be >= min and > 0")
    return CampaignSpec(r.text("id"), mode, r.num("target_abandon", 0.0, 0.03, 0.03, low_open=True),
                        r.num("answer_rate", 0.0, 1.0, 0.25, low_open=True), ring, no_answer,
                        talk[0], talk[1], r.num("wrap_up_s", 0.0, 3600.0, 15.0),
                        r.num("grace_s", 0.0, 60.0, 2.0))


def _seats(data: Any, source: str, i: int, homes: set[str]) -> SeatGroup:
    r = _R(data, source, f"seats[{i}].", {"count", "home", "skills", "prefix"})
    count = data.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10_000:
        raise r.fail("count", f"must be a whole number from 1 to 10000, not {count!r}")
    home = r.text("home")
    if home not in homes:
        raise r.fail("home", f"{home!r} is not one of {', '.join(sorted(homes))}")
    skills = data.get("skills", {})
    if not isinstance(skills, Mapping) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in skills.values()):
        raise r.fail("skills", "must be a table of skill = level (whole numbers >= 0)")
    return SeatGroup(count, home, dict(skills), r.text("prefix", f"g{i + 1}"))


def parse_floor_scenario(data: Mapping[str, Any], source: str = "<scenario>") -> FloorScenario:
    """Validate a parsed scenario; ``source`` (the file name) prefixes every error."""
    r = _R(data, source, "", {"name", "hours", "watch_every_s", "queue", "campaign", "seats", "watcher"})
    hours = r.num("hours", 0.0, 48.0, low_open=True)
    for key in ("queue", "seats"):
        if not isinstance(data.get(key), list) or not data[key]:
            raise r.fail(key, f"needs at least one [[{key}]] table")
    if not isinstance(data.get("campaign", []), list):
        raise r.fail("campaign", "must be an array of tables ([[campaign]])")
    queues = tuple(_queue(q, source, i, hours) for i, q in enumerate(data["queue"]))
    campaigns = tuple(_campaign(c, source, i) for i, c in enumerate(data.get("campaign", [])))
    homes = {f"queue:{q.id}" for q in queues} | {f"campaign:{c.id}" for c in campaigns}
    if len(homes) != len(queues) + len(campaigns):
        raise r.fail("queue", "two queues or campaigns share an id")
    seats = tuple(_seats(g, source, i, homes) for i, g in enumerate(data["seats"]))
    if len({g.prefix for g in seats}) != len(seats):
        raise r.fail("seats", "two seat groups share a prefix")
    try:
        policy = parse_policy(data.get("watcher", {}), f"{source}: watcher")
    except PolicyError as exc:
        raise ScenarioError(str(exc)) from None
    for i, rule in enumerate(policy.rules):
        for c in (*rule.lend_from, *rule.lend_out_to):
            if f"campaign:{c}" not in homes:
                raise ScenarioError(f"{source}: watcher: queue[{i}]: no campaign {c!r}")
        if f"queue:{rule.queue}" not in homes:
            raise ScenarioError(f"{source}: watcher: queue[{i}].queue: no queue {rule.queue!r}")
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str):
        raise r.fail("name", "must be a string")
    return FloorScenario(name, hours, r.num("watch_every_s", 0.0, 3600.0, 15.0, low_open=True),
                         queues, campaigns, seats, policy)


def load_floor_scenario(path: Path | str) -> FloorScenario:
    """Read and validate a scenario file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    return parse_floor_scenario(data, str(path))
