"""The outbound report as text: an aligned table for people, CSV and JSON for machines.

CSV and JSON carry machine-readable numbers (seconds, rates as fractions, empty / null where a
figure is not defined at that level); the table shows hours as H:MM:SS and rates as percents.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any, Literal

from dialer.reports import OutboundReport, ReportError, ReportRow

__all__ = ["FIGURES", "Format", "render", "row_dict", "to_csv", "to_json", "to_table"]

Format = Literal["table", "csv", "json"]

# (name, table header, kind): the figures in column order.
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("dials", "Dials", "count"),
    ("connects", "Connects", "count"),
    ("connect_rate", "Connect%", "rate"),
    ("talk_s", "Talk", "seconds"),
    ("logged_in_s", "Logged in", "seconds"),
    ("conversions", "Conversions", "count"),
    ("refusals", "Refusals", "count"),
    ("conversion_rate", "Conv%", "rate"),
    ("refusal_rate", "Refusal%", "rate"),
    ("abandoned", "Abandoned", "count"),
    ("live_answers", "Live answers", "count"),
    ("abandon_rate", "Abandon%", "rate"),
)


def _number(kind: str, value: float | None) -> float | int | None:
    if value is None:
        return None
    if kind == "count":
        return int(value)
    # rounded so the file reads 0.25, not 0.25000000000000006
    return round(float(value), 6 if kind == "rate" else 3)


def row_dict(row: ReportRow) -> dict[str, Any]:
    """One row as JSON-ready values."""
    out: dict[str, Any] = {"level": row.level, "key": row.key, "team": row.team}
    for name, _, kind in FIGURES:
        out[name] = _number(kind, getattr(row, name))
    return out


def to_json(report: OutboundReport) -> dict[str, Any]:
    """The report as one JSON-ready object."""
    period = report.period
    return {
        "report": "outbound",
        "period": {"kind": period.kind, "label": period.label, "zone": period.zone,
                   "start": period.start, "end": period.end},
        "by": report.by,
        "campaign": report.campaign,
        "generated_at": report.generated_at,
        "rows": [row_dict(r) for r in report.rows],
        "campaigns": [row_dict(r) for r in report.campaigns],
        "total": row_dict(report.total),
    }


def to_csv(report: OutboundReport) -> str:
    """A header row, then every row (groups, campaigns, total) with the period's label."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line breaks
    writer.writerow(["period", "level", "key", "team", *(name for name, _, _ in FIGURES)])
    for row in report.all_rows():
        values = row_dict(row)
        writer.writerow([report.period.label, row.level, row.key, row.team or "",
                         *("" if values[name] is None else values[name] for name, _, _ in FIGURES)])
    return buffer.getvalue()


def _hms(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


_CELL: dict[str, Callable[[float], str]] = {
    "count": lambda v: str(int(v)),
    "rate": lambda v: f"{v * 100:.1f}%",
    "seconds": _hms,
}


def _cells(row: ReportRow) -> list[str]:
    label = {"campaign": f"campaign {row.key}", "total": "TOTAL"}.get(row.level, row.key)
    values = [label, row.team or ""]
    for name, _, kind in FIGURES:
        value = getattr(row, name)
        values.append("-" if value is None else _CELL[kind](value))
    return values


def to_table(report: OutboundReport) -> str:
    """An aligned table: group rows, campaign rows and the total, between rules."""
    period = report.period
    scope = f"campaign {report.campaign}" if report.campaign else "all campaigns"
    title = f"Outbound report, {period.kind} {period.label} ({period.zone}), by {report.by}, {scope}"
    header = [report.by.capitalize(), "Team" if report.by == "seat" else "", *(h for _, h, _ in FIGURES)]
    sections = [[_cells(r) for r in report.rows], [_cells(r) for r in report.campaigns],
                [_cells(report.total)]]
    table = [header, *(line for section in sections for line in section)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]

    def render_line(line: list[str]) -> str:
        text = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "  ".join(text).rstrip()

    rule = "-" * len(render_line(["-" * w for w in widths]))
    lines = [title, render_line(header), rule]
    for section in sections:
        if section:
            lines += [render_line(line) for line in section]
            lines.append(rule)
    return "\n".join(lines[:-1]) + "\n"


def render(report: OutboundReport, fmt: Format) -> str:
    """The report in one of the three formats (JSON indented, with a final newline)."""
    if fmt == "table":
        return to_table(report)
    if fmt == "csv":
        return to_csv(report)
    if fmt == "json":
        return json.dumps(to_json(report), indent=2) + "\n"
    raise ReportError(f"format is table, csv or json, not {fmt!r}")
