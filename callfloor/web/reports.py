"""HTTP reports: ``GET /api/reports/outbound`` as JSON (default) or CSV.

    /api/reports/outbound?day=2025-03-14&by=seat|team&campaign=C&format=json|csv[&tz=ZONE]
    /api/reports/outbound?month=2025-03&...

Each request reads on its own short-lived connection (see callfloor.store.reports), so a month's
report never holds up the service's writer. Bad parameters answer 400 with an ``error`` text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callfloor.settings import Settings
from callfloor.store.reports import ReportReader, outbound_report
from callfloor.store.schema import StoreError
from dialer.reports import Period, ReportBy, ReportError, parse_zone
from dialer.reports_format import to_csv, to_json

__all__ = ["report_routes"]

_KNOWN = {"day", "month", "by", "campaign", "format", "tz"}


def report_routes(settings: Settings, db_path: Path, *, clock: Callable[[], float] = time.time,
                  tz: tzinfo | None = None) -> list[Route]:
    """The report routes to mount in the app (``db_path``: the store's file; ``tz``: the
    default zone of days and months, None for the machine's)."""
    teams = {seat.id: seat.team for seat in settings.seats}

    async def outbound(request: Request) -> Response:
        query = request.query_params
        try:
            unknown = sorted(set(query) - _KNOWN)
            if unknown:
                raise ReportError(f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})")
            by, fmt = query.get("by", "seat"), query.get("format", "json")
            if by not in ("seat", "team"):
                raise ReportError(f"by is seat or team, not {by!r}")
            if fmt not in ("json", "csv"):
                raise ReportError(f"format is json or csv, not {fmt!r}")
            zone = parse_zone(query["tz"]) if "tz" in query else tz
            period = Period.parse(day=query.get("day"), month=query.get("month"), tz=zone)
        except ReportError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        grouping: ReportBy = "seat" if by == "seat" else "team"
        try:
            async with await ReportReader.open(db_path) as reader:
                report = await outbound_report(reader, period, by=grouping, teams=teams,
                                               now=clock(), campaign=query.get("campaign") or None)
        except StoreError as err:
            return JSONResponse({"error": str(err)}, status_code=503)
        if fmt == "csv":
            name = f"outbound-{period.label}-{grouping}.csv"
            return Response(to_csv(report), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return JSONResponse(to_json(report))

    return [Route("/api/reports/outbound", outbound, methods=["GET"])]
