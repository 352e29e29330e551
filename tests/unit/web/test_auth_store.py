"""UserStore and AuditLog on a real SQLite file: users, their checks, audited changes, sessions
ended by a new password or disabling, and the append-only audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from callfloor.store import Store, StoreError
from callfloor.store.audit import AuditEntry, AuditLog
from callfloor.store.users import (
    DuplicateUserError,
    InvalidUserError,
    Role,
    UnknownUserError,
    User,
    UserStore,
)
from callfloor.web.passwords import Passwords, WeakPasswordError, check_strength
from tests.unit.web.authkit import FAST, T0


async def test_add_get_and_list_users(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite") as store:
        users = UserStore(store)
        row = await users.add("Sam.Lee", role="seat", password_hash="h1", now=T0, by="root",
                              name="Sam Lee", seat="1001", team="north", lang="zh")
        await users.add("ann", role=Role.LEAD, password_hash="h2", now=T0 + 1, by="root")
        assert row.user == User(1, "sam.lee", "Sam Lee", Role.SEAT, "1001", "north", "zh")
        assert await users.get("SAM.LEE") == row
        assert [u.username for u in await users.users()] == ["ann", "sam.lee"]
        assert "h1" not in repr(row)
        assert await users.get("nobody") is None
        [entry] = await AuditLog(store).entries(subject="user:sam.lee")
        assert entry == AuditEntry(1, T0, "root", "user.added", "user:sam.lee",
                                   {"name": "Sam Lee", "role": "seat", "seat": "1001", "team": "north"})


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"username": "bad name"}, InvalidUserError, r"username 'bad name': 1-64 of a-z"),
        ({"username": "x" * 65}, InvalidUserError, "username"),
        ({"role": "boss"}, InvalidUserError, r"role 'boss': one of seat, lead, qa, admin"),
        ({"lang": "fr"}, InvalidUserError, r"lang 'fr': one of en, zh"),
        ({"role": "seat"}, InvalidUserError, r"user ann: a seat user needs its seat id"),
        ({"username": "Root"}, DuplicateUserError, r"user root exists already"),
    ],
)
async def test_bad_users_are_refused(tmp_path: Path, kwargs: dict[str, str], error: type[Exception],
                                     message: str) -> None:
    async with await Store.open(tmp_path / "db.sqlite") as store:
        users = UserStore(store)
        await users.add("root", role="admin", password_hash="h", now=T0, by="test")
        args = {"username": "ann", "role": "lead", "lang": "en", **kwargs}
        with pytest.raises(error, match=message):
            await users.add(args.pop("username"), password_hash="h", now=T0, by="test", **args)
        assert len(await users.users()) == 1
        assert len(await AuditLog(store).entries()) == 1  # nothing half-written


async def test_updates_are_checked_and_audited(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite") as store:
        users = UserStore(store)
        await users.add("ann", role="lead", password_hash="h", now=T0, by="root", team="north")
        with pytest.raises(InvalidUserError, match="cannot change password_hash"):
            await users.update("ann", {"password_hash": "x"}, now=T0, by="root")
        with pytest.raises(InvalidUserError, match="a seat user needs its seat id"):
            await users.update("ann", {"role": "seat"}, now=T0, by="root")
        with pytest.raises(UnknownUserError, match="no user 'bob'"):
            await users.update("bob", {"name": "Bob"}, now=T0, by="root")
        same = await users.update("ann", {"team": "north"}, now=T0 + 5, by="root")
        assert same.updated_at == T0  # nothing changed, nothing written
        row = await users.update("ann", {"name": "Ann", "team": ""}, now=T0 + 10, by="root")
        assert (row.name, row.team, row.updated_at) == ("Ann", None, T0 + 10)
        entries = await AuditLog(store).entries(subject="user:ann")
        assert [(e.action, e.detail) for e in entries] == [
            ("user.updated", {"name": ["", "Ann"], "team": ["north", None]}),
            ("user.added", {"name": "", "role": "lead", "seat": None, "team": "north"})]


async def test_a_new_password_or_disabling_ends_sessions(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite") as store:
        users = UserStore(store)
        ann = await users.add("ann", role="lead", password_hash="h", now=T0, by="root")
        for token in ("a", "b"):
            await users.open_session(ann, token, "csrf", now=T0, expires_at=T0 + 60, user_agent=None,
                                     address="127.0.0.1")
        assert await users.set_password("ann", "h2", now=T0 + 1, by="root") == 2
        assert await users.sessions_of("ann") == []
        await users.open_session(ann, "c", "csrf", now=T0, expires_at=T0 + 60, user_agent="x",
                                 address="::1")
        row = await users.set_disabled("ann", True, now=T0 + 2, by="root")
        assert row.disabled and await users.sessions_of("ann") == []
        assert (await users.set_disabled("ann", True, now=T0 + 3, by="root")).updated_at == T0 + 2
        entries = await AuditLog(store).entries(actor="root", since=T0 + 1)
        assert [(e.action, e.detail) for e in entries] == [
            ("user.disabled", {"sessions_ended": 1}), ("user.password", {"sessions_ended": 2})]


async def test_purge_drops_expired_sessions_and_old_failures(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite") as store:
        users = UserStore(store)
        ann = await users.add("ann", role="lead", password_hash="h", now=T0, by="root")
        await users.open_session(ann, "old", "c", now=T0, expires_at=T0 + 100, user_agent=None, address=None)
        await users.open_session(ann, "idle", "c", now=T0 + 50, expires_at=T0 + 1000, user_agent=None, address=None)
        await users.open_session(ann, "live", "c", now=T0 + 90, expires_at=T0 + 1000, user_agent=None, address=None)
        await users.record_failure("ann", "10.0.0.1", now=T0, reason="bad_password")
        await users.record_failure("ann", "10.0.0.1", now=T0 + 80, reason="bad_password")
        assert await users.purge(now=T0 + 100, idle=30, window=50) == (2, 1)
        assert [s.created_at for s in await users.sessions_of("ann")] == [T0 + 90]
        assert await users.failure_times(since=0, username="ann") == [T0 + 80]
        with pytest.raises(ValueError, match="exactly one of username and address"):
            await users.failure_times(since=0)


async def test_the_audit_log_filters_and_refuses_edits(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite") as store:
        audit = AuditLog(store)
        await audit.write("ann", "seat.move", "seat:1001", {"to": "queue:sales"}, at=T0)
        await audit.write("ann", "call.listen", "call:c1", {"seat": "1001"}, at=T0 + 10)
        await audit.write("quinn", "recording.play", "call:c1", {}, at=T0 + 20)
        assert [e.id for e in await audit.entries()] == [3, 2, 1]
        assert [e.id for e in await audit.entries(actor="ann")] == [2, 1]
        assert [e.id for e in await audit.entries(subject="call:c1", since=T0 + 15)] == [3]
        assert [e.id for e in await audit.entries(action="seat.move")] == [1]
        assert [e.id for e in await audit.entries(since=T0, until=T0 + 20, limit=1)] == [2]
        with pytest.raises(StoreError, match=r"audit 'x' on 'seat:1': detail is not JSON"):
            await audit.write("ann", "x", "seat:1", {"bad": object()}, at=T0)
        with pytest.raises(StoreError, match="actor must be a non-empty string"):
            await audit.write("", "x", "seat:1", {}, at=T0)
        with pytest.raises(ValueError, match="limit must be positive"):
            await audit.entries(limit=0)
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        for sql in ("UPDATE audit_log SET actor = 'eve'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
                db.execute(sql)
        assert db.execute("SELECT count(*) FROM audit_log").fetchone() == (3,)
        assert db.execute("SELECT max(version) >= 5 FROM schema_migrations").fetchone() == (1,)


def test_hashes_are_argon2id_and_verify() -> None:
    passwords = Passwords(FAST)
    stored = passwords.hash("correct horse")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert passwords.verify(stored, "correct horse").ok
    assert not passwords.verify(stored, "correct horsE").ok
    assert not passwords.verify("not a hash", "x").ok
    assert passwords.hash("correct horse") != stored  # salted
    passwords.waste("anything")  # no user: same work, no answer


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 8 characters"), ("x" * 1025, "at most 1024"), (" Ann.Lee ", "not be the username")],
)
def test_weak_passwords_are_refused(password: str, message: str) -> None:
    with pytest.raises(WeakPasswordError, match=message):
        check_strength(password, "ann.lee")
    check_strength("long enough", "ann.lee")
