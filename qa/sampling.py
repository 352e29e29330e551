"""The daily QA sample: per seat, a stratified random sample of the day's calls.

Design (docs/qa.md): each seat's calls of the day are split into two strata, ``risk`` (a call
with any risk flag: analytics such as dead air or overtalk, a complaint, a short call, a low
survey score) and ``random`` (the rest). The seat's quota ``n`` (higher in its first weeks) is
allocated ``round(n * risk_share)`` to risk and the remainder to random, moved to the other
stratum when one runs short, and at least one pick for each stratum that has calls (so every
call has a positive chance). Within a stratum of ``N_h`` calls, ``n_h`` are drawn by simple
random sampling without replacement: each call's inclusion probability is exactly
``n_h / N_h``. The draw is reproducible: seat by seat, from ``Random(f"{seed}:{day}:{seat}")``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "RISK_FLAGS",
    "CallFacts",
    "DailySample",
    "Pick",
    "SamplingPolicy",
    "Stratum",
    "allocate",
    "draw_daily",
    "risk_flags",
    "seat_quota",
]

Stratum = Literal["risk", "random"]
# Flags other parts of the floor set on a call (recordings analytics, complaints); the sampler
# adds short_call and low_survey itself from the call record.
RISK_FLAGS = ("dead_air", "overtalk", "agent_dominates", "long_hold", "clipping", "complaint",
              "short_call", "low_survey")


class SamplingPolicy(BaseModel):
    """How many calls per seat and day, and what makes a call risky."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quota: int = Field(default=4, ge=1, le=1000, description="Calls sampled per seat and day.")
    new_seat_quota: int = Field(default=8, ge=1, le=1000, description="Calls per day for a seat in its first new_seat_weeks.")
    new_seat_weeks: int = Field(default=4, ge=0, description="How long a seat counts as new, from seat_started.")
    risk_share: float = Field(default=0.5, ge=0, le=1, description="Share of the quota drawn from risk-flagged calls.")
    short_call_s: float = Field(default=30.0, ge=0, description="An answered call shorter than this is flagged short_call.")
    low_survey_score: int = Field(default=2, description="A survey score at or below this is flagged low_survey.")
    risk_flags: tuple[str, ...] = Field(default=RISK_FLAGS, description="Flags that put a call in the risk stratum.")
    seat_started: dict[str, date] = Field(default_factory=dict, description="First working day per seat id (for the new-seat quota).")


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the sampler knows of one answered call."""

    call: str
    seat: str
    team: str | None
    started_at: float
    duration_s: float
    survey_score: int | None = None
    flags: frozenset[str] = field(default_factory=frozenset)  # from analytics / complaints


@dataclass(frozen=True, slots=True)
class Pick:
    """One sampled call with its stratum and exact inclusion probability n_h / N_h."""

    call: str
    seat: str
    team: str | None
    stratum: Stratum
    stratum_size: int  # N_h: the seat's calls of the day in this stratum
    drawn: int  # n_h: how many of them were drawn
    flags: frozenset[str]

    @property
    def probability(self) -> float:
        """The inclusion probability."""
        return self.drawn / self.stratum_size

    @property
    def weight(self) -> float:
        """The inverse-probability weight N_h / n_h."""
        return self.stratum_size / self.drawn


@dataclass(frozen=True, slots=True)
class DailySample:
    """The day's sample: the picks, seat by seat, and how many calls each seat had."""

    day: date
    seed: int
    picks: tuple[Pick, ...]
    calls: Mapping[str, int]  # seat -> the day's calls

    def for_seat(self, seat: str) -> tuple[Pick, ...]:
        """The seat's picks."""
        return tuple(p for p in self.picks if p.seat == seat)


def risk_flags(call: CallFacts, policy: SamplingPolicy) -> frozenset[str]:
    """The call's flags that count as risk: its own plus short_call and low_survey."""
    flags = set(call.flags)
    if call.duration_s < policy.short_call_s:
        flags.add("short_call")
    if call.survey_score is not None and call.survey_score <= policy.low_survey_score:
        flags.add("low_survey")
    return frozenset(flags & set(policy.risk_flags))


def seat_quota(seat: str, day: date, policy: SamplingPolicy) -> int:
    """The seat's quota on ``day``: new_seat_quota in its first new_seat_weeks, else quota."""
    started = policy.seat_started.get(seat)
    if started is not None and started <= day < started + timedelta(weeks=policy.new_seat_weeks):
        return policy.new_seat_quota
    return policy.quota


def allocate(quota: int, risky: int, rest: int, risk_share: float) -> tuple[int, int]:
    """(n_risk, n_random) for strata of ``risky`` and ``rest`` calls.

    Sizes never exceed the strata; a stratum short of its share passes the remainder to the
    other; a stratum with calls gets at least one pick, taken from the other stratum's share
    (with a quota of 1 and both strata non-empty, two calls are drawn: an unsampled stratum
    would bias every estimate).
    """
    n_risk = min(risky, int(quota * risk_share + 0.5))
    n_rest = min(rest, quota - n_risk)
    n_risk = min(risky, quota - n_rest)
    if risky and not n_risk:
        n_risk, n_rest = 1, max(min(n_rest, 1), n_rest - 1)
    if rest and not n_rest:
        n_rest, n_risk = 1, max(min(n_risk, 1), n_risk - 1)
    return n_risk, n_rest


def draw_daily(calls: Iterable[CallFacts], *, day: date, policy: SamplingPolicy, seed: int) -> DailySample:
    """Draw the day's sample from the day's answered calls; the same inputs give the same picks."""
    by_seat: dict[str, list[CallFacts]] = defaultdict(list)
    for call in calls:
        by_seat[call.seat].append(call)
    picks: list[Pick] = []
    for seat in sorted(by_seat):
        seat_calls = sorted(by_seat[seat], key=lambda c: (c.started_at, c.call))
        picks += _draw_seat(seat, seat_calls, day, policy, random.Random(f"{seed}:{day.isoformat()}:{seat}"))
    return DailySample(day, seed, tuple(picks), {s: len(c) for s, c in sorted(by_seat.items())})


def _draw_seat(seat: str, calls: list[CallFacts], day: date, policy: SamplingPolicy,
               rng: random.Random) -> list[Pick]:
    flagged = [(c, risk_flags(c, policy)) for c in calls]
    risky = [(c, f) for c, f in flagged if f]
    rest = [(c, f) for c, f in flagged if not f]
    n_risk, n_rest = allocate(seat_quota(seat, day, policy), len(risky), len(rest), policy.risk_share)
    out: list[Pick] = []
    stratum: Stratum
    for stratum, members, n in (("risk", risky, n_risk), ("random", rest, n_rest)):
        for call, flags in sorted(rng.sample(members, n), key=lambda m: (m[0].started_at, m[0].call)):
            out.append(Pick(call.call, seat, call.team, stratum, len(members), n, flags))
    return out
