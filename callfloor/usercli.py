"""``callfloor user``: web users, their roles and passwords, and the audit log.

    callfloor user add USERNAME --role seat|lead|qa|admin [--name N] [--seat ID] [--team T]
                       [--lang en|zh] [--password-stdin]
    callfloor user list
    callfloor user edit USERNAME [--role R] [--name N] [--seat ID] [--team T] [--lang L]
    callfloor user passwd USERNAME [--password-stdin]   (ends the user's sessions)
    callfloor user disable USERNAME | enable USERNAME    (disable ends the user's sessions)
    callfloor user audit [--actor A] [--action X] [--subject S] [--since ISO] [--limit N]

Passwords are asked twice on the terminal, or read as one line from stdin with
--password-stdin; fewer than 8 characters are refused. Each change is written to the audit log
as done by ``--by`` (default ``cli:<your OS user>``). Each command takes ``--config FILE`` and
works on that configuration's database. Exit status: 0 done; 1 refused; 2 bad configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from callfloor.settings import ConfigError, Settings, load_settings
from callfloor.store import Store, StoreError
from callfloor.store.audit import AuditLog
from callfloor.store.users import LANGS, Role, UserRow, UserStore
from callfloor.web.passwords import Passwords, WeakPasswordError, check_strength

__all__ = ["add_parser", "os_user", "run"]

REFUSED, BAD_CONFIG = 1, 2


def os_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "cli"


def add_parser(sub: Any) -> None:
    """Add ``user`` and its commands to the ``callfloor`` subparsers ``sub``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file (default: $CALLFLOOR_CONFIG, else built-in defaults)")
    changes = argparse.ArgumentParser(add_help=False)
    changes.add_argument("--by", default=None, help="who makes the change, for the audit log (default: cli:<OS user>)")
    parser = sub.add_parser("user", help="web users, roles, passwords and the audit log",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", parents=[common, changes], help="create a user")
    edit = commands.add_parser("edit", parents=[common, changes], help="change a user's role, seat, team, name or language")
    for p, required in ((add, True), (edit, False)):
        p.add_argument("username")
        p.add_argument("--role", choices=[r.value for r in Role], required=required, help="what the user may do")
        p.add_argument("--name", help="display name")
        p.add_argument("--seat", help="the seat id ([[seats]]) a seat user is; '' to clear")
        p.add_argument("--team", help="a lead's team ([[teams]]); none: every team; '' to clear")
        p.add_argument("--lang", choices=LANGS, help="language of the pages")
    add.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    commands.add_parser("list", parents=[common], help="every user")
    passwd = commands.add_parser("passwd", parents=[common, changes], help="set a new password")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    for name, text in (("disable", "stop a user from logging in"), ("enable", "let a disabled user log in again")):
        commands.add_parser(name, parents=[common, changes], help=text).add_argument("username")
    audit = commands.add_parser("audit", parents=[common], help="the audit log, newest first")
    audit.add_argument("--actor", help="only entries by this user (e.g. ann, cli:root)")
    audit.add_argument("--action", help="only this action (e.g. login.failed, seat.move)")
    audit.add_argument("--subject", help="only this subject (e.g. user:ann, seat:1001, call:<uuid>)")
    audit.add_argument("--since", help="from this time, ISO 8601 (without an offset: UTC)")
    audit.add_argument("--limit", type=int, default=50, help="most entries shown (default 50)")


def run(args: argparse.Namespace, *, now: float | None = None, out: TextIO | None = None,
        err: TextIO | None = None, stdin: TextIO | None = None,
        ask: Callable[[str], str] = getpass.getpass, passwords: Passwords | None = None) -> int:
    """Carry out a parsed ``callfloor user`` command; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"callfloor: configuration refused:\n{exc}", file=err)
        return BAD_CONFIG
    cli = _Cli(settings, time.time() if now is None else now, out, err, stdin or sys.stdin, ask,
               passwords or Passwords())
    return asyncio.run(cli.main(args))


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _since(text: str) -> float:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class _Refused(Exception):
    """A command refused; the message is printed."""


class _Cli:
    """One command against the configured database."""

    def __init__(self, settings: Settings, now: float, out: TextIO, err: TextIO, stdin: TextIO,
                 ask: Callable[[str], str], passwords: Passwords) -> None:
        self.settings, self.now, self.out, self.err = settings, now, out, err
        self.stdin, self.ask, self.passwords = stdin, ask, passwords

    def say(self, text: str) -> None:
        print(text, file=self.out)

    async def main(self, args: argparse.Namespace) -> int:
        try:
            async with await Store.open(self.settings.storage.db_path) as store:
                command = getattr(self, f"do_{args.user_command}")
                await command(store, args)
        except (_Refused, StoreError, WeakPasswordError) as exc:
            print(f"callfloor user: {exc}", file=self.err)
            return REFUSED
        return 0

    def _password(self, args: argparse.Namespace) -> str:
        if args.password_stdin:
            password = self.stdin.readline().rstrip("\r\n")
        else:
            password = self.ask(f"Password for {args.username}: ")
            if self.ask("Again: ") != password:
                raise _Refused("the two passwords differ; nothing changed")
        check_strength(password, args.username)
        return password

    def _check_floor(self, seat: str | None, team: str | None) -> None:
        seats, teams = [s.id for s in self.settings.seats], [t.id for t in self.settings.teams]
        if seat and seat not in seats:
            raise _Refused(f"unknown seat {seat!r} (known: {', '.join(seats) or 'none'})")
        if team and team not in teams:
            raise _Refused(f"unknown team {team!r} (known: {', '.join(teams) or 'none'})")

    async def do_add(self, store: Store, args: argparse.Namespace) -> None:
        if args.role == Role.SEAT and not args.seat:
            raise _Refused("--seat is required for --role seat")
        self._check_floor(args.seat, args.team)
        users = UserStore(store)
        if await users.get(args.username) is not None:
            raise _Refused(f"user {args.username.strip().lower()} exists already")
        hashed = self.passwords.hash(self._password(args))
        row = await users.add(args.username, role=args.role, password_hash=hashed, now=self.now,
                              by=args.by or os_user(), name=args.name or "", seat=args.seat,
                              team=args.team, lang=args.lang or "en")
        self.say(f"added {row.username} ({row.role.value}{_where(row)})")

    async def do_edit(self, store: Store, args: argparse.Namespace) -> None:
        changes = {k: getattr(args, k) for k in ("role", "name", "seat", "team", "lang")
                   if getattr(args, k) is not None}
        if not changes:
            raise _Refused("nothing to change: give --role, --name, --seat, --team or --lang")
        self._check_floor(changes.get("seat"), changes.get("team"))
        row = await UserStore(store).update(args.username, changes, now=self.now, by=args.by or os_user())
        self.say(f"{row.username}: {row.role.value}{_where(row)}, lang {row.lang}, name {row.name!r}")

    async def do_list(self, store: Store, args: argparse.Namespace) -> None:
        rows = await UserStore(store).users()
        if not rows:
            self.say("no users (add one with: callfloor user add USERNAME --role admin)")
            return
        self.say(f"{'username':<20} {'role':<6} {'seat':<8} {'team':<12} {'lang':<4} {'status':<8} name")
        for r in rows:
            status = "disabled" if r.disabled else "active"
            self.say(f"{r.username:<20} {r.role.value:<6} {r.seat or '-':<8} {r.team or '-':<12} "
                     f"{r.lang:<4} {status:<8} {r.name}")

    async def do_passwd(self, store: Store, args: argparse.Namespace) -> None:
        users = UserStore(store)
        if await users.get(args.username) is None:
            raise _Refused(f"no user {args.username.strip().lower()!r}")
        hashed = self.passwords.hash(self._password(args))
        ended = await users.set_password(args.username, hashed, now=self.now, by=args.by or os_user())
        self.say(f"password of {args.username.strip().lower()} changed; {ended} sessions ended")

    async def do_disable(self, store: Store, args: argparse.Namespace) -> None:
        row = await UserStore(store).set_disabled(args.username, True, now=self.now, by=args.by or os_user())
        self.say(f"{row.username} is disabled")

    async def do_enable(self, store: Store, args: argparse.Namespace) -> None:
        row = await UserStore(store).set_disabled(args.username, False, now=self.now, by=args.by or os_user())
        self.say(f"{row.username} may log in")

    async def do_audit(self, store: Store, args: argparse.Namespace) -> None:
        if args.limit <= 0:
            raise _Refused(f"--limit must be positive, not {args.limit}")
        try:
            since = _since(args.since) if args.since else None
        except ValueError:
            raise _Refused(f"--since {args.since!r}: expected ISO 8601, e.g. 2026-02-25T08:00:00+08:00") from None
        entries = await AuditLog(store).entries(actor=args.actor, action=args.action, subject=args.subject,
                                                since=since, limit=args.limit)
        for e in entries:
            detail = json.dumps(e.detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            self.say(f"{_when(e.at)}  {e.actor:<16} {e.action:<16} {e.subject:<24} {detail}")
        if not entries:
            self.say("no audit entries match")


def _where(row: UserRow) -> str:
    parts = [f"seat {row.seat}" if row.seat else "", f"team {row.team}" if row.team else ""]
    return "".join(f", {p}" for p in parts if p)
