"""What a verb handler sees of the call: who called, the call's variables, the customer lookup.

Handlers never keep references to the session; everything they may read or change is here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ivr.commands import StoreVariables

__all__ = ["BUILTINS", "CallInfo", "Context", "CustomerLookup", "digits_only", "render"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
BUILTINS = ("caller", "dialled", "call_id")


@dataclass(frozen=True)
class CallInfo:
    """The call the IVR answers: its id, the caller's number, the dialled number (DID)."""

    call_id: str
    caller: str
    dialled: str
    started_at: float
    variables: Mapping[str, str] = field(default_factory=dict)


class CustomerLookup(Protocol):
    """The customer table as the IVR needs it: the tier of a caller ("gold", "vip"), if known."""

    def tier(self, number: str) -> str | None:
        """The tier of the customer calling from ``number``, or None for an unknown caller."""
        ...


def digits_only(number: str) -> str:
    """The digits of a phone number ("+1 (555) 010-0" → "15550100")."""
    return "".join(ch for ch in number if ch.isascii() and ch.isdigit())


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders from ``values``; an unknown name becomes empty."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


@dataclass
class Context:
    """The mutable state a handler works with; owned by one ``IvrSession``."""

    call: CallInfo
    variables: dict[str, str]
    customers: CustomerLookup | None = None
    typeahead: list[str] = field(default_factory=list)  # keys pressed before a step asked
    step: str = ""
    survey_step: str | None = None
    _tokens: int = 0

    def token(self) -> str:
        """A fresh token for a Play or Record command ("3:welcome")."""
        self._tokens += 1
        return f"{self._tokens}:{self.step}"

    def values(self) -> dict[str, str]:
        """Variables plus the built-ins (caller, dialled, call_id) for templates."""
        builtins = {"caller": self.call.caller, "dialled": self.call.dialled,
                    "call_id": self.call.call_id}
        return {**builtins, **self.variables}

    def render(self, template: str) -> str:
        """Fill a template from the call's values."""
        return render(template, self.values())

    def update(self, changes: Mapping[str, str]) -> StoreVariables:
        """Set variables; the command tells the executor what changed."""
        self.variables.update(changes)
        return StoreVariables(dict(changes))
