"""Stored audio analytics of archived calls (migration 009): one row per call with the figures as
columns, the QA flags and the full JSON (segments included), and the risk flags QA sampling reads.

The archive job writes a row in the same transaction as the call's archive row
(``ArchiveIndex.record`` calls :func:`write_row` on the connection's thread); ``save`` writes one
on its own (``callfloor archive analyse`` and the archive job's fill of missing rows).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aiosqlite

from callfloor.store.db import Store
from recordings.analytics import AnalyticsConfig, CallAnalytics

__all__ = [
    "FIGURES",
    "SAMPLING_FLAG",
    "AnalyticsRow",
    "CallAnalyticsStore",
    "analytics_row",
    "config_version",
    "write_row",
]

_TOP = ("duration_s", "agent_talk_ratio", "silence_s", "silence_share", "dead_air_s",
        "longest_dead_air_s", "longest_dead_air_start", "overtalk_s", "overtalk_count",
        "overtalk_share", "agent_interruptions", "hold_s", "hold_count")
_SIDE = ("talk_s", "turns", "rms_dbfs", "loudness_lufs", "clipped_share", "clip_runs")
# The figure columns, named as in CallAnalytics.to_json() (a side's figures prefixed by the side).
FIGURES = (*_TOP, *(f"{side}_{name}" for side in ("customer", "agent") for name in _SIDE))
_COLUMNS = ("call_uuid", "source_path", "analysed_at", "config_version", *FIGURES, "flags", "analytics")
_UPSERT = (f"INSERT INTO call_analytics ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
           " ON CONFLICT (call_uuid) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:]))
# The sampler's name for an analytics flag where the two differ (qa.sampling.RISK_FLAGS calls
# the long-dead-air risk "dead_air"); every other flag keeps its analytics name.
SAMPLING_FLAG = {"long_dead_air": "dead_air"}

Figure = float | int | None


@dataclass(frozen=True, slots=True)
class AnalyticsRow:
    """One call's stored analytics: the figures by column name, its flags and the full JSON."""

    call_uuid: str
    source_path: str
    analysed_at: float
    config_version: str
    figures: Mapping[str, Figure]
    flags: tuple[str, ...]
    analytics_json: str

    def data(self) -> dict[str, Any]:
        """The full analytics: ``CallAnalytics.to_json()`` decoded (segments as dicts)."""
        result: dict[str, Any] = json.loads(self.analytics_json)
        return result


def config_version(config: AnalyticsConfig) -> str:
    """A short digest of every threshold of ``config``: rows computed with other settings differ."""
    text = json.dumps(asdict(config), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def analytics_row(call_uuid: str, source_path: str, analytics: CallAnalytics, flags: Sequence[str],
                  version: str, now: float) -> AnalyticsRow:
    """The row of one analysed recording (``flags`` from ``recordings.analytics.flags``)."""
    data = analytics.to_dict()
    figures: dict[str, Figure] = {name: data[name] for name in _TOP}
    for side in ("customer", "agent"):
        figures.update({f"{side}_{name}": data[side][name] for name in _SIDE})
    return AnalyticsRow(call_uuid, source_path, now, version, figures, tuple(flags),
                        analytics.to_json())


def _params(row: AnalyticsRow) -> tuple[Any, ...]:
    return (row.call_uuid, row.source_path, row.analysed_at, row.config_version,
            *(row.figures[name] for name in FIGURES), json.dumps(list(row.flags)), row.analytics_json)


def write_row(conn: sqlite3.Connection, row: AnalyticsRow) -> None:
    """Insert or replace the call's row inside the caller's transaction (on the connection's thread)."""
    conn.execute(_UPSERT, _params(row))


def _row(values: Sequence[Any]) -> AnalyticsRow:
    call, source, at, version, *rest = values
    figures = dict(zip(FIGURES, rest[: len(FIGURES)], strict=True))
    flags, data = rest[len(FIGURES):]
    return AnalyticsRow(call, source, at, version, figures, tuple(json.loads(flags)), data)


class CallAnalyticsStore:
    """The ``call_analytics`` rows on a ``Store``'s connection (or any aiosqlite connection)."""

    def __init__(self, db: Store | aiosqlite.Connection) -> None:
        self._db: aiosqlite.Connection = db._db if isinstance(db, Store) else db

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    async def save(self, row: AnalyticsRow) -> None:
        """Insert or replace the call's row (one statement)."""
        await self._db.execute(_UPSERT, _params(row))

    async def get(self, call_uuid: str) -> AnalyticsRow | None:
        """The call's stored analytics, if any."""
        rows = await self._rows(f"SELECT {', '.join(_COLUMNS)} FROM call_analytics WHERE call_uuid = ?",
                                (call_uuid,))
        return _row(rows[0]) if rows else None

    async def archived(self, *, call: str | None = None, missing: bool = False,
                       skip: Collection[str] = (), limit: int | None = None) -> list[tuple[str, str]]:
        """(call uuid, WAV path) of calls with an archived recording not deleted by retention
        (the latest per call), oldest first: all, one ``call``, or those without a row
        (``missing``), leaving out ``skip``."""
        terms, params = ["a.deleted_at IS NULL"], list[Any]()
        if call is not None:
            terms.append("a.call_uuid = ?")
            params.append(call)
        if missing:
            terms.append("NOT EXISTS (SELECT 1 FROM call_analytics x WHERE x.call_uuid = a.call_uuid)")
        if skip:
            terms.append(f"a.call_uuid NOT IN ({', '.join('?' * len(skip))})")
            params.extend(skip)
        params.append(-1 if limit is None else limit)
        # SQLite takes the bare column (source_path) from the row holding max(a.id).
        rows = await self._rows(
            f"SELECT a.call_uuid, a.source_path, max(a.id) FROM archive a WHERE {' AND '.join(terms)}"
            " GROUP BY a.call_uuid ORDER BY max(a.id) LIMIT ?", params)
        return [(str(c), str(p)) for c, p, _ in rows]

    async def sampling_flags(self, start: float, end: float) -> dict[str, frozenset[str]]:
        """Risk flags by call uuid for the calls started in [start, end): the stored analytics
        flags (under the sampler's names, ``SAMPLING_FLAG``) and ``complaint`` for a call linked
        to a complaint case. Calls without any are left out."""
        rows = await self._rows(
            "SELECT c.uuid, x.flags, EXISTS (SELECT 1 FROM complaint_calls k WHERE k.call_uuid = c.uuid)"
            " FROM calls c LEFT JOIN call_analytics x ON x.call_uuid = c.uuid"
            " WHERE c.started_at >= ? AND c.started_at < ?", (start, end))
        found: dict[str, frozenset[str]] = {}
        for uuid, stored, complaint in rows:
            names = {SAMPLING_FLAG.get(f, f) for f in (json.loads(stored) if stored else ())}
            if complaint:
                names.add("complaint")
            if names:
                found[str(uuid)] = frozenset(names)
        return found
