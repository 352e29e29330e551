"""``callfloor campaign``: list campaigns, import lead lists, keep the do-not-call lists.

    callfloor campaign list                                   campaigns and their leads by status
    callfloor campaign import CAMPAIGN FILE.csv [--dry-run] [--strict | --no-strict]
    callfloor campaign history CAMPAIGN [--json]              every definition it has had
    callfloor campaign export CAMPAIGN [--out FILE]           its results: each lead and what became of it
    callfloor campaign recycle CAMPAIGN --outcome O [...] [--dry-run]   a new pass for finished leads
    callfloor campaign dnc add NUMBER [--campaign C] [--reason R] [--by NAME]
    callfloor campaign dnc remove NUMBER [--campaign C]
    callfloor campaign dnc check NUMBER [--campaign C]

Each takes ``--config FILE`` and works on that configuration's database (``[storage]``) and
campaign files (``[dialer].campaigns``). Exit status: 0 done; 1 refused (a bad file or number,
an unknown campaign; ``dnc check``: not listed; ``dnc remove``: was not listed); 2 bad
configuration; 3 imported, with bad rows skipped and reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from callfloor.settings import ConfigError, Settings, load_settings
from callfloor.store import Store
from callfloor.store.audit import AuditLog
from callfloor.store.dialer import DialerStore, UnknownCampaignError
from callfloor.store.dialer.leads import RECYCLABLE
from callfloor.usercli import os_user
from dialer.campaign import Campaign, CampaignError, load_campaigns
from dialer.holidays import load_calendar, shipped_countries
from dialer.leads import ImportReport, LeadFileError, parse_leads
from dialer.leads_export import results_csv
from dialer.numbers import NumberError, normalise
from dialer.records import LEAD_STATUSES, ImportResult, history_rows

__all__ = ["add_parser", "run"]

REFUSED, BAD_CONFIG, PARTIAL = 1, 2, 3


def add_parser(sub: Any) -> None:
    """Add ``campaign`` and its commands to the ``callfloor`` subparsers ``sub``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file (default: $CALLFLOOR_CONFIG, else built-in defaults)")
    parser = sub.add_parser("campaign", help="campaigns, lead imports and do-not-call lists",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="campaign_command", required=True, metavar="COMMAND")
    commands.add_parser("list", parents=[common], help="campaigns and their leads by status")
    imp = commands.add_parser("import", parents=[common], help="import a lead CSV into a campaign")
    imp.add_argument("campaign", help="campaign id")
    imp.add_argument("file", type=Path, help="lead CSV (UTF-8, header row with a 'number' column)")
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    imp.add_argument("--strict", action=argparse.BooleanOptionalAction, default=None,
                     help="refuse the whole file when any row is bad (default: [dialer].strict_import)")
    history = commands.add_parser("history", parents=[common],
                                  help="every definition a campaign has had, newest first")
    history.add_argument("campaign", help="campaign id")
    history.add_argument("--json", action="store_true", help="the versions with their full settings, as JSON")
    export = commands.add_parser("export", parents=[common],
                                 help="the campaign's results as CSV: each lead, its outcome and disposition")
    export.add_argument("campaign", help="campaign id")
    export.add_argument("--out", type=Path, help="write to this file (default: standard output)")
    recycle = commands.add_parser("recycle", parents=[common],
                                  help="a new pass for finished leads whose last call ended so")
    recycle.add_argument("campaign", help="campaign id")
    recycle.add_argument("--outcome", action="append", required=True, choices=RECYCLABLE,
                         help="the last outcome of the leads to recycle (repeat for several)")
    recycle.add_argument("--dry-run", action="store_true", help="count them, change nothing")
    dnc = commands.add_parser("dnc", help="the do-not-call lists").add_subparsers(
        dest="dnc_command", required=True, metavar="ACTION")
    for name, text in (("add", "put a number on a list"), ("remove", "take a number off a list"),
                       ("check", "show the lists a number is on")):
        action = dnc.add_parser(name, parents=[common], help=text)
        action.add_argument("number", help="the number (+ form, or national in [dialer].default_region)")
        action.add_argument("--campaign", help="the campaign's own list (default: the global list)")
        if name == "add":
            action.add_argument("--reason", default="added with the CLI", help="why (shown with the entry)")
            action.add_argument("--by", help="who added it")


