"""Numbered SQL migrations (``NNN_name.sql``), applied in order, one transaction each."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

__all__ = ["MIGRATIONS_DIR", "Migration", "MigrationError", "StoreError", "load", "migrate"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at REAL NOT NULL
)
"""
# SQLite 3.40 has no unixepoch('subsec'); this is the same instant in unix seconds.
_NOW = "(julianday('now') - 2440587.5) * 86400.0"


class StoreError(Exception):
    """Base of every store error."""


class MigrationError(StoreError):
    """A migration file is misnamed, unreadable or fails; the message names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Migration:
    """One ``NNN_name.sql`` file."""

    version: int
    name: str
    path: Path
    sql: str


def _read(path: Path, version: int, name: str) -> Migration:
    try:
        sql = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(path, f"cannot read: {exc}") from exc
    if not sql.strip():
        raise MigrationError(path, "is empty")
    if not sqlite3.complete_statement(sql):
        raise MigrationError(path, "does not end with a complete SQL statement (a missing ';'?)")
    return Migration(version, name, path, sql)


def load(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every ``*.sql`` file in ``folder``, checked and sorted by number."""
    found: dict[int, Migration] = {}
    try:
        paths = sorted(p for p in folder.iterdir() if p.suffix == ".sql")
    except OSError as exc:
        raise MigrationError(folder, f"cannot list migrations: {exc}") from exc
    for path in paths:
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(path, "migration names look like 001_snake_case.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                path, f"number {version:03d} is also used by {found[version].path.name}"
            )
        found[version] = _read(path, version, match.group(2))
    return [found[v] for v in sorted(found)]


async def migrate(db: aiosqlite.Connection, migrations: list[Migration]) -> list[int]:
    """Apply the migrations not yet recorded in ``schema_migrations``; return their numbers.

    ``db`` must be in autocommit mode (isolation_level=None): each migration brings its own
    BEGIN/COMMIT, so its SQL must not contain transaction statements.
    """
    await db.execute(_BOOTSTRAP)
    rows = await db.execute_fetchall("SELECT version, name FROM schema_migrations")
    applied: dict[int, str] = {int(v): str(n) for v, n in rows}
    known = {m.version: m for m in migrations}
    unknown = sorted(set(applied) - set(known))
    if unknown:
        folder = migrations[0].path.parent if migrations else MIGRATIONS_DIR
        names = ", ".join(f"{v:03d}_{applied[v]}" for v in unknown)
        raise MigrationError(folder, f"the database has migrations this build lacks: {names}")
    done = []
    for m in migrations:
        if m.version in applied:
            if applied[m.version] != m.name:
                was = f"{m.version:03d}_{applied[m.version]}"
                raise MigrationError(m.path, f"the database applied {was} under this number")
            continue
        await _apply(db, m)
        done.append(m.version)
    return done


async def _apply(db: aiosqlite.Connection, m: Migration) -> None:
    record = (
        "INSERT INTO schema_migrations (version, name, applied_at) "
        f"VALUES ({m.version}, '{m.name}', {_NOW});"  # both checked by _NAME: safe to inline
    )
    try:
        await db.executescript(f"BEGIN IMMEDIATE;\n{m.sql}\n;\n{record}\nCOMMIT;")
    except sqlite3.Error as exc:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise MigrationError(m.path, f"failed, nothing applied: {exc}") from exc
