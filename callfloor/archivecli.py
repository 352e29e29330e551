"""``callfloor archive``: archive recordings now, verify the archive, run retention, find calls.

    callfloor archive run [--retry] [--after SECONDS] [--limit N]   archive finished recordings
    callfloor archive verify [--call UUID]         every recording is a whole WAV or a verified FLAC
    callfloor archive retention [--dry-run]        delete what retention says is due (not held)
    callfloor archive find [--number N] [--since T] [--until T] [--seat S] [--team T]
                           [--campaign C] [--queue Q] [--disposition D] [--call UUID]
                           [--min-duration S] [--max-duration S] [--deleted] [--limit N]
    callfloor archive hold CALL --reason TEXT      keep a call's recordings (an open complaint)
    callfloor archive release CALL                 the case is closed: its class's time applies
    callfloor archive analyse [--call UUID] [--missing] [--limit N]
                                                   (re)compute the stored audio analytics of
                                                   archived calls (all, one, or those without)

Each takes ``--config FILE`` and works on that configuration's database and archive
(``[storage]``, ``[archive]``). Times are ISO 8601 (``2026-01-02`` or ``2026-01-02T10:30``, UTC
unless they carry an offset) or unix seconds. Exit status: 0 done; 1 something to report (a
recording not archived, a verify failure, an unknown call); 2 bad configuration or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from callfloor.archivejob import Archiver
from callfloor.archiveretention import enforce_retention, verify
from callfloor.settings import ConfigError, Settings, load_settings
from callfloor.settings.archive import ArchiveSettings
from callfloor.store import Store
from callfloor.store.archive import ArchiveQuery, UnknownRecordingError
from recordings.storage import StorageError

__all__ = ["add_parser", "archive_settings", "main", "parse_time", "run"]

REPORT, BAD_INPUT = 1, 2


def archive_settings(settings: Settings) -> ArchiveSettings:
    """``settings.archive`` once the section is wired into Settings, else the defaults."""
    found = getattr(settings, "archive", None)
    return found if isinstance(found, ArchiveSettings) else ArchiveSettings()


def parse_time(text: str) -> float:
    """Unix seconds from ISO 8601 (UTC unless an offset is given) or a number."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (want 2026-01-02T10:30 or unix seconds)") from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def add_parser(sub: Any) -> None:
    """Add ``archive`` and its commands to the ``callfloor`` subparsers ``sub``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file (default: $CALLFLOOR_CONFIG, else built-in defaults)")
    parser = sub.add_parser("archive", help="the recordings archive: archive, verify, retention, find",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="archive_command", required=True, metavar="COMMAND")
    run_ = commands.add_parser("run", parents=[common], help="archive finished recordings now")
    run_.add_argument("--retry", action="store_true", help="try again the recordings reported as not archivable")
    run_.add_argument("--after", type=float, help="seconds after a call's end (default: [archive].after)")
    run_.add_argument("--limit", type=int, default=100000, help="most recordings to archive")
    check = commands.add_parser("verify", parents=[common], help="check every recording (or one call's)")
    check.add_argument("--call", help="one call's uuid")
    retention = commands.add_parser("retention", parents=[common], help="delete what is due")
    retention.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    find = commands.add_parser("find", parents=[common], help="search archived recordings")
    for name, text in (("--number", "caller or callee number"), ("--seat", "seat id"), ("--team", "team id"),
                       ("--campaign", "campaign id"), ("--queue", "queue name"), ("--call", "call uuid"),
                       ("--disposition", "disposition code or kind")):
        find.add_argument(name, help=text)
    find.add_argument("--since", type=parse_time, help="calls started at or after")
    find.add_argument("--until", type=parse_time, help="calls started before")
    find.add_argument("--min-duration", type=float, help="seconds of audio, at least")
    find.add_argument("--max-duration", type=float, help="seconds of audio, at most")
    find.add_argument("--deleted", action="store_true", help="include recordings retention deleted")
    find.add_argument("--limit", type=int, default=100, help="most rows (newest first)")
    hold = commands.add_parser("hold", parents=[common], help="keep a call's recordings")
    hold.add_argument("call")
    hold.add_argument("--reason", required=True, help="why (e.g. the complaint's id)")
    release = commands.add_parser("release", parents=[common], help="lift a hold")
    release.add_argument("call")
    analyse = commands.add_parser("analyse", parents=[common],
                                  help="(re)compute the audio analytics of archived calls")
    analyse.add_argument("--call", help="one call's uuid (default: every archived call)")
    analyse.add_argument("--missing", action="store_true", help="only calls without analytics")
    analyse.add_argument("--limit", type=_positive, help="most calls")


def run(args: argparse.Namespace, *, now: float | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Carry out a parsed ``callfloor archive`` command; return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"callfloor: configuration refused:\n{exc}", file=err)
        return BAD_INPUT
    return asyncio.run(_main(settings, args, time.time() if now is None else now, out, err))


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


async def _main(settings: Settings, args: argparse.Namespace, now: float, out: TextIO, err: TextIO) -> int:
    config = archive_settings(settings)
    if args.archive_command == "run" and args.after is not None:
        config = config.model_copy(update={"after": args.after})
    async with await Store.open(settings.storage.db_path) as store:
        try:
            archiver = Archiver(store, config, settings.storage)
            command = args.archive_command
            if command == "run":
                return await _run(archiver, args, now, out)
            if command == "verify":
                return await _verify(archiver, args.call, out)
            if command == "retention":
                return await _retention(archiver, now, args.dry_run, out)
            if command == "find":
                return await _find(archiver, settings, args, out, err)
            if command == "analyse":
                return await _analyse(archiver, args, now, out)
            if command == "hold":
                await archiver.index.hold(args.call, args.reason)
            else:
                await archiver.index.release(args.call)
            print(f"{command} {args.call}: done", file=out)
            return 0
        except UnknownRecordingError as exc:
            print(f"callfloor archive: {exc}", file=err)
            return REPORT
        except StorageError as exc:
            print(f"callfloor archive: storage: {exc}", file=err)
            return REPORT


async def _run(archiver: Archiver, args: argparse.Namespace, now: float, out: TextIO) -> int:
    if args.retry:
        await archiver.index.retry_problems()
    report = await archiver.run_once(now, limit=args.limit)
    for o in report.outcomes:
        if o.sha256:
            detail = f"{o.bytes} bytes, {o.duration:.1f} s, sha256 {o.sha256}, {_flags(o.flags)}"
        else:
            detail = f"{o.duration:.1f} s, {_flags(o.flags)}" if o.status == "analysed" else o.reason
        print(f"{o.status:<9} {o.call} {o.source_path}: {detail}", file=out)
    counts = {s: report.count(s) for s in ("archived", "finished", "problem", "failed")}
    print("archive run: " + ", ".join(f"{n} {s}" for s, n in counts.items()), file=out)
    return REPORT if counts["problem"] or counts["failed"] else 0


def _flags(flags: tuple[str, ...]) -> str:
    return "flags " + (",".join(flags) or "-")


async def _analyse(archiver: Archiver, args: argparse.Namespace, now: float, out: TextIO) -> int:
    outcomes = await archiver.analyse(now, call=args.call, missing=args.missing, limit=args.limit)
    for o in outcomes:
        detail = f"{o.duration:.1f} s, {_flags(o.flags)}" if o.status == "analysed" else o.reason
        print(f"{o.status:<10} {o.call} {o.source_path}: {detail}", file=out)
    failed = sum(1 for o in outcomes if o.status != "analysed")
    print(f"analyse: {len(outcomes) - failed} analysed, {failed} not analysed", file=out)
    return REPORT if failed else 0


async def _verify(archiver: Archiver, call: str | None, out: TextIO) -> int:
    results = await verify(archiver, call)
    for r in results:
        print(f"{r.state:<8} {r.call} {r.source_path}" + (f": {r.reason}" if r.reason else ""), file=out)
    bad = sum(1 for r in results if not r.ok)
    print(f"verify: {len(results)} recordings, {bad} not ok", file=out)
    return REPORT if bad or (call is not None and not results) else 0


async def _retention(archiver: Archiver, now: float, dry_run: bool, out: TextIO) -> int:
    report = await enforce_retention(archiver, now, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for d in report.deleted:
        print(f"{verb} {d.call} {d.storage_key} (class {d.retention_class}, due {_when(d.delete_after)})", file=out)
    for key, reason in report.failed:
        print(f"failed {key}: {reason}", file=out)
    print(f"retention: {verb} {len(report.deleted)} recordings, {report.bytes} bytes", file=out)
    return REPORT if report.failed else 0


async def _find(archiver: Archiver, settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    seats: tuple[str, ...] | None = None
    if args.team is not None:
        if args.team not in {t.id for t in settings.teams}:
            print(f"callfloor archive: unknown team {args.team!r}", file=err)
            return BAD_INPUT
        seats = tuple(s.id for s in settings.seats if s.team == args.team)
    if args.seat is not None:
        seats = (args.seat,) if seats is None or args.seat in seats else ()
    query = ArchiveQuery(call=args.call, seats=seats, campaign=args.campaign, queue=args.queue,
                         number=args.number, since=args.since, until=args.until,
                         disposition=args.disposition, min_duration=args.min_duration,
                         max_duration=args.max_duration, include_deleted=args.deleted)
    found = await archiver.index.find(query, limit=args.limit)
    for f in found:
        e = f.entry
        state = "deleted" if e.deleted_at is not None else ("held" if e.hold else e.retention_class)
        print(f"{_when(f.started_at)} {e.call_uuid} {f.direction:<8} {f.caller} -> {f.callee} seat {f.seat_id or '-'}"
              f" {e.duration:.1f}s {e.queue or e.campaign_id or '-'} {f.disposition or '-'} [{state}] {e.storage_key}",
              file=out)
    print(f"{len(found)} recordings", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m callfloor.archivecli COMMAND ...`` (the same as ``callfloor archive``)."""
    parser = argparse.ArgumentParser(prog="callfloor")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["archive", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
