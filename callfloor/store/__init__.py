"""The SQLite store (aiosqlite, WAL, numbered migrations): call-detail records and events."""

from __future__ import annotations

from callfloor.store.db import (
    CallRow,
    CallStart,
    CallStatus,
    Direction,
    DuplicateCallError,
    EventRow,
    Store,
    UnknownCallError,
)
from callfloor.store.schema import MigrationError, StoreError

__all__ = [
    "CallRow",
    "CallStart",
    "CallStatus",
    "Direction",
    "DuplicateCallError",
    "EventRow",
    "MigrationError",
    "Store",
    "StoreError",
    "UnknownCallError",
]
