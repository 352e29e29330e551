"""Seat commands over MQTT: ``<prefix>/<site>/commands/seats/<seat>/{move,presence}``.

A command is a JSON object, checked here field by field (``docs/schemas/command-*.json``); a
bad one becomes a :class:`CommandError` naming the field, answered on
``<prefix>/<site>/commands/replies/<correlation_id or seat>``. Good ones go to the handler the
live floor passes in, and its result is the reply. Nothing here touches the broker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ACTIONS",
    "VERBS",
    "CommandError",
    "CommandHandler",
    "SeatCommand",
    "check_target",
    "parse_command",
    "reply_address",
    "reply_payload",
]

VERBS = ("move", "presence")
ACTIONS = ("ready", "pause", "logout")
MAX_TEXT = 128
_FIELDS = {"move": {"target", "by", "correlation_id"},
           "presence": {"action", "reason", "by", "correlation_id"}}


class CommandError(ValueError):
    """A command that cannot be carried out as sent; ``field`` names the culprit (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class SeatCommand:
    """A checked command: move a seat (``target``) or change its presence (``action``)."""

    seat: str
    verb: Literal["move", "presence"]
    target: str | None = None  # queue:<name> | queues:<a>,<b> | campaign:<id>
    action: str | None = None  # ready | pause | logout
    reason: str | None = None  # a pause reason
    by: str = "mqtt"
    correlation_id: str | None = None


CommandHandler = Callable[[SeatCommand], Awaitable[Mapping[str, Any]]]


def _level_ok(text: str) -> bool:
    return bool(text) and not any(c in text for c in "/+#\0")


def _text(payload: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = payload.get(key)
    if value is None:
        if required:
            raise CommandError(f"field {key!r} is required", key)
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise CommandError(f"field {key!r} must be a non-empty string of at most {MAX_TEXT} "
                           f"characters, not {value!r}", key)
    return value


def check_target(target: str) -> str:
    """``queue:<name>``, ``queues:<a>,<b>`` or ``campaign:<id>``; raises :class:`CommandError`."""
    kind, sep, rest = target.partition(":")
    names = rest.split(",") if kind == "queues" else [rest]
    if not sep or kind not in ("queue", "queues", "campaign") or not all(
            name.strip() for name in names):
        raise CommandError(f"field 'target' must be queue:<name>, queues:<a>,<b> or "
                           f"campaign:<id>, not {target!r}", "target")
    return target


def parse_command(seat: str, verb: str, payload: Any) -> SeatCommand:
    """Check one command received for ``seat`` (topic level) and ``verb`` (the last level)."""
    if not _level_ok(seat):
        raise CommandError(f"seat {seat!r} in the topic is not a seat id", "seat")
    if verb not in VERBS:
        raise CommandError(f"unknown command {verb!r} (one of {', '.join(VERBS)})", "command")
    if not isinstance(payload, Mapping):
        raise CommandError("the payload must be a JSON object", None)
    unknown = sorted(set(payload) - _FIELDS[verb])
    if unknown:
        raise CommandError(f"unknown field {unknown[0]!r} for {verb} "
                           f"(allowed: {', '.join(sorted(_FIELDS[verb]))})", unknown[0])
    correlation = _text(payload, "correlation_id")
    if correlation is not None and not _level_ok(correlation):
        raise CommandError("field 'correlation_id' must not contain / + or #", "correlation_id")
    by = _text(payload, "by") or "mqtt"
    if verb == "move":
        target = check_target(_text(payload, "target", required=True) or "")
        return SeatCommand(seat, "move", target=target, by=by, correlation_id=correlation)
    action = _text(payload, "action", required=True)
    if action not in ACTIONS:
        raise CommandError(f"field 'action' must be one of {', '.join(ACTIONS)}, not {action!r}",
                           "action")
    reason = _text(payload, "reason")
    if reason is not None and action != "pause":
        raise CommandError("field 'reason' goes only with action pause", "reason")
    return SeatCommand(seat, "presence", action=action, reason=reason, by=by,
                       correlation_id=correlation)


def reply_address(seat: str, payload: Any) -> str | None:
    """The last topic level of the reply: the correlation id when usable, else the seat."""
    if isinstance(payload, Mapping):
        correlation = payload.get("correlation_id")
        if isinstance(correlation, str) and _level_ok(correlation) and len(correlation) <= MAX_TEXT:
            return correlation
    return seat if _level_ok(seat) else None


def reply_payload(seat: str, verb: str, payload: Any, now: float, *,
                  result: Mapping[str, Any] | None = None,
                  error: CommandError | Exception | None = None) -> dict[str, Any]:
    """The reply to one command: ``ok`` with the handler's ``result``, or the ``error``."""
    correlation = payload.get("correlation_id") if isinstance(payload, Mapping) else None
    body: dict[str, Any] = {
        "ok": error is None, "seat": seat, "command": verb,
        "correlation_id": correlation if isinstance(correlation, str) else None, "at": now,
    }
    if error is None:
        body["result"] = dict(result or {})
    else:
        body["error"] = str(error)
        body["field"] = error.field if isinstance(error, CommandError) else None
    return body
