"""The ACD's records as event-log entries: ``(kind, at, payload)``, the one encoding of them.

The switchboard publishes (and stores) exactly these, and :class:`floor.metrics.FloorMetrics`
reads them back, live or replayed from the log, so the board and the log cannot drift apart.
``payload["ts"]`` is the event time, as for every published event.
"""

from __future__ import annotations

from typing import Any

from floor.events import (
    AcdCommand,
    QueueEvent,
    SeatAvailabilityChanged,
    SeatMembershipChanged,
    SeatStateChanged,
)

__all__ = ["LogRecord", "acd_record"]

LogRecord = tuple[str, float, dict[str, Any]]


def acd_record(command: AcdCommand) -> LogRecord | None:
    """The event-log entry of an ACD record; ``None`` for the commands that only act on calls."""
    match command:
        case QueueEvent(kind, call, queue, seat, wait, at, data):
            return _entry(f"queue.{kind.value}", at, call=call, queue=queue, seat=seat,
                          wait_s=round(wait, 3), **dict(data))
        case SeatStateChanged():
            return _entry("seat.state", command.at, seat=command.seat,
                          presence=command.presence.value, call_state=command.call_state.value,
                          reason=command.reason, call=command.call, since=command.since,
                          previous_presence=command.previous_presence.value,
                          previous_call_state=command.previous_call_state.value,
                          previous_reason=command.previous_reason, by=command.by)
        case SeatAvailabilityChanged(seat, reachable, busy, lent, at):
            return _entry("seat.availability", at, seat=seat, reachable=reachable,
                          busy_elsewhere=busy, lent_to=lent)
        case SeatMembershipChanged(seat, queues, at, by):
            return _entry("seat.membership", at, seat=seat, queues=list(queues), by=by)
    return None


def _entry(kind: str, at: float, **payload: Any) -> LogRecord:
    return kind, at, {**payload, "ts": at}
