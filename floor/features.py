"""Feature codes a seat dials from its softphone to change its presence.

Defaults: ``*1`` ready (logs in when logged out), ``*2`` pause, ``*2 3`` / ``*23`` / ``*2*3``
pause with reason code 3, ``*3`` logout; all configurable, with the pause reasons. The longest
configured code that prefixes the dialled string wins, so ``*21`` may be its own code.
What the seat dials arrives as the Request-URI user part, so ``%2A`` / ``%23`` are decoded here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from floor.errors import FeatureCodeError
from floor.states import DEFAULT_PAUSE_REASONS, PauseReason, PresenceAction

__all__ = ["FeatureCodes", "FeatureRequest"]

_CODE = re.compile(r"[*#][0-9*#]*\Z")
_SEPARATORS = " *#"


@dataclass(frozen=True, slots=True)
class FeatureRequest:
    """A parsed feature code: the presence action, and for a pause the reason (label and code)."""

    action: PresenceAction
    reason: str | None = None  # the label stored with the pause, e.g. "training"
    reason_code: str | None = None  # what was dialled, e.g. "3"


@dataclass(frozen=True)
class FeatureCodes:
    """The configured feature codes and pause reasons."""

    ready: str = "*1"
    pause: str = "*2"
    logout: str = "*3"
    reasons: tuple[PauseReason, ...] = DEFAULT_PAUSE_REASONS

    def __post_init__(self) -> None:
        codes = {"ready": self.ready, "pause": self.pause, "logout": self.logout}
        for key, code in codes.items():
            if not _CODE.match(code):
                raise FeatureCodeError(f"feature code {key}={code!r} must start with * or # and be digits")
        if len(set(codes.values())) != len(codes):
            raise FeatureCodeError(f"feature codes must differ: {codes}")
        reason_codes = [r.code for r in self.reasons]
        if len(set(reason_codes)) != len(reason_codes) or not all(c.isdigit() for c in reason_codes):
            raise FeatureCodeError(f"pause reason codes must be distinct digit strings: {reason_codes}")

    def parse(self, dialled: str) -> FeatureRequest | None:
        """The request ``dialled`` asks for; ``None`` when it is not one of these codes (route it
        as a call). Raises :class:`FeatureCodeError` for a known code with a bad argument."""
        text = dialled.strip().replace("%2A", "*").replace("%2a", "*").replace("%23", "#")
        actions = {self.ready: PresenceAction.READY, self.pause: PresenceAction.PAUSE,
                   self.logout: PresenceAction.LOGOUT}
        for code in sorted(actions, key=len, reverse=True):
            if text.startswith(code):
                return self._request(actions[code], code, text[len(code):].strip(_SEPARATORS))
        return None

    def _request(self, action: PresenceAction, code: str, argument: str) -> FeatureRequest:
        if action is not PresenceAction.PAUSE:
            if argument:
                raise FeatureCodeError(f"feature code {code} takes no argument, got {argument!r}")
            return FeatureRequest(action)
        if not argument:
            return FeatureRequest(action)
        for reason in self.reasons:
            if reason.code == argument:
                return FeatureRequest(action, reason.label, reason.code)
        known = ", ".join(f"{r.code}={r.label}" for r in self.reasons)
        raise FeatureCodeError(f"unknown pause reason {argument!r} (known: {known})")
