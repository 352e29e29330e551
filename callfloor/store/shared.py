"""The base of the stores that share a ``Store``'s connection (dialer, users, QA, archive, ...).

Every write of more than one statement runs as ONE function on aiosqlite's worker thread,
between BEGIN IMMEDIATE and COMMIT. The connection is shared with the CDR writer; a transaction
spread over several awaits would let another coroutine's statement fall inside it, and be rolled
back with it. aiosqlite has no public call for this: ``Connection._execute`` queues a function on
its thread, as its own methods do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar, cast

import aiosqlite

from callfloor.store.db import Store

__all__ = ["SharedConnection"]

T = TypeVar("T")


class SharedConnection:
    """Rows on a ``Store``'s connection (or any aiosqlite connection): atomic writes, batched reads."""

    def __init__(self, db: Store | aiosqlite.Connection) -> None:
        self._db: aiosqlite.Connection = db._db if isinstance(db, Store) else db

    async def _atomic(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one transaction on the connection's own thread; roll back on error."""
        db = self._db

        def run() -> T:
            conn: sqlite3.Connection = db._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return cast(T, await cast(Any, db)._execute(run))

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only ``work`` on the connection's own thread (several queries, one call)."""
        db = self._db
        return cast(T, await cast(Any, db)._execute(lambda: work(db._conn)))
