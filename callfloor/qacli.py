"""``callfloor qa``: the QA forms, the daily sample and the QA reports.

    callfloor qa forms                                  the form files and the stored versions
    callfloor qa sample --day YYYY-MM-DD [--seed N]     draw the day's sample per seat
    callfloor qa report daily --day YYYY-MM-DD [--csv]  scored calls, average, vetoes, defects
    callfloor qa report monthly --month YYYY-MM [--csv] per-seat and per-team weighted scores

Each takes ``--config FILE`` (the database of ``[storage]``, seats' teams from ``[[seats]]``),
``--forms DIR`` (default: ``[qa] forms``, config/qa), ``--policy FILE`` (a TOML SamplingPolicy, see docs/qa.md;
default: the built-in policy) and ``--tz ZONE`` (days are local to it). Exit status: 0 done;
1 refused (a day sampled already, a store error); 2 bad configuration or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from callfloor.qajob import draw_day, load_policy
from callfloor.settings import ConfigError, Settings, load_settings
from callfloor.store import Store, StoreError
from callfloor.store.qa import QaStore
from dialer.reports import Period, ReportError, parse_zone
from qa.forms import Form, FormError, load_forms
from qa.reports import (
    daily_csv,
    daily_summary,
    daily_table,
    monthly_csv,
    monthly_report,
    monthly_table,
)
from qa.sampling import SamplingPolicy

__all__ = ["add_parser", "load_policy", "run"]

REFUSED, BAD_CONFIG = 1, 2


def add_parser(sub: Any) -> None:
    """Add ``qa`` and its commands to the ``callfloor`` subparsers ``sub``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file (default: $CALLFLOOR_CONFIG, else built-in defaults)")
    common.add_argument("--forms", type=Path, help="folder of QA form files (default: [qa] forms, config/qa)")
    common.add_argument("--policy", type=Path, help="sampling policy TOML (default: [qa] policy, else quota 4, 8 for new seats)")
    common.add_argument("--tz", metavar="ZONE", help="IANA time zone of days and months (default: the machine's)")
    parser = sub.add_parser("qa", help="QA forms, daily samples and QA reports", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="qa_command", required=True, metavar="COMMAND")
    commands.add_parser("forms", parents=[common], help="the form files and the stored versions")
    sample = commands.add_parser("sample", parents=[common], help="draw the day's sample per seat")
    sample.add_argument("--day", required=True, metavar="YYYY-MM-DD", help="the local day whose calls are sampled")
    sample.add_argument("--seed", type=int, help="random seed (default: the day as YYYYMMDD); the same seed gives the same sample")
    report = commands.add_parser("report", help="daily summary or monthly scores").add_subparsers(
        dest="qa_report", required=True, metavar="REPORT")
    daily = report.add_parser("daily", parents=[common], help="the daily QA summary")
    daily.add_argument("--day", required=True, metavar="YYYY-MM-DD")
    monthly = report.add_parser("monthly", parents=[common], help="monthly per-seat and per-team scores")
    monthly.add_argument("--month", required=True, metavar="YYYY-MM")
    for command in (daily, monthly):
        command.add_argument("--csv", action="store_true", help="CSV instead of a table")


def run(args: argparse.Namespace, *, now: float | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Carry out a parsed ``callfloor qa`` command; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        settings = load_settings(args.config)
        forms = load_forms(args.forms or settings.qa.forms)
        policy = load_policy(args.policy or settings.qa.policy)
        tz = parse_zone(args.tz)
        period = _period(args, tz)
    except (ConfigError, FormError) as exc:
        print(f"callfloor: configuration refused:\n{exc}", file=err)
        return BAD_CONFIG
    except ReportError as exc:
        print(f"callfloor qa: {exc}", file=err)
        return BAD_CONFIG
    cli = _Cli(settings, forms, policy, time.time() if now is None else now, out, err)
    try:
        return asyncio.run(cli.main(args, period))
    except StoreError as exc:
        print(f"callfloor qa: {exc}", file=err)
        return REFUSED


def _period(args: argparse.Namespace, tz: Any) -> Period | None:
    if args.qa_command == "sample" or getattr(args, "qa_report", None) == "daily":
        return Period.parse(day=args.day, tz=tz)
    if args.qa_command == "report":
        return Period.parse(month=args.month, tz=tz)
    return None


class _Cli:
    """One command against the configured database."""

    def __init__(self, settings: Settings, forms: list[Form], policy: SamplingPolicy, now: float,
                 out: TextIO, err: TextIO) -> None:
        self.settings, self.forms, self.policy, self.now = settings, forms, policy, now
        self.out, self.err = out, err

    async def main(self, args: argparse.Namespace, period: Period | None) -> int:
        async with await Store.open(self.settings.storage.db_path) as store:
            qa = QaStore(store)
            await qa.sync_forms(self.forms, self.now)
            if args.qa_command == "forms":
                return await self.list_forms(qa)
            assert period is not None
            if args.qa_command == "sample":
                return await self.sample(store, period, args.seed, parse_zone(args.tz))
            if args.qa_report == "daily":
                summary = daily_summary(await qa.scored_between(period.start, period.end), day=period.label)
                self.out.write(daily_csv(summary) if args.csv else daily_table(summary))
                return 0
            first = date.fromisoformat(period.label + "-01")
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            calls = await qa.scored_for_days(first, after, period.start, period.end)
            report = monthly_report(calls, month=period.label)
            self.out.write(monthly_csv(report) if args.csv else monthly_table(report))
            return 0

    async def list_forms(self, qa: QaStore) -> int:
        print(f"{'form':<16} {'version':>7} {'evaluations':>11}  title", file=self.out)
        for form_id, version, title, used in await qa.forms():
            print(f"{form_id:<16} {version:>7} {used:>11}  {title}", file=self.out)
        return 0

    async def sample(self, store: Store, period: Period, seed: int | None, tz: Any) -> int:
        day = date.fromisoformat(period.label)
        sample = await draw_day(store, self.settings, self.policy, day, self.now, seed=seed, tz=tz)
        if sample is None:
            existing = await QaStore(store).sample_seed(day)
            print(f"callfloor qa: {day} was sampled already (seed {existing}); its picks stand", file=self.err)
            return REFUSED
        seed = sample.seed
        print(f"{day}: {len(sample.picks)} calls sampled from {sum(sample.calls.values())} "
              f"(seed {seed}, {len(sample.calls)} seats)", file=self.out)
        for pick in sample.picks:
            flags = ",".join(sorted(pick.flags)) or "-"
            print(f"  {pick.seat:<8} {pick.call:<36} {pick.stratum:<6} p={pick.probability:.3f}"
                  f" ({pick.drawn}/{pick.stratum_size})  {flags}", file=self.out)
        return 0
