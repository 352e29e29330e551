"""Password hashing with argon2id (argon2-cffi; RFC 9106) and the password rules.

Hashes are PHC strings carrying their own parameters, so a stored hash made with older
parameters still verifies; ``verify`` then returns a new hash to store (rehash on login).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_LENGTH", "Passwords", "Verified", "WeakPasswordError", "check_strength"]

MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 takes any length; this only bounds the work one request can ask for


class WeakPasswordError(ValueError):
    """A password the rules refuse; the message says why."""


def check_strength(password: str, username: str = "") -> None:
    """Refuse passwords shorter than ``MIN_LENGTH``, absurdly long, or equal to the username."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"a password has at most {MAX_LENGTH} characters")
    if username and password.strip().lower() == username.strip().lower():
        raise WeakPasswordError("the password must not be the username")


@dataclass(frozen=True, slots=True)
class Verified:
    """The outcome of ``Passwords.verify``: ``ok``, and a fresh hash to store when outdated."""

    ok: bool
    new_hash: str | None = None


class Passwords:
    """argon2id hashing; ``Passwords()`` uses argon2-cffi's defaults (RFC 9106 low-memory)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """A new PHC hash string of ``password``."""
        return self.hasher.hash(password)

    def verify(self, stored: str, password: str) -> Verified:
        """Check ``password`` against ``stored`` (constant-time inside argon2)."""
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verified(False)
        if self.hasher.check_needs_rehash(stored):
            return Verified(True, self.hasher.hash(password))
        return Verified(True)

    def waste(self, password: str) -> None:
        """Spend the time of one verification for a user that does not exist (no enumeration)."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy, password)
