"""A campaign's results file: each lead as it was imported (its own columns kept), with what
became of it: status, attempts, the last outcome and attempt, the seat's last disposition and
note, a pending callback. Pure: rows in, CSV text out.

Times are ISO 8601 in UTC. A cell a spreadsheet would run as a formula (one starting with ``=``,
``@``, a tab or a carriage return, or ``+``/``-`` not followed by a number) gets a leading ``'``
(OWASP's CSV-injection advice), so a note typed by a seat cannot become one; E.164 numbers stay
as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from dialer.records import LeadResult

__all__ = ["RESULT_COLUMNS", "results_csv"]

RESULT_COLUMNS = ("lead_id", "number", "name", "status", "attempts", "last_outcome", "last_attempt_at",
                  "disposition", "disposition_kind", "disposition_note", "disposition_seat", "disposed_at",
                  "callback_at", "import_line")
_NUMBER = re.compile(r"[+-]?[0-9][0-9 .]*")


def results_csv(results: Sequence[LeadResult]) -> str:
    """The results file: ``RESULT_COLUMNS``, then the leads' own columns in order of first
    appearance (one that shares a name with a result column is written as ``data:<name>``)."""
    extra: dict[str, str] = {}
    for r in results:
        for key in r.lead.data:
            extra.setdefault(key, f"data:{key}" if key in RESULT_COLUMNS else key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*RESULT_COLUMNS, *extra.values()])
    for r in results:
        lead = r.lead
        row = [lead.id, lead.number, lead.name, lead.status, lead.attempts, lead.last_outcome,
               _when(r.last_attempt_at), r.disposition, r.disposition_kind, r.note, r.seat,
               _when(r.disposed_at), _when(r.callback_at), lead.import_line,
               *(lead.data.get(key) for key in extra)]
        writer.writerow(["" if v is None else _safe(str(v)) for v in row])
    return out.getvalue()


def _when(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _safe(cell: str) -> str:
    if cell[:1] in ("=", "@", "\t", "\r") or (cell[:1] in ("+", "-") and not _NUMBER.fullmatch(cell)):
        return "'" + cell
    return cell
