"""Retention and verification of the archive: delete what is due (never what is held), and check
that every recording is either a whole WAV or a FLAC that matches its index row."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recordings.archive import ArchiveError, verify_flac
from recordings.storage import StorageError
from recordings.wavcheck import CorruptRecordingError, check_wav

if TYPE_CHECKING:
    from callfloor.archivejob import Archiver

__all__ = ["DeletedRecording", "RetentionReport", "VerifyResult", "enforce_retention", "verify"]

log = logging.getLogger("callfloor.archive")


@dataclass(frozen=True, slots=True)
class DeletedRecording:
    """One FLAC removed by retention (or that would be, in a dry run)."""

    call: str
    storage_key: str
    retention_class: str
    delete_after: float
    bytes: int


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one retention run deleted, and what it could not."""

    at: float
    dry_run: bool
    deleted: tuple[DeletedRecording, ...]
    failed: tuple[tuple[str, str], ...]  # (storage key, reason)

    @property
    def bytes(self) -> int:
        """Bytes freed."""
        return sum(d.bytes for d in self.deleted)


async def enforce_retention(archiver: Archiver, now: float, *, dry_run: bool = False) -> RetentionReport:
    """Delete every archived recording whose class's time is up and that is not held; log each,
    and write one ``archive.retention`` event with the list."""
    deleted: list[DeletedRecording] = []
    failed: list[tuple[str, str]] = []
    for entry in await archiver.index.due(now):
        assert entry.delete_after is not None  # due() selects only rows with a deadline
        item = DeletedRecording(entry.call_uuid, entry.storage_key, entry.retention_class,
                                entry.delete_after, entry.bytes)
        if dry_run:
            deleted.append(item)
            continue
        # The row is marked first: a crash between the two leaves a stray object, never a row
        # that points at nothing while claiming to be kept.
        if not await archiver.index.mark_deleted(entry.id, now):
            continue  # held or deleted since due() read it
        try:
            await asyncio.to_thread(archiver.backend.delete, entry.storage_key)
        except StorageError as exc:
            failed.append((entry.storage_key, str(exc)))
            log.error("retention: %s marked deleted but not removed: %s", entry.storage_key, exc)
        log.info("retention: deleted %s of call %s (class %s, due %.0f)", entry.storage_key,
                 entry.call_uuid, entry.retention_class, entry.delete_after)
        deleted.append(item)
    report = RetentionReport(now, dry_run, tuple(deleted), tuple(failed))
    if not dry_run and (deleted or failed):
        await archiver.store.record_event("archive.retention", "archive", now, {
            "deleted": [{"call": d.call, "key": d.storage_key, "class": d.retention_class,
                         "bytes": d.bytes} for d in deleted],
            "failed": [{"key": k, "reason": r} for k, r in failed], "ts": now})
    return report


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The state of one call's recording: 'wav' (not archived yet, the WAV checks out),
    'flac' (archived, the FLAC matches its hash and decodes), 'deleted' (by retention), or
    'missing' / 'corrupt' with the reason."""

    call: str
    source_path: str
    state: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True for wav, flac and deleted."""
        return self.state in ("wav", "flac", "deleted")


async def verify(archiver: Archiver, call: str | None = None) -> list[VerifyResult]:
    """Check every recorded call (or one): the invariant "the WAV or a verified FLAC"."""
    rows = await archiver.index.recorded_calls(call)
    results = []
    for uuid, source in rows:
        results.append(await _verify_one(archiver, str(uuid), str(source)))
    return results


async def _verify_one(archiver: Archiver, call: str, source: str) -> VerifyResult:
    entry = await archiver.index.entry_for(source)
    if entry is not None and entry.deleted_at is not None:
        return VerifyResult(call, source, "deleted")
    if entry is not None:
        try:
            data = await asyncio.to_thread(archiver.backend.get, entry.storage_key, entry.sha256)
            await asyncio.to_thread(verify_flac, data, archiver.backend.describe(entry.storage_key),
                                    frames=entry.frames, rate=entry.sample_rate, sha256=entry.sha256)
        except (StorageError, ArchiveError) as exc:
            return VerifyResult(call, source, "corrupt", str(exc))
        return VerifyResult(call, source, "flac")
    wav = archiver.recordings / source
    if not wav.exists():
        return VerifyResult(call, source, "missing", f"{wav}: no WAV and no archived FLAC")
    try:
        await asyncio.to_thread(check_wav, wav)
    except CorruptRecordingError as exc:
        return VerifyResult(call, source, "corrupt", exc.reason)
    return VerifyResult(call, source, "wav")
