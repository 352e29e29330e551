"""Web users, their sessions and failed logins (migration 005), on a ``Store``'s connection.

Every change to a user is written with its audit row in one transaction (``by`` names who made
it). Writes of more than one statement run as one function on aiosqlite's thread between
BEGIN IMMEDIATE and COMMIT, as ``callfloor.store.dialer`` does: the connection is shared, and
a transaction spread over several awaits could swallow another coroutine's statement.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar, cast

from callfloor.store.audit import audit_insert
from callfloor.store.schema import StoreError
from callfloor.store.shared import SharedConnection

__all__ = [
    "LANGS",
    "DuplicateUserError",
    "InvalidUserError",
    "Role",
    "SessionRow",
    "UnknownUserError",
    "User",
    "UserRow",
    "UserStore",
    "check_username",
]

T = TypeVar("T")
LANGS = ("en", "zh")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
_EDITABLE = ("name", "role", "seat", "team", "lang")
_USER_COLUMNS = ("u.id, u.username, u.name, u.role, u.seat_id, u.team, u.lang, u.password_hash,"
                 " u.created_at, u.updated_at, u.disabled")
_SESSION_COLUMNS = ("s.id, s.user_id, s.created_at, s.last_seen, s.expires_at, s.csrf_token,"
                    " s.user_agent, s.address")


class Role(StrEnum):
    """What a user may do; ADMIN passes every role check."""

    SEAT = "seat"
    LEAD = "lead"
    QA = "qa"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    """A logged-in user as the pages see it."""

    id: int
    username: str
    name: str
    role: Role
    seat: str | None
    team: str | None
    lang: str  # "en" | "zh"


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user as stored, with the password hash and the disabled flag."""

    id: int
    username: str
    name: str
    role: Role
    seat: str | None
    team: str | None
    lang: str
    password_hash: str = field(repr=False)
    created_at: float
    updated_at: float
    disabled: bool

    @property
    def user(self) -> User:
        """The public part."""
        return User(self.id, self.username, self.name, self.role, self.seat, self.team, self.lang)


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A login session as stored (the token itself is never stored)."""

    id: int
    user_id: int
    created_at: float
    last_seen: float
    expires_at: float
    csrf_token: str = field(repr=False)
    user_agent: str | None
    address: str | None


class UnknownUserError(StoreError, LookupError):
    """No user has this username."""


class DuplicateUserError(StoreError):
    """A user with this username exists already."""


class InvalidUserError(StoreError, ValueError):
    """A bad username, role, language, or a seat user without a seat; the message says which."""


def check_username(username: str) -> str:
    """The username in its stored form (lower case), or ``InvalidUserError``."""
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise InvalidUserError(f"username {username!r}: 1-64 of a-z 0-9 . _ @ -, starting with a letter or digit")
    return name


def _fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Checked user fields (role as Role, lang in LANGS); the message names the field."""
    out = dict(values)
    if "role" in out:
        try:
            out["role"] = Role(out["role"])
        except ValueError:
            raise InvalidUserError(f"role {out['role']!r}: one of {', '.join(Role)}") from None
    if "lang" in out and out["lang"] not in LANGS:
        raise InvalidUserError(f"lang {out['lang']!r}: one of {', '.join(LANGS)}")
    for key in ("seat", "team"):
        if out.get(key) == "":
            out[key] = None
    return out


def _user(row: Any) -> UserRow:
    i, username, name, role, seat, team, lang, hashed, created, updated, disabled = row[:11]
    return UserRow(i, username, name, Role(role), seat, team, lang, hashed, created, updated, bool(disabled))


