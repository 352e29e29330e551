"""Brute-force guard for digest authentication: slow down, then ban, a source that keeps failing.

Failures are counted per source address over a sliding ``window``. Memory is bounded: past
``max_sources`` the least recently seen source is forgotten (a source that keeps knocking stays
recent, so an active attacker is not evicted by a flood of one-shot addresses before it).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import Enum

__all__ = ["AuthGuard", "GuardAction", "GuardVerdict"]


class GuardAction(Enum):
    """What to do with the next request (or failure response) from a source."""

    ALLOW = "allow"
    DELAY = "delay"
    BANNED = "banned"


@dataclass(frozen=True)
class GuardVerdict:
    """ALLOW, DELAY by ``delay`` seconds, or BANNED until ``until``; ``just_banned`` marks the failure that caused the ban."""

    action: GuardAction
    delay: float = 0.0
    until: float | None = None
    just_banned: bool = False


_ALLOW = GuardVerdict(GuardAction.ALLOW)


@dataclass
class _Source:
    failures: deque[float] = field(default_factory=deque)
    banned_until: float | None = None


class AuthGuard:
    """Counts auth failures per source address: after `slow_after` failures responses are delayed, after `ban_after` the source is refused (403) for `ban_seconds`."""

    def __init__(
        self, *, slow_after: int = 3, ban_after: int = 10, window: float = 300.0,
        ban_seconds: float = 900.0, max_delay: float = 4.0, max_sources: int = 100_000,
    ) -> None:
        if not 0 < slow_after <= ban_after:
            raise ValueError("need 0 < slow_after <= ban_after")
        self.slow_after = slow_after
        self.ban_after = ban_after
        self.window = window
        self.ban_seconds = ban_seconds
        self.max_delay = max_delay
        self.max_sources = max_sources
        self._sources: OrderedDict[str, _Source] = OrderedDict()

    def check(self, source_ip: str, now: float) -> GuardVerdict:
        """What to do with a request from ``source_ip`` before looking at its credentials."""
        entry = self._live(source_ip, now)
        return _ALLOW if entry is None else self._verdict(entry)

    def failure(self, source_ip: str, now: float) -> GuardVerdict:
        """Record a failed authentication and return the verdict for its response."""
        entry = self._live(source_ip, now)
        if entry is None:
            entry = self._sources[source_ip] = _Source()
            self._evict()
        if entry.banned_until is not None:
            return self._verdict(entry)
        entry.failures.append(now)
        if len(entry.failures) >= self.ban_after:
            entry.failures.clear()
            entry.banned_until = now + self.ban_seconds
            return GuardVerdict(GuardAction.BANNED, until=entry.banned_until, just_banned=True)
        return self._verdict(entry)

    def success(self, source_ip: str, now: float) -> None:
        """Forget the failures of ``source_ip`` (a ban in force stays)."""
        entry = self._live(source_ip, now)
        if entry is not None and entry.banned_until is None:
            del self._sources[source_ip]

    def __len__(self) -> int:
        return len(self._sources)

    def _live(self, source_ip: str, now: float) -> _Source | None:
        """The entry for ``source_ip`` with old failures and a finished ban dropped."""
        entry = self._sources.get(source_ip)
        if entry is None:
            return None
        if entry.banned_until is not None and now >= entry.banned_until:
            entry.banned_until = None  # served its time: start again from a clean count
        while entry.failures and entry.failures[0] <= now - self.window:
            entry.failures.popleft()
        if entry.banned_until is None and not entry.failures:
            del self._sources[source_ip]
            return None
        self._sources.move_to_end(source_ip)
        return entry

    def _verdict(self, entry: _Source) -> GuardVerdict:
        if entry.banned_until is not None:
            return GuardVerdict(GuardAction.BANNED, until=entry.banned_until)
        count = len(entry.failures)
        if count < self.slow_after:
            return _ALLOW
        # Doubling from half a second: 0.5, 1, 2, 4 ... capped at max_delay.
        delay = min(self.max_delay, 0.5 * 2.0 ** (count - self.slow_after))
        return GuardVerdict(GuardAction.DELAY, delay=delay)

    def _evict(self) -> None:
        while len(self._sources) > self.max_sources:
            self._sources.popitem(last=False)
