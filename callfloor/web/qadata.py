"""Read-only QA queries the pages need beyond ``QaStore``: the day's review queue joined with
the calls and their evaluations, evaluations by call or seat with defects and dispute, the open
disputes. Plain SELECTs on the store's connection (the writes stay in ``QaStore``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiosqlite

from callfloor.store.db import Store

__all__ = ["QaReads"]

_QUEUE = """
SELECT s.call_uuid, s.seat_id, s.team_id, s.stratum, s.stratum_size, s.drawn, s.probability, s.flags,
       c.started_at, c.duration, c.direction, c.caller, c.callee, c.recording_path,
       e.id, e.score, e.status, e.reviewer, e.veto, s.day
FROM qa_samples s
LEFT JOIN calls c ON c.uuid = s.call_uuid
LEFT JOIN qa_evaluations e ON e.call_uuid = s.call_uuid AND e.status != 'revised'
WHERE {where}
ORDER BY s.seat_id, c.started_at, s.call_uuid
"""
_EVALUATION = """
SELECT e.id, e.call_uuid, e.seat_id, e.team_id, e.form_id, e.form_version, e.reviewer, e.answers,
       e.score, e.unvetoed, e.veto, e.coaching, e.submitted_at, e.status, e.revises,
       d.reason, d.disputed_at, d.second_reviewer, d.decision, d.decision_note, d.decided_at,
       d.revision_id, c.started_at, c.duration, c.direction
FROM qa_evaluations e
LEFT JOIN qa_disputes d ON d.evaluation_id = e.id
LEFT JOIN calls c ON c.uuid = e.call_uuid
WHERE {where}
ORDER BY e.submitted_at DESC, e.id DESC
"""
_DISPUTE_KEYS = ("reason", "disputed_at", "second_reviewer", "decision", "decision_note", "decided_at",
                 "revision")


def _queue_item(row: Sequence[Any]) -> dict[str, Any]:
    (call, seat, team, stratum, size, drawn, probability, flags, started, duration, direction,
     caller, callee, recording, evaluation, score, status, reviewer, veto, day) = row
    return {"call": call, "day": day, "seat": seat, "team": team, "stratum": stratum, "stratum_size": size,
            "drawn": drawn, "probability": probability, "flags": json.loads(flags),
            "started_at": started, "duration_s": duration, "direction": direction, "caller": caller,
            "callee": callee, "recorded": bool(recording), "evaluation": evaluation, "score": score,
            "status": status or "pending", "reviewer": reviewer,
            "veto": json.loads(veto) if veto else []}


class QaReads:
    """The pages' QA queries on a ``Store``'s connection."""

    def __init__(self, db: Store | aiosqlite.Connection) -> None:
        self._db: aiosqlite.Connection = db._db if isinstance(db, Store) else db

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    async def queue(self, day: str) -> list[dict[str, Any]]:
        """The day's picks with their call and current evaluation, by seat and start time."""
        return [_queue_item(r) for r in await self._rows(_QUEUE.format(where="s.day = ?"), (day,))]

    async def pick(self, call: str) -> dict[str, Any] | None:
        """The call's sample pick (with the day it was drawn for), or None when not sampled."""
        rows = await self._rows(_QUEUE.format(where="s.call_uuid = ?"), (call,))
        return _queue_item(rows[0]) if rows else None

    async def _evaluations(self, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        rows = await self._rows(_EVALUATION.format(where=where), params)
        ids = [r[0] for r in rows]
        defects: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            marks = ", ".join("?" * len(ids))
            for evaluation, category, at_s, note in await self._rows(
                    f"SELECT evaluation_id, category, at_s, note FROM qa_defects WHERE evaluation_id IN ({marks})"
                    " ORDER BY id", ids):
                defects[evaluation].append({"category": category, "at_s": at_s, "note": note})
        out = []
        for r in rows:
            dispute = dict(zip(_DISPUTE_KEYS, r[15:22], strict=True)) if r[16] is not None else None
            out.append({"id": r[0], "call": r[1], "seat": r[2], "team": r[3], "form_id": r[4],
                        "form_version": r[5], "reviewer": r[6], "answers": json.loads(r[7]), "score": r[8],
                        "unvetoed": r[9], "veto": json.loads(r[10]), "coaching": r[11],
                        "submitted_at": r[12], "status": r[13], "revises": r[14], "dispute": dispute,
                        "defects": defects[r[0]], "call_started_at": r[22], "call_duration_s": r[23],
                        "direction": r[24]})
        return out

    async def by_call(self, call: str) -> list[dict[str, Any]]:
        """Every evaluation of a call (revised ones too), newest first."""
        return await self._evaluations("e.call_uuid = ?", (call,))

    async def by_seat(self, seat: str, limit: int = 200) -> list[dict[str, Any]]:
        """A seat's evaluations, newest first."""
        return (await self._evaluations("e.seat_id = ?", (seat,)))[:limit]

    async def one(self, evaluation: int) -> dict[str, Any] | None:
        """One evaluation with its defects and dispute, or None."""
        found = await self._evaluations("e.id = ?", (evaluation,))
        return found[0] if found else None

    async def open_disputes(self) -> list[dict[str, Any]]:
        """Evaluations disputed and not yet decided, oldest dispute first."""
        found = await self._evaluations("e.status IN ('disputed', 'in_review')", ())
        return sorted(found, key=lambda e: e["dispute"]["disputed_at"] if e["dispute"] else 0.0)