class UserStore(SharedConnection):
    """Users, sessions and failed logins: ``UserStore(store)``."""



    # -- users --------------------------------------------------------------------------------

    async def add(self, username: str, *, role: Role | str, password_hash: str, now: float, by: str,
                  name: str = "", seat: str | None = None, team: str | None = None,
                  lang: str = "en") -> UserRow:
        """Create a user (audited as ``user.added``)."""
        username = check_username(username)
        f = _fields({"role": role, "seat": seat, "team": team, "lang": lang})
        if f["role"] is Role.SEAT and f["seat"] is None:
            raise InvalidUserError(f"user {username}: a seat user needs its seat id")

        def work(conn: sqlite3.Connection) -> int:
            try:
                cur = conn.execute(
                    "INSERT INTO users (username, name, role, seat_id, team, lang, password_hash,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (username, name, f["role"].value, f["seat"], f["team"], f["lang"], password_hash, now, now))
            except sqlite3.IntegrityError as exc:
                raise DuplicateUserError(f"user {username} exists already") from exc
            audit_insert(conn, by, "user.added", f"user:{username}",
                         {"role": f["role"].value, "seat": f["seat"], "team": f["team"], "name": name}, now)
            return cast(int, cur.lastrowid)

        user_id = await self._atomic(work)
        return UserRow(user_id, username, name, f["role"], f["seat"], f["team"], f["lang"],
                       password_hash, now, now, False)

    async def get(self, username: str) -> UserRow | None:
        """The user with this username (any case), if any."""
        rows = await self._rows(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.username = ?",
                                (username.strip().lower(),))
        return _user(rows[0]) if rows else None

    async def users(self) -> list[UserRow]:
        """Every user, by username."""
        return [_user(r) for r in await self._rows(f"SELECT {_USER_COLUMNS} FROM users u ORDER BY u.username")]

    async def update(self, username: str, changes: Mapping[str, Any], *, now: float, by: str) -> UserRow:
        """Change name/role/seat/team/lang; audited as ``user.role`` when the role changes, else
        ``user.updated``, with every changed field's [old, new]. Sessions see it at once."""
        unknown = sorted(set(changes) - set(_EDITABLE))
        if unknown:
            raise InvalidUserError(f"cannot change {', '.join(unknown)} (only {', '.join(_EDITABLE)})")
        new = _fields(changes)
        before = await self._require(username)
        merged = {"name": before.name, "role": before.role, "seat": before.seat, "team": before.team,
                  "lang": before.lang, **new}
        if merged["role"] is Role.SEAT and merged["seat"] is None:
            raise InvalidUserError(f"user {before.username}: a seat user needs its seat id")
        old = {"name": before.name, "role": before.role, "seat": before.seat, "team": before.team,
               "lang": before.lang}
        diff = {k: [_plain(old[k]), _plain(v)] for k, v in merged.items() if old[k] != v}
        if not diff:
            return before
        action = "user.role" if "role" in diff else "user.updated"

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE users SET name = ?, role = ?, seat_id = ?, team = ?, lang = ?, updated_at = ?"
                " WHERE id = ?",
                (merged["name"], merged["role"].value, merged["seat"], merged["team"], merged["lang"],
                 now, before.id))
            audit_insert(conn, by, action, f"user:{before.username}", diff, now)

        await self._atomic(work)
        return await self._require(before.username)

    async def set_password(self, username: str, password_hash: str, *, now: float, by: str) -> int:
        """Replace the password (audited as ``user.password``) and end the user's sessions;
        return how many sessions ended."""
        user = await self._require(username)

        def work(conn: sqlite3.Connection) -> int:
            conn.execute("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                         (password_hash, now, user.id))
            ended = conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,)).rowcount
            audit_insert(conn, by, "user.password", f"user:{user.username}", {"sessions_ended": ended}, now)
            return ended

        return await self._atomic(work)

    async def set_disabled(self, username: str, disabled: bool, *, now: float, by: str) -> UserRow:
        """Disable (ending every session) or enable a user; audited as ``user.disabled``/``user.enabled``."""
        user = await self._require(username)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?",
                         (int(disabled), now, user.id))
            ended = conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,)).rowcount if disabled else 0
            action = "user.disabled" if disabled else "user.enabled"
            audit_insert(conn, by, action, f"user:{user.username}", {"sessions_ended": ended}, now)

        if user.disabled != disabled:
            await self._atomic(work)
        return await self._require(user.username)

    async def _require(self, username: str) -> UserRow:
        user = await self.get(username)
        if user is None:
            raise UnknownUserError(f"no user {username.strip().lower()!r}")
        return user

    async def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    # -- sessions -----------------------------------------------------------------------------

    async def open_session(self, user: UserRow, token_sha256: str, csrf_token: str, *, now: float,
                           expires_at: float, user_agent: str | None, address: str | None,
                           new_hash: str | None = None) -> int:
        """A successful login, in one transaction: the session, the user's failures cleared,
        the password rehashed when ``new_hash`` is given, and the ``login`` audit row."""

        def work(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO sessions (token_sha256, user_id, created_at, last_seen, expires_at,"
                " csrf_token, user_agent, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (token_sha256, user.id, now, now, expires_at, csrf_token, user_agent, address))
            conn.execute("DELETE FROM login_failures WHERE username = ?", (user.username,))
            if new_hash is not None:
                conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user.id))
            audit_insert(conn, user.username, "login", f"user:{user.username}",
                         {"address": address, "user_agent": user_agent, "rehashed": new_hash is not None}, now)
            return cast(int, cur.lastrowid)

        return await self._atomic(work)

    async def session(self, token_sha256: str) -> tuple[SessionRow, UserRow] | None:
        """The session with this token hash and its user, if both exist."""
        rows = await self._rows(
            f"SELECT {_SESSION_COLUMNS}, {_USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.token_sha256 = ?", (token_sha256,))
        if not rows:
            return None
        return SessionRow(*rows[0][:8]), _user(rows[0][8:])

    async def touch_session(self, session_id: int, now: float) -> None:
        """Record activity (pushes the idle expiry back)."""
        await self._db.execute("UPDATE sessions SET last_seen = max(last_seen, ?) WHERE id = ?", (now, session_id))

    async def end_session(self, session_id: int, *, now: float, actor: str, reason: str) -> bool:
        """Delete a session; a ``logout`` audit row says why (``logout``, ``idle``, ``expired``)."""

        def work(conn: sqlite3.Connection) -> bool:
            if conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount == 0:
                return False
            audit_insert(conn, actor, "logout", f"user:{actor}", {"reason": reason, "session": session_id}, now)
            return True

        return await self._atomic(work)

    async def sessions_of(self, username: str) -> list[SessionRow]:
        """The user's stored sessions (expired ones too until purged), oldest first."""
        rows = await self._rows(
            f"SELECT {_SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE u.username = ? ORDER BY s.created_at, s.id", (username.strip().lower(),))
        return [SessionRow(*r) for r in rows]

    async def purge(self, *, now: float, idle: float, window: float) -> tuple[int, int]:
        """Delete sessions past either expiry and failures older than ``window``; return the counts."""

        def work(conn: sqlite3.Connection) -> tuple[int, int]:
            s = conn.execute("DELETE FROM sessions WHERE expires_at <= ? OR last_seen <= ?",
                             (now, now - idle)).rowcount
            f = conn.execute("DELETE FROM login_failures WHERE at <= ?", (now - window,)).rowcount
            return s, f

        return await self._atomic(work)

    # -- failed logins ------------------------------------------------------------------------

    async def record_failure(self, username: str, address: str, *, now: float, reason: str) -> None:
        """A failed login and its ``login.failed`` audit row (the reason stays in the log only)."""
        name = username.strip().lower()[:64] or "-"

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO login_failures (username, address, at) VALUES (?, ?, ?)",
                         (name, address, now))
            audit_insert(conn, name, "login.failed", f"user:{name}", {"address": address, "reason": reason}, now)

        await self._atomic(work)

    async def failure_times(self, *, since: float, username: str | None = None,
                            address: str | None = None) -> list[float]:
        """Times of failed logins after ``since`` for one username or one address, oldest first."""
        if (username is None) == (address is None):
            raise ValueError("give exactly one of username and address")
        column, value = ("username", username.strip().lower()) if username is not None else ("address", address)
        rows = await self._rows(f"SELECT at FROM login_failures WHERE {column} = ? AND at > ? ORDER BY at",
                                (value, since))
        return [float(r[0]) for r in rows]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Role) else value
