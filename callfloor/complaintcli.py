"""``callfloor complaint`` and ``callfloor blacklist``: complaint cases and blacklist records.

    callfloor complaint open NUMBER --at WHEN --description TEXT [--channel C] [--tolerance MIN] [--by NAME]
    callfloor complaint list [--state S] [--number N]
    callfloor complaint show ID
    callfloor complaint link ID CALL [--by NAME]
    callfloor complaint close ID --outcome O [--note TEXT] [--by NAME]
    callfloor blacklist list [--number N] [--state S]
    callfloor blacklist preview NUMBER [--campaign C]
    callfloor blacklist add NUMBER --reason R [--campaign C] [--complaint ID] [--call UUID]
                            [--days N] [--by NAME] [--approved-by NAME]
    callfloor blacklist revoke ID --reason R [--by NAME]

WHEN is ISO 8601 with a UTC offset or unix seconds. ``blacklist add`` proposes a record; with
``--approved-by`` (a second person, unless the floor allows self-approval) it is approved at once
and the number goes on the dialer's do-not-call list. The CLI acts with the admin role; NAME
defaults to ``cli:<os user>``. Exit status: 0 done; 1 refused; 2 bad configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from callfloor.settings import ConfigError, load_settings
from callfloor.store import Store, StoreError
from callfloor.store.complaints import ComplaintStore
from qa.blacklist import BlacklistRecord, RecordAction
from qa.complaints import (
    CaseAction,
    Channel,
    Complaint,
    ComplaintError,
    ComplaintSettings,
    Outcome,
    normalise_number,
)

__all__ = ["add_parser", "run"]

REFUSED, BAD_CONFIG = 1, 2


def add_parser(sub: Any) -> None:
    """Add ``complaint`` and ``blacklist`` and their commands to the ``callfloor`` subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file (default: $CALLFLOOR_CONFIG, else built-in defaults)")
    common.add_argument("--by", help="who acts (default: cli:<os user>)")
    c = sub.add_parser("complaint", help="complaint cases", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    cc = c.add_subparsers(dest="complaint_command", required=True, metavar="COMMAND")
    op = cc.add_parser("open", parents=[common], help="open a case")
    op.add_argument("number")
    op.add_argument("--at", required=True, help="about when the call was (ISO 8601 with offset, or unix)")
    op.add_argument("--description", required=True)
    op.add_argument("--channel", default="phone", choices=[ch.value for ch in Channel])
    op.add_argument("--tolerance", type=float, default=30.0, help="minutes either side of --at (default 30)")
    ls = cc.add_parser("list", parents=[common], help="cases, newest first")
    ls.add_argument("--state")
    ls.add_argument("--number")
    cc.add_parser("show", parents=[common], help="a case, its candidate and linked calls").add_argument("id", type=int)
    ln = cc.add_parser("link", parents=[common], help="link a call to a case (holds its recording)")
    ln.add_argument("id", type=int)
    ln.add_argument("call")
    cl = cc.add_parser("close", parents=[common], help="close a case with an outcome")
    cl.add_argument("id", type=int)
    cl.add_argument("--outcome", required=True, choices=[o.value for o in Outcome])
    cl.add_argument("--note")
    b = sub.add_parser("blacklist", help="blacklist records (do-not-call with a reason)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    bc = b.add_subparsers(dest="blacklist_command", required=True, metavar="COMMAND")
    bl = bc.add_parser("list", parents=[common], help="records, newest first")
    bl.add_argument("--number")
    bl.add_argument("--state")
    pv = bc.add_parser("preview", parents=[common], help="pending leads a record would suppress")
    pv.add_argument("number")
    pv.add_argument("--campaign")
    add = bc.add_parser("add", parents=[common], help="propose a record (and approve it with --approved-by)")
    add.add_argument("number")
    add.add_argument("--reason", required=True)
    add.add_argument("--campaign", help="one campaign's list (default: the global list)")
    add.add_argument("--complaint", type=int)
    add.add_argument("--call")
    add.add_argument("--days", type=float, help="days until it expires (default: the configured expiry)")
    add.add_argument("--approved-by", help="the second person approving it")
    rv = bc.add_parser("revoke", parents=[common], help="revoke a record (or withdraw a proposal)")
    rv.add_argument("id", type=int)
    rv.add_argument("--reason", required=True)


def run(args: argparse.Namespace, *, now: float | None = None, out: TextIO | None = None,
        err: TextIO | None = None, policy: ComplaintSettings | None = None) -> int:
    """Carry out a parsed ``complaint`` or ``blacklist`` command; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"callfloor: configuration refused:\n{exc}", file=err)
        return BAD_CONFIG
    rules = policy or settings.complaints
    cli = _Cli(rules, time.time() if now is None else now, args.by or f"cli:{getpass.getuser()}", out)

    async def main() -> int:
        async with await Store.open(settings.storage.db_path) as store:
            return await cli.main(ComplaintStore(store), args)

    try:
        return asyncio.run(main())
    except (ComplaintError, StoreError, LookupError) as exc:
        print(f"callfloor: {exc.args[0] if exc.args else exc}", file=err)
        return REFUSED


def _when(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _parse_when(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ComplaintError(f"--at: ISO 8601 or unix seconds, not {text!r}") from None
    if moment.tzinfo is None:
        raise ComplaintError("--at: needs a UTC offset, e.g. 2026-02-25T14:00:00+08:00")
    return moment.timestamp()


class _Cli:
    """One command against the configured database."""

    def __init__(self, rules: ComplaintSettings, now: float, by: str, out: TextIO) -> None:
        self.rules, self.now, self.by, self.out = rules, now, by, out

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def case_line(self, c: Complaint) -> str:
        outcome = f" {c.outcome.value}" if c.outcome else ""
        return f"#{c.id:<5} {c.state.value:<18} {c.number:<16} {_when(c.approx_at)} {c.channel.value}{outcome}: {c.description}"

    def record_line(self, r: BlacklistRecord) -> str:
        scope = r.campaign_id or "global"
        who = r.proposed_by + (f"/{r.approved_by}" if r.approved_by else "")
        return f"#{r.id:<5} {r.state.value:<9} {r.number:<16} {scope:<12} until {_when(r.expires_at)} ({who}): {r.reason}"

    async def main(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        command = getattr(args, "complaint_command", None) or f"blacklist-{args.blacklist_command}"
        handler = getattr(self, command.replace("-", "_"))
        result: int = await handler(cs, args)
        return result

    async def open(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        case = await cs.open_case(args.number, _parse_when(args.at), args.tolerance * 60.0, args.channel,
                                  args.description, by=self.by, now=self.now, region=self.rules.default_region)
        self.say(f"opened {self.case_line(case)}")
        return 0

    async def list(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        number = normalise_number(args.number, self.rules.default_region) if args.number else None
        for case in await cs.cases(state=args.state, number=number):
            self.say(self.case_line(case))
        return 0

    async def show(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        case = await cs.case(args.id)
        self.say(self.case_line(case))
        linked = {c.uuid for c in await cs.linked_calls(case.id)}
        for m in await cs.candidates(case.number, case.approx_at, case.tolerance_s, region=self.rules.default_region):
            mark = "linked" if m.call.call in linked else "candidate"
            self.say(f"  {mark:<9} {m.call.call} {m.call.direction} {_when(m.call.started_at)} seat {m.call.seat or '-'}"
                     f" ({m.distance_s:.0f} s away{', recorded' if m.call.recording else ''})")
        for s in await cs.steps(case.id):
            self.say(f"  step {s.id}: {s.text} (due {_when(s.due_at)}, done {_when(s.done_at)})")
        for r in await cs.blacklist_records(complaint_id=case.id):
            self.say(f"  {self.record_line(r)}")
        return 0

    async def link(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        linked = await cs.link_call(args.id, args.call, by=self.by, now=self.now)
        self.say(f"call {args.call} {'linked to' if linked else 'was already linked to'} complaint {args.id}")
        return 0

    async def close(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        case = await cs.act(args.id, CaseAction.CLOSE, by=self.by, now=self.now, outcome=args.outcome, note=args.note)
        self.say(f"closed {self.case_line(case)}")
        return 0

    async def blacklist_list(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        number = normalise_number(args.number, self.rules.default_region) if args.number else None
        for r in await cs.blacklist_records(number=number, state=args.state):
            self.say(self.record_line(r))
        return 0

    async def blacklist_preview(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        number = normalise_number(args.number, self.rules.default_region)
        found = await cs.preview_blacklist(number, args.campaign)
        per = ", ".join(f"{c}: {n}" for c, n in found.leads.items()) or "none"
        listed = " (already on that do-not-call list)" if found.listed else ""
        self.say(f"{number}: would suppress {found.total} pending leads ({per}){listed}")
        return 0

    async def blacklist_add(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        number = normalise_number(args.number, self.rules.default_region)
        expires = self.now + args.days * 86400.0 if args.days else None
        record, found = await cs.propose_blacklist(
            number, campaign_id=args.campaign, reason=args.reason, complaint_id=args.complaint, call_uuid=args.call,
            expires_at=expires, by=self.by, role="admin", now=self.now, settings=self.rules)
        self.say(f"proposed {self.record_line(record)}; suppresses {found.total} pending leads")
        if args.approved_by:
            record = await cs.approve_blacklist(record.id, by=args.approved_by, role="admin", now=self.now,
                                                settings=self.rules)
            self.say(f"approved {self.record_line(record)}")
        return 0

    async def blacklist_revoke(self, cs: ComplaintStore, args: argparse.Namespace) -> int:
        record = await cs.end_blacklist(args.id, RecordAction.REVOKE, by=self.by, role="admin", now=self.now,
                                        reason=args.reason, settings=self.rules)
        self.say(f"revoked {self.record_line(record)}")
        return 0
