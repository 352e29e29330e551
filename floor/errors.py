"""One error tree for the ACD core.

Busy, no-answer and abandoned are values (commands and events), never exceptions; an exception
here means the caller of the core misused it (an unknown seat or queue, a bad configuration, a bad
feature code) or our own logic reached a state its transition table does not allow.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DuplicateCall",
    "FeatureCodeError",
    "FloorError",
    "InvalidTransition",
    "QueueInUse",
    "UnknownQueue",
    "UnknownSeat",
]


class FloorError(Exception):
    """Base of every error raised by ``floor``."""


class ConfigError(FloorError, ValueError):
    """A seat, queue or feature-code configuration is inconsistent; the message names the item."""


class QueueInUse(ConfigError):
    """A queue cannot be removed: calls are in it, or another queue overflows into it."""


class UnknownSeat(FloorError, LookupError):
    """No seat with this id is configured (the HTTP API answers 404)."""


class UnknownQueue(FloorError, LookupError):
    """No queue with this name is configured."""


class DuplicateCall(FloorError):
    """A call id joined while it is still queued or connected."""


class InvalidTransition(FloorError):
    """A (state, input) pair missing from a transition table: a bug in our own logic, not bad input."""


class FeatureCodeError(FloorError, ValueError):
    """A dialled feature code is malformed (e.g. an unknown pause reason code)."""
