"""A campaign's pacer resumes from its own history: its recent closed attempts, replayed.

After a restart (or the next morning) a fresh :class:`~dialer.pacing.Pacer` knows only generic
priors. :func:`replay` feeds it the campaign's ledger, each fact in the order it happened, as the
runtime (``callfloor/dialer_runtime.py``) fed them live:

* a dial ended without a 2xx: ``observe_dial(closed - created, False)`` at its close; a dial that
  pacing cancelled after ``min_ring`` (``no_answer`` with SIP status 487) is
  ``observe_cancelled(closed - created)`` instead; one never sent (no SIP status) taught nothing;
* a live answer: ``observe_dial(answered - created, True)`` at the answer; then connected (at the
  connect) or abandoned (``grace`` after the answer, or at the close if sooner) walk the
  controller's theta; a connected call adds ``observe_talk(closed - connected)`` and
  ``observe_wrap(wrap_up)`` at its close;
* a machine: ``observe_dial(answered - created, False)`` at the answer.

What the ledger lacks is replaced by the nearest fact it keeps (docs/dialer.md, "Resuming from
history"): a dial's age counts from the attempt's commit (``created_at``), a few milliseconds before
the INVITE the runtime timed from; with AMD the answer's time is the 2xx, not the verdict; live,
the controller's gain used the seats logged in at the time, here the campaign's assigned seats.
Attempts still open and those closed as ``lost`` are skipped. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from dialer.campaign import Campaign
from dialer.pacing import Pacer
from dialer.records import AttemptRow

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_WINDOW",
    "HistoryError",
    "ReplayContext",
    "WarmSummary",
    "estimates",
    "recent",
    "replay",
]

DEFAULT_WINDOW = 7 * 86400.0  # seconds of history replayed
DEFAULT_LIMIT = 5000  # at most this many attempts, the newest
PACED_OUT_STATUS = 487  # a dial cancelled by callfloor while it rang (see dialer_calls.PACED_OUT)


class HistoryError(ValueError):
    """A ledger row that cannot be replayed (names the attempt and the field)."""


class _Fact(IntEnum):
    FAILED = 0
    CANCELLED = 1
    LIVE = 2
    CONNECTED = 3
    ABANDONED = 4
    TALK = 5


@dataclass(frozen=True, slots=True)
class ReplayContext:
    """The campaign facts the runtime used live that the ledger does not keep."""

    seats: int  # the controller's gain depends on the campaign's size
    target_abandon: float = 0.03
    wrap_up: float = 15.0
    grace: float = 2.0
    amd: bool = False  # the campaign detects machines: an answer without a verdict was never live
    uncontrolled: float = 0.0  # the AMD false-positive allowance of the rate (UK formula)

    @classmethod
    def of(cls, campaign: Campaign, seats: int, uncontrolled: float = 0.0) -> ReplayContext:
        """The context of ``campaign`` with ``seats`` assigned."""
        return cls(seats, campaign.target_abandon, campaign.wrap_up, campaign.grace,
                   campaign.amd.action != "off", uncontrolled)


@dataclass(frozen=True, slots=True)
class WarmSummary:
    """What a replay taught a pacer, for the log and the API."""

    attempts: int  # attempts whose facts were replayed
    live_answers: int
    answer_rate: float
    talk_mean: float
    theta: float

    def __str__(self) -> str:
        return (f"{self.attempts} attempts replayed, {self.live_answers} live answers: answer rate"
                f" {self.answer_rate:.3f}, talk {self.talk_mean:.0f} s, theta {self.theta:.4f}")


def estimates(pacer: Pacer) -> dict[str, float]:
    """The pacer's current answer rate, mean talk time and accepted abandonment price."""
    return {"answer_rate": pacer.dials.answer.value, "talk_mean": pacer.seats.talk.mean,
            "theta": pacer.controller.theta}


def recent(attempts: Iterable[AttemptRow], now: float, window: float = DEFAULT_WINDOW,
           limit: int = DEFAULT_LIMIT) -> list[AttemptRow]:
    """The closed attempts created in the ``window`` s before ``now``, the newest ``limit``."""
    since = now - window
    kept = [a for a in attempts if a.state == "closed" and since < a.created_at <= now]
    kept.sort(key=lambda a: (a.created_at, a.id))
    return kept[-limit:] if limit > 0 else []


def replay(pacer: Pacer, attempts: Iterable[AttemptRow], context: ReplayContext, *, now: float,
           window: float = DEFAULT_WINDOW, limit: int = DEFAULT_LIMIT) -> WarmSummary:
    """Feed ``pacer`` the facts of the campaign's recent closed attempts (any order in), in the
    order they happened. Every row is checked before the pacer learns anything."""
    facts: list[tuple[float, int, int, _Fact, float]] = []
    replayed = 0
    for attempt in recent(attempts, now, window, limit):
        found = _facts(attempt, context)
        facts += found
        replayed += bool(found)
    facts.sort(key=lambda f: f[:3])
    live = 0
    for _, _, _, fact, value in facts:
        live += fact is _Fact.LIVE
        _apply(pacer, fact, value, context)
    est = estimates(pacer)
    return WarmSummary(replayed, live, est["answer_rate"], est["talk_mean"], est["theta"])


def _facts(a: AttemptRow, ctx: ReplayContext) -> list[tuple[float, int, int, _Fact, float]]:
    """(time, attempt, step, fact, value) of each observation the runtime made for ``a``."""
    if a.outcome is None or a.outcome == "lost":
        return []  # lost: the process died with the call; whatever it learnt died with it
    if a.closed_at is None:
        raise HistoryError(f"attempt {a.id}: closed_at missing on a closed attempt")
    closed = a.closed_at
    if a.answered_at is None:
        if a.connected_at is not None:
            raise HistoryError(f"attempt {a.id}: connected_at without answered_at")
        if a.sip_status is None:
            return []  # never sent (refused by the engine): nothing observed
        paced = a.outcome == "no_answer" and a.sip_status == PACED_OUT_STATUS
        return [(closed, a.id, 0, _Fact.CANCELLED if paced else _Fact.FAILED, closed - a.created_at)]
    answered, age = a.answered_at, a.answered_at - a.created_at
    if a.outcome == "machine":
        return [(answered, a.id, 0, _Fact.FAILED, age)]
    if ctx.amd and a.amd is None:
        return []  # the customer left before the verdict: neither live nor a machine
    out = [(answered, a.id, 0, _Fact.LIVE, age)]
    if a.connected_at is not None:
        out.append((a.connected_at, a.id, 1, _Fact.CONNECTED, 0.0))
        out.append((closed, a.id, 2, _Fact.TALK, closed - a.connected_at))
    elif a.outcome == "abandoned":
        out.append((min(answered + ctx.grace, closed), a.id, 1, _Fact.ABANDONED, 0.0))
    return out


def _apply(pacer: Pacer, fact: _Fact, value: float, ctx: ReplayContext) -> None:
    if fact is _Fact.FAILED or fact is _Fact.LIVE:
        pacer.observe_dial(value, fact is _Fact.LIVE)
    elif fact is _Fact.CANCELLED:
        pacer.observe_cancelled(value)
    elif fact is _Fact.TALK:
        pacer.observe_talk(value)
        pacer.observe_wrap(ctx.wrap_up)
    elif fact is _Fact.ABANDONED:
        pacer.observe_abandoned(ctx.target_abandon, seats=ctx.seats, uncontrolled=ctx.uncontrolled)
    else:
        pacer.observe_connected(ctx.target_abandon, seats=ctx.seats, uncontrolled=ctx.uncontrolled)
