"""Identifiers the call engine mints: branches, tags, Call-IDs, call ids.

Injected into the engine so tests get the same ids on every run (RFC 3261 §8.1.1.4/7 ask only
for global uniqueness, which 64+ random bits give).
"""

from __future__ import annotations

import random
import secrets

__all__ = ["BRANCH_COOKIE", "IdFactory"]

BRANCH_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7


class IdFactory:
    """Random tokens from ``rng`` (deterministic in tests) or the OS (default)."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng

    def token(self, nbytes: int = 8) -> str:
        """A hex token of ``nbytes`` random bytes."""
        if self._rng is None:
            return secrets.token_hex(nbytes)
        return self._rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def branch(self) -> str:
        """A fresh Via branch with the RFC 3261 magic cookie."""
        return BRANCH_COOKIE + self.token(8)

    def tag(self) -> str:
        """A From/To tag."""
        return self.token(6)

    def call_id(self, host: str) -> str:
        """A Call-ID unique to this host."""
        return f"{self.token(12)}@{host}"

    def call_uuid(self) -> str:
        """The id callfloor gives a call (CDR row, recording name)."""
        return self.token(16)
