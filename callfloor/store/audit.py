"""The audit log (migration 005): who did what to which subject, and when. Append-only.

Subjects name their kind: ``user:<username>``, ``seat:<id>``, ``call:<uuid>``,
``queue:<name>``, ``campaign:<id>``. ``audit_insert`` writes one row inside a transaction that
a store runs on aiosqlite's thread, so a change and its audit row commit together.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiosqlite

from callfloor.store.db import Store
from callfloor.store.schema import StoreError

__all__ = ["AuditEntry", "AuditLog", "audit_insert"]

_INSERT = "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the audit log."""

    id: int
    at: float
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


def _row(actor: str, action: str, subject: str, detail: Mapping[str, Any], at: float) -> tuple[Any, ...]:
    """The INSERT parameters, checked: empty names and non-JSON details are refused."""
    for field, value in (("actor", actor), ("action", action), ("subject", subject)):
        if not isinstance(value, str) or not value:
            raise StoreError(f"audit {action!r}: {field} must be a non-empty string, not {value!r}")
    try:
        text = json.dumps(dict(detail), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"audit {action!r} on {subject!r}: detail is not JSON: {exc}") from exc
    return (float(at), actor, action, subject, text)


def audit_insert(conn: sqlite3.Connection, actor: str, action: str, subject: str,
                 detail: Mapping[str, Any], at: float) -> None:
    """Append one row on a plain sqlite3 connection (inside the caller's transaction)."""
    conn.execute(_INSERT, _row(actor, action, subject, detail, at))


class AuditLog:
    """The audit log on a ``Store``'s connection: ``AuditLog(store)``."""

    def __init__(self, db: Store | aiosqlite.Connection) -> None:
        self._db: aiosqlite.Connection = db._db if isinstance(db, Store) else db

    async def write(self, actor: str, action: str, subject: str, detail: Mapping[str, Any],
                    at: float) -> None:
        """Append one entry (its own transaction)."""
        await self._db.execute(_INSERT, _row(actor, action, subject, detail, at))

    async def entries(self, *, actor: str | None = None, action: str | None = None,
                      subject: str | None = None, since: float | None = None,
                      until: float | None = None, limit: int = 100) -> list[AuditEntry]:
        """Entries newest first, filtered by exact actor/action/subject and ``since <= at < until``."""
        if limit <= 0:
            raise ValueError(f"limit must be positive, not {limit}")
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("actor", actor), ("action", action), ("subject", subject)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("at >= ?")
            params.append(since)
        if until is not None:
            where.append("at < ?")
            params.append(until)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._db.execute_fetchall(
            f"SELECT id, at, actor, action, subject, detail FROM audit_log {clause}"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [AuditEntry(i, a, who, what, s, json.loads(d)) for i, a, who, what, s, d in rows]
