"""``callfloor report outbound``: the outbound report for a day or a month, as table, CSV or JSON.

    callfloor report outbound --day 2025-03-14 [--by seat|team] [--campaign C]
                              [--format table|csv|json] [--config FILE] [--tz ZONE]
    callfloor report outbound --month 2025-03 ...

The database is the one the configuration names ([storage] data_dir); seats' teams come from
its [[seats]]. Days and months are local to ``--tz`` (default: the machine's zone).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from callfloor.settings import ConfigError, Settings, load_settings
from callfloor.store.reports import ReportReader, outbound_report
from callfloor.store.schema import StoreError
from dialer.reports import OutboundReport, Period, ReportBy, ReportError, parse_zone
from dialer.reports_format import Format, render

__all__ = ["add_parser", "read_report", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report outbound`` to the ``callfloor`` sub-commands."""
    report = sub.add_parser("report", help="print reports (outbound per seat/team, day/month)",
                            description="Reports from the call records and the dialer's ledger.")
    kinds = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    out = kinds.add_parser(
        "outbound", help="dials, connects, talk and logged-in time, conversions, refusals",
        description="The outbound report per seat or team for a local day or month: dials, "
        "connects, connect rate, talk time, logged-in time, conversions, refusals, their rates "
        "per connect, and abandonment per campaign. Definitions: docs/reports.md.",
    )
    when = out.add_mutually_exclusive_group(required=True)
    when.add_argument("--day", metavar="YYYY-MM-DD", help="one local day")
    when.add_argument("--month", metavar="YYYY-MM", help="one local calendar month")
    out.add_argument("--by", choices=("seat", "team"), default="seat", help="group rows by seat (default) or team")
    out.add_argument("--campaign", metavar="C", help="only this campaign's attempts")
    out.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    out.add_argument("--config", type=Path, help="TOML file (default: $CALLFLOOR_CONFIG, else built-in defaults)")
    out.add_argument("--tz", metavar="ZONE", help="IANA time zone of the day/month (default: the machine's)")


def _teams(settings: Settings) -> dict[str, str | None]:
    return {seat.id: seat.team for seat in settings.seats}


async def read_report(settings: Settings, period: Period, *, by: ReportBy, now: float,
                      campaign: str | None = None) -> OutboundReport:
    """The report from the database the settings name."""
    async with await ReportReader.open(settings.storage.db_path) as reader:
        return await outbound_report(reader, period, by=by, teams=_teams(settings), now=now,
                                     campaign=campaign)


def run(args: argparse.Namespace, *, now: float | None = None) -> int:
    """Print the report; 0 on success, 2 for bad arguments or configuration, 1 if unreadable."""
    try:
        settings = load_settings(args.config)
        period = Period.parse(day=args.day, month=args.month, tz=parse_zone(args.tz))
    except ConfigError as err:
        print(f"callfloor: configuration refused:\n{err}", file=sys.stderr)
        return 2
    except ReportError as err:
        print(f"callfloor report: {err}", file=sys.stderr)
        return 2
    by: ReportBy = args.by
    fmt: Format = args.format
    try:
        report = asyncio.run(read_report(settings, period, by=by, campaign=args.campaign,
                                         now=time.time() if now is None else now))
    except StoreError as err:
        print(f"callfloor report: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(render(report, fmt))
    return 0
