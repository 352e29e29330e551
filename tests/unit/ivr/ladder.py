"""Helpers for the IVR tests: flows from TOML text, and a session driven like a ladder diagram.

    ladder = Ladder(flow)
    assert ladder.start() == [Answer(), Play("1:welcome", ("welcome",), True)]   # << commands
    assert ladder.send(PlaybackFinished("1:welcome")) == [...]                   # >> event
    assert ladder.advance(5.0) == [...]                                          # timers fire

Time is explicit: ``advance`` runs every timer that falls due, at its own deadline.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

from ivr.commands import IvrCommand
from ivr.context import CallInfo, CustomerLookup
from ivr.events import IvrEvent
from ivr.flow import Flow
from ivr.loader import load_flow
from ivr.prompts import PromptLibrary
from ivr.session import IvrSession

__all__ = ["DEMO", "PROMPTS", "ROOT", "Customers", "Ladder", "flow_from", "local_time"]

ROOT = Path(__file__).resolve().parents[3]
PROMPTS = ROOT / "config" / "ivr" / "prompts"
DEMO = ROOT / "config" / "ivr" / "demo.toml"
_LIBRARY = PromptLibrary()  # the demo prompts, decoded once for all tests


def local_time(text: str, zone: str = "America/New_York") -> float:
    """Unix time of a local wall-clock time ("2025-11-26 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def flow_from(text: str, tmp_path: Path, **checks: object) -> Flow:
    """Load a flow written inline (``start`` and ``[steps...]``), with the demo prompts."""
    path = tmp_path / "flow.toml"
    path.write_text(f'prompts = "{PROMPTS}"\n' + dedent(text))
    return load_flow(path, library=_LIBRARY, **checks)  # type: ignore[arg-type]


class Customers:
    """A customer table in memory."""

    def __init__(self, tiers: dict[str, str]) -> None:
        self.tiers = tiers
        self.asked: list[str] = []

    def tier(self, number: str) -> str | None:
        self.asked.append(number)
        return self.tiers.get(number)


class Ladder:
    """One IVR session with its own clock."""

    def __init__(
        self,
        flow: Flow,
        *,
        caller: str = "+15551234",
        dialled: str = "+15550100",
        now: float = 1_000_000.0,
        customers: CustomerLookup | None = None,
        variables: dict[str, str] | None = None,
    ) -> None:
        self.now = now
        call = CallInfo("call-1", caller, dialled, now, variables or {})
        self.session = IvrSession(flow, call, now=now, customers=customers)

    def start(self) -> list[IvrCommand]:
        """>> the call enters the flow."""
        return self.session.start(self.now)

    def send(self, event: IvrEvent, after: float = 0.0) -> list[IvrCommand]:
        """>> one event, ``after`` seconds from the last one."""
        self.advance_clock(after)
        return self.session.handle(event, self.now)

    def advance_clock(self, seconds: float) -> None:
        """Move the clock without running timers (they must not be due)."""
        timer = self.session.get_timer()
        assert timer is None or timer > self.now + seconds, f"a timer is due at {timer}"
        self.now += seconds

    def advance(self, seconds: float) -> list[IvrCommand]:
        """Let ``seconds`` pass; every timer that falls due runs at its deadline."""
        end = self.now + seconds
        out: list[IvrCommand] = []
        while (timer := self.session.get_timer()) is not None and timer <= end:
            self.now = timer
            out += self.session.handle_timer(timer)
        self.now = end
        return out