def run(args: argparse.Namespace, *, now: float | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Carry out a parsed ``callfloor campaign`` command; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        settings = load_settings(args.config)
        campaigns = _campaigns(settings)
    except (ConfigError, CampaignError) as exc:
        print(f"callfloor: configuration refused:\n{exc}", file=err)
        return BAD_CONFIG
    cli = _Cli(settings, campaigns, time.time() if now is None else now, out, err)
    return asyncio.run(cli.main(args))


def _campaigns(settings: Settings) -> dict[str, Campaign]:
    folder = settings.dialer.campaigns
    if folder is None:
        return {}
    found = load_campaigns(folder, seats=[s.id for s in settings.seats], teams=[t.id for t in settings.teams])
    return {c.id: c for c in found}


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


class _Cli:
    """One command against the configured database."""

    def __init__(self, settings: Settings, campaigns: dict[str, Campaign], now: float, out: TextIO, err: TextIO) -> None:
        self.settings, self.campaigns, self.now = settings, campaigns, now
        self.api: set[str] = set()  # the ids of campaigns stored over the HTTP API
        self.out, self.err = out, err

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def refuse(self, text: str) -> int:
        print(f"callfloor campaign: {text}", file=self.err)
        return REFUSED

    async def main(self, args: argparse.Namespace) -> int:
        async with await Store.open(self.settings.storage.db_path) as store:
            dialer = DialerStore(store, hold=self.settings.dialer.abandon_hold_hours * 3600.0)
            await dialer.sync_campaigns(list(self.campaigns.values()), self.now)
            # Campaigns made over the HTTP API are the CLI's too; a file's id wins, as at start.
            stored = [c for c in await dialer.api_campaigns() if c.id not in self.campaigns]
            self.api = {c.id for c in stored}
            self.campaigns.update((c.id, c) for c in stored)
            if args.campaign_command == "list":
                return await self.list(dialer)
            if args.campaign_command == "import":
                return await self.import_file(dialer, args)
            if args.campaign_command == "history":
                return await self.history(dialer, args)
            if args.campaign_command == "export":
                return await self.export(dialer, AuditLog(store), args)
            if args.campaign_command == "recycle":
                return await self.recycle(dialer, AuditLog(store), args)
            return await self.dnc(dialer, args)

    async def list(self, dialer: DialerStore) -> int:
        if not self.campaigns:
            self.say("no campaigns ([dialer].campaigns names no directory, or it has no *.toml,"
                     " and none was made over the HTTP API)")
            return 0
        self.say(f"{'campaign':<16} {'source':<6} {'mode':<12} {'active':<6} {'leads':>6}  "
                 + " ".join(f"{s:>8}" for s in LEAD_STATUSES))
        for c in self.campaigns.values():
            counts = await dialer.lead_counts(c.id)
            row = " ".join(f"{counts.get(s, 0):>8}" for s in LEAD_STATUSES)
            source = "api" if c.id in self.api else "file"
            self.say(f"{c.id:<16} {source:<6} {c.mode:<12} {'yes' if c.active else 'no':<6}"
                     f" {sum(counts.values()):>6}  {row}")
            countries = {country for _, country in await dialer.lead_zones(c.id)}
            for warning in [*c.warnings(), *_holiday_gaps(countries, self.now)]:
                self.say(f"  warning: {warning}")
        return 0

    async def history(self, dialer: DialerStore, args: argparse.Namespace) -> int:
        try:
            rows = history_rows(await dialer.versions(args.campaign))
        except UnknownCampaignError as exc:
            return self.refuse(str(exc))
        if args.json:
            self.say(json.dumps({"campaign": args.campaign, "versions": rows}, indent=2))
            return 0
        self.say(f"{'at':<20} {'source':<6} {'change':<14} {'by':<16} changed")
        for row in rows:
            changed = "(all)" if row["change"] in ("created", "existing") else ", ".join(row["changed"]) or "-"
            self.say(f"{_when(row['at']):<20} {row['source']:<6} {row['change']:<14} {row['by'] or '-':<16} {changed}")
        return 0

    async def export(self, dialer: DialerStore, audit: AuditLog, args: argparse.Namespace) -> int:
        try:
            results = await dialer.lead_results(args.campaign)
        except UnknownCampaignError as exc:
            return self.refuse(str(exc))
        text = results_csv(results)
        if args.out is None:
            self.out.write(text)
        else:
            try:  # a BOM, as the HTTP download has, so that a spreadsheet reads it as UTF-8
                args.out.write_text("\ufeff" + text, encoding="utf-8", newline="")
            except OSError as exc:
                return self.refuse(f"cannot write {args.out}: {exc}")
            self.say(f"{args.out}: {len(results)} leads of {args.campaign}")
        await audit.write(os_user(), "campaign.exported", f"campaign:{args.campaign}",
                          {"leads": len(results), "via": "cli"}, self.now)
        return 0

    async def recycle(self, dialer: DialerStore, audit: AuditLog, args: argparse.Namespace) -> int:
        try:
            count = await dialer.recycle_leads(args.campaign, args.outcome, self.now, dry_run=args.dry_run)
        except UnknownCampaignError as exc:
            return self.refuse(str(exc))
        outcomes = ", ".join(sorted(set(args.outcome)))
        if args.dry_run:
            self.say(f"would recycle {count} leads of {args.campaign} (last outcome {outcomes})")
            return 0
        await audit.write(os_user(), "campaign.recycled", f"campaign:{args.campaign}",
                          {"outcomes": sorted(set(args.outcome)), "leads": count, "via": "cli"}, self.now)
        self.say(f"recycled {count} leads of {args.campaign} (last outcome {outcomes}): due again now,"
                 " attempts counted from 0")
        return 0

    async def import_file(self, dialer: DialerStore, args: argparse.Namespace) -> int:
        campaign = self.campaigns.get(args.campaign)
        if campaign is None:
            return self.refuse(f"unknown campaign {args.campaign!r} (known: {', '.join(self.campaigns) or 'none'})")
        try:
            data = args.file.read_bytes()
        except OSError as exc:
            return self.refuse(f"{args.file}: cannot read: {exc.strerror or exc}")
        region = campaign.default_region or self.settings.dialer.default_region
        try:
            report = parse_leads(data, region=region, now=self.now, countries=campaign.countries)
        except LeadFileError as exc:
            return self.refuse(f"{args.file}: {exc}; nothing imported")
        self._report(args.file, report)
        strict = self.settings.dialer.strict_import if args.strict is None else args.strict
        if strict and report.errors:
            return self.refuse(f"{args.file}: {len(report.errors)} bad rows and --strict: nothing imported")
        if args.dry_run:
            result = await dialer.preview_import(campaign.id, report)
        else:
            result = await dialer.import_leads(campaign.id, report, self.now)
        self._result(campaign.id, result, args.dry_run)
        return PARTIAL if report.errors else 0

    def _report(self, path: Path, report: ImportReport) -> None:
        self.say(f"{path}: {report.rows} rows, {len(report.leads)} leads, {len(report.merges)} merged, "
                 f"{len(report.errors)} bad")
        for item in (*report.errors, *report.merges):
            self.say(f"  {item}")

    def _result(self, campaign_id: str, result: ImportResult, dry_run: bool) -> None:
        verb = "would import" if dry_run else "imported"
        self.say(f"{verb} {result.inserted} new leads into {campaign_id} ({result.held} held: time zone "
                 f"unknown; {len(result.existing)} already in the campaign; {result.on_dnc} on a do-not-call list)")
        for line, number in result.existing:
            self.say(f"  line {line}: {number} is already a lead of {campaign_id}, left as it is")

    async def dnc(self, dialer: DialerStore, args: argparse.Namespace) -> int:
        if args.campaign is not None and args.campaign not in self.campaigns:
            return self.refuse(f"unknown campaign {args.campaign!r} (known: {', '.join(self.campaigns) or 'none'})")
        region = self.campaigns[args.campaign].default_region if args.campaign else None
        try:
            number = normalise(args.number, region or self.settings.dialer.default_region).e164
        except NumberError as exc:
            return self.refuse(f"{args.number!r}: {exc}")
        where = f"the {args.campaign} do-not-call list" if args.campaign else "the global do-not-call list"
        if args.dnc_command == "add":
            added = await dialer.dnc_add(number, now=self.now, reason=args.reason, source="cli",
                                         campaign_id=args.campaign, added_by=args.by)
            self.say(f"{number} {'added to' if added else 'is already on'} {where}")
            return 0
        if args.dnc_command == "remove":
            removed = await dialer.dnc_remove(number, campaign_id=args.campaign)
            self.say(f"{number} {'removed from' if removed else 'is not on'} {where}")
            return 0 if removed else REFUSED
        entries = await dialer.dnc_check(number, campaign_id=args.campaign)
        for e in entries:
            listed = "global list" if e.is_global else f"campaign {e.campaign_id} list"
            by = f" by {e.added_by}" if e.added_by else ""
            self.say(f"{number}: on the {listed} since {_when(e.added_at)} ({e.source}{by}: {e.reason})")
        if not entries:
            self.say(f"{number}: not on any do-not-call list" + (f" that {args.campaign} honours" if args.campaign else ""))
        return 0 if entries else REFUSED


def _holiday_gaps(countries: set[str], now: float) -> list[str]:
    """Countries whose shipped holiday data does not cover this year or the next."""
    year = datetime.fromtimestamp(now, UTC).year
    out = []
    for code in sorted(countries & set(shipped_countries())):
        calendar = load_calendar(code)
        missing = [y for y in (year, year + 1) if not calendar.covers(y)]
        partial = [y for y in missing if y in calendar.statutory_years]
        unknown = [y for y in missing if y not in calendar.statutory_years]
        if partial:
            out.append(f"no published {code} holiday arrangement for {', '.join(map(str, partial))} "
                       f"({calendar.source}); only its statutory holidays are closed, bridging days off "
                       "and make-up working days are not known yet")
        if unknown:
            out.append(f"no {code} holiday data for {', '.join(map(str, unknown))} ({calendar.source}); "
                       "its days are treated as ordinary days")
    return out
