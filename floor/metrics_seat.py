"""One seat on the board, rebuilt from ``seat.*`` and ``queue.*`` events alone.

The state is exactly what the last ``seat.state`` event said (presence, call state, reason, call;
the state began at that event's time), so a replay of the log gives the same seat as the ACD has:
no seat can be left stuck in a state the ACD has left.
"""

from __future__ import annotations

from typing import Any

from floor.metrics_model import BadEvent, Payload, SeatSpec, opt_str, req_str
from floor.states import Presence, SeatCallState

__all__ = ["BUCKETS", "SeatFigures"]

# The seat-by-state buckets of a queue tile, in display order.
BUCKETS = ("ready", "ringing", "talking", "wrap_up", "paused", "logged_out")


class SeatFigures:
    """A seat's state, availability, memberships and today's calls and talk time."""

    def __init__(self, spec: SeatSpec) -> None:
        self.spec = spec
        self.presence = Presence.LOGGED_OUT
        self.call_state = SeatCallState.IDLE
        self.reason: str | None = None
        self.call: str | None = None
        self.since: float | None = None  # unknown until the first seat.state event
        self.reachable = False
        self.busy_elsewhere = False
        self.lent_to: str | None = None
        self.queues: frozenset[str] = frozenset(spec.queues)
        self.day: float | None = None
        self.calls = 0
        self.talk = 0.0

    @property
    def id(self) -> str:
        """The seat id."""
        return self.spec.id

    def set_state(self, kind: str, at: float, payload: Payload) -> None:
        """A ``seat.state`` event: the new state began at ``at``."""
        presence = _enum(Presence, kind, payload, "presence")
        call_state = _enum(SeatCallState, kind, payload, "call_state")
        reason, call = opt_str(kind, payload, "reason"), opt_str(kind, payload, "call")
        self.presence, self.call_state, self.reason, self.call = presence, call_state, reason, call
        self.since = at

    def restart(self, at: float) -> None:
        """The service started at ``at``: logged out, unreachable, in the configured queues."""
        self.presence, self.call_state, self.reason, self.call = (
            Presence.LOGGED_OUT, SeatCallState.IDLE, None, None)
        self.since = at
        self.reachable, self.busy_elsewhere, self.lent_to = False, False, None
        self.queues = frozenset(self.spec.queues)

    def answered(self, day: float) -> None:
        """The seat answered a queue call (counted on the day it was answered)."""
        self._roll(day)
        self.calls += 1

    def ended(self, day: float, talk: float) -> None:
        """A queue call of ``talk`` seconds ended (counted on the day it ended)."""
        self._roll(day)
        self.talk += talk

    def _roll(self, day: float) -> None:
        if day != self.day:
            self.day, self.calls, self.talk = day, 0, 0.0

    @property
    def logged_in(self) -> bool:
        """Logged in and registered: counted as a working seat of a campaign."""
        return self.presence is not Presence.LOGGED_OUT and self.reachable

    @property
    def busy(self) -> bool:
        """On (or ringing with) a call of any kind, or wrapping up."""
        return (self.call_state is not SeatCallState.IDLE or self.busy_elsewhere
                or self.presence is Presence.WRAP_UP)

    @property
    def ready_idle(self) -> bool:
        """Ready, registered, free and not lent: the dialer may count on it now."""
        return (self.presence is Presence.READY and self.reachable and not self.busy
                and self.lent_to is None)

    def bucket(self) -> str:
        """The seat-by-state bucket of a queue tile (a call wins over what the seat declared)."""
        if self.call_state is SeatCallState.RINGING:
            return "ringing"
        if self.call_state is SeatCallState.ON_CALL:
            return "talking"
        if self.presence is Presence.LOGGED_OUT:
            return "logged_out"
        if self.busy_elsewhere:
            return "talking"
        if self.presence is Presence.WRAP_UP:
            return "wrap_up"
        return "paused" if self.presence is Presence.PAUSED else "ready"

    def to_json(self, now: float, today: float) -> dict[str, Any]:
        """The seat's board entry at ``now`` (``today``: the start of the current day)."""
        current = self.day == today
        return {
            "id": self.id, "name": self.spec.name, "team": self.spec.team,
            "presence": self.presence.value, "call_state": self.call_state.value,
            "reason": self.reason, "since": self.since,
            "time_in_state_s": None if self.since is None else round(max(0.0, now - self.since), 3),
            "calls": self.calls if current else 0,
            "talk_s": round(self.talk, 3) if current else 0.0,
            "call": self.call, "queues": sorted(self.queues), "lent_to": self.lent_to,
            "reachable": self.reachable, "busy_elsewhere": self.busy_elsewhere, "at": now,
        }


def _enum(enum: type[Presence] | type[SeatCallState], kind: str, payload: Payload,
          key: str) -> Any:
    value = req_str(kind, payload, key)
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise BadEvent(f"{kind} event: field {key!r} must be one of {allowed}, not {value!r}") from None
