"""What the simulated agents report: events for the demo's printout and per-call results.

Busy, no answer, cancelled and timed out are results with a status, never exceptions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["AgentStats", "CallResult", "EventHandler", "EventKind", "SimEvent", "TrafficReport"]


class EventKind(StrEnum):
    """The kinds of :class:`SimEvent`."""

    REGISTERED = "registered"
    REGISTER_FAILED = "register-failed"
    UNREGISTERED = "unregistered"
    INCOMING = "incoming"
    RINGING = "ringing"
    ANSWERED = "answered"
    MEDIA = "media"
    DTMF = "dtmf"
    ENDED = "ended"


@dataclass(frozen=True)
class SimEvent:
    """Something a simulated agent did or saw; ``at`` is the event loop's clock."""

    agent: str
    kind: EventKind
    at: float
    call_id: str = ""
    remote: str = ""
    status: int | None = None
    detail: str = ""


EventHandler = Callable[[SimEvent], None]


@dataclass(frozen=True)
class CallResult:
    """How one call went, from one agent's side.

    ``status`` is the final status of the INVITE (200 when answered, 487 when cancelled, 408 when
    nothing answered); ``setup_time`` runs from the INVITE to the 2xx, ``duration`` from the 2xx
    to the end; ``ended_by`` is "local", "remote", "cancel", "timeout" or "error".
    """

    call_id: str
    direction: str
    remote: str
    status: int
    answered: bool
    setup_time: float | None
    ring_time: float | None
    duration: float
    packets_sent: int
    packets_received: int
    ended_by: str
    reason: str
    dtmf: str = ""


@dataclass(frozen=True)
class AgentStats:
    """Totals over every call an agent has finished, plus the calls still live."""

    calls: int = 0
    answered: int = 0
    failed: int = 0
    active: int = 0
    packets_sent: int = 0
    packets_received: int = 0

    def plus(self, result: CallResult) -> AgentStats:
        """These totals with one more finished call."""
        return AgentStats(
            calls=self.calls + 1,
            answered=self.answered + int(result.answered),
            failed=self.failed + int(not result.answered),
            active=self.active,
            packets_sent=self.packets_sent + result.packets_sent,
            packets_received=self.packets_received + result.packets_received,
        )


@dataclass(frozen=True)
class TrafficReport:
    """What :meth:`SimCarrier.run_traffic` did: arrivals, calls placed, arrivals over the limit."""

    offered: int
    placed: int
    skipped: int
    results: tuple[CallResult, ...]

    @property
    def answered(self) -> int:
        """Calls that were answered."""
        return sum(1 for r in self.results if r.answered)
