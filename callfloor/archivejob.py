"""The archive job: finished recordings -> verified FLAC + index row -> WAV deleted, and retention.

``Archiver`` does one thing per method (``run_once``, ``enforce_retention``, ``verify``,
``open_recording``) so the service's task, the CLI and the tests call the same code. File work
(encode, hash, upload, delete) runs in a worker thread; the index is written on the event loop,
between the FLAC being verified and the WAV being deleted (see recordings/archive.py for the
steps and what a kill -9 after each leaves).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from callfloor.archiveretention import enforce_retention
from callfloor.settings.archive import ArchiveSettings
from callfloor.settings.sections import StorageSettings
from callfloor.store.archive import ArchiveEntry, ArchiveIndex, Candidate
from callfloor.store.db import Store
from recordings.archive import ArchiveError, clear_scratch, confirm, discard_wav, flac_key, stage
from recordings.storage import DirectoryStore, ObjectStore, S3Store, StorageError
from recordings.wavcheck import CorruptRecordingError

__all__ = [
    "ArchiveOutcome",
    "ArchiveRunReport",
    "Archiver",
    "RecordingNotFoundError",
    "open_backend",
]

log = logging.getLogger("callfloor.archive")


class RecordingNotFoundError(LookupError):
    """A call has no recording to serve (none made, or deleted by retention)."""


@dataclass(frozen=True, slots=True)
class ArchiveOutcome:
    """What happened to one recording: 'archived', 'finished' (a run stopped after indexing
    was completed), 'problem' (reported, left in place) or 'failed' (retried next run)."""

    call: str
    source_path: str
    status: str
    reason: str = ""
    sha256: str = ""
    bytes: int = 0
    duration: float = 0.0


@dataclass(frozen=True, slots=True)
class ArchiveRunReport:
    """One look for recordings to archive."""

    outcomes: tuple[ArchiveOutcome, ...]
    cleared_parts: int = 0

    def count(self, status: str) -> int:
        """How many outcomes have this status."""
        return sum(1 for o in self.outcomes if o.status == status)


def open_backend(archive: ArchiveSettings, storage: StorageSettings, *, create_bucket: bool = False) -> ObjectStore:
    """The configured object store (the S3 client is built, nothing is contacted for 'dir')."""
    if archive.backend == "dir":
        return DirectoryStore(archive.directory(storage))
    assert archive.s3_endpoint is not None and archive.s3_bucket is not None  # validated
    key = archive.s3_access_key.get_secret_value() if archive.s3_access_key else None
    secret = archive.s3_secret_key.get_secret_value() if archive.s3_secret_key else None
    return S3Store(archive.s3_endpoint, archive.s3_bucket, access_key=key, secret_key=secret,
                   secure=archive.s3_secure, region=archive.s3_region, prefix=archive.s3_prefix,
                   create_bucket=create_bucket)


class Archiver:
    """Archives the recordings of one store's calls into one backend."""

    def __init__(self, store: Store, archive: ArchiveSettings, storage: StorageSettings,
                 *, backend: ObjectStore | None = None) -> None:
        self.store = store
        self.index = ArchiveIndex(store)
        self.settings = archive
        self.recordings = storage.recordings_dir
        self.scratch = archive.scratch(storage)
        self.backend = backend if backend is not None else open_backend(archive, storage)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._recovered = False

    # -- archiving -------------------------------------------------------------------------

    async def recover(self) -> list[ArchiveOutcome]:
        """Finish what a stopped run left: drop part files, delete the WAVs of indexed rows
        once their FLAC checks out against the index and the WAV."""
        cleared = await asyncio.to_thread(clear_scratch, self.scratch)
        if cleared:
            log.info("archive: removed %d unfinished FLAC part files", len(cleared))
        done = []
        for entry in await self.index.unfinished():
            done.append(await self._finish(entry))
        self._recovered = True
        return done

    async def _finish(self, entry: ArchiveEntry) -> ArchiveOutcome:
        wav = self.recordings / entry.source_path
        try:
            present = await asyncio.to_thread(confirm, wav, entry.storage_key, self.backend, entry.sha256)
        except (CorruptRecordingError, ArchiveError, StorageError, OSError) as exc:
            log.error("archive: %s is indexed but does not check out; WAV kept: %s", wav, exc)
            return ArchiveOutcome(entry.call_uuid, entry.source_path, "failed", str(exc))
        if present:
            await asyncio.to_thread(discard_wav, wav)
        await self.index.source_removed(entry.id)
        return ArchiveOutcome(entry.call_uuid, entry.source_path, "finished", "", entry.sha256,
                              entry.bytes, entry.duration)

    async def run_once(self, now: float, *, limit: int | None = None) -> ArchiveRunReport:
        """Archive the recordings of calls that ended ``after`` seconds before ``now``."""
        outcomes: list[ArchiveOutcome] = []
        cleared = 0
        if not self._recovered:
            cleared = len(await asyncio.to_thread(clear_scratch, self.scratch))
            outcomes += await self.recover()
        batch = limit if limit is not None else self.settings.batch
        for candidate in await self.index.candidates(now - self.settings.after, batch):
            outcomes.append(await self.archive_call(candidate, now))
        return ArchiveRunReport(tuple(outcomes), cleared)

    async def archive_call(self, candidate: Candidate, now: float) -> ArchiveOutcome:
        """Steps 1-7 for one recording; a bad file is reported and left, never raised."""
        call, source = candidate.call_uuid, candidate.recording_path
        wav = self.recordings / source
        try:
            key = flac_key(source)
            staged = await asyncio.to_thread(stage, wav, key, self.backend, self.scratch)
        except (CorruptRecordingError, ArchiveError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, (CorruptRecordingError, ArchiveError)) else str(exc)
            if isinstance(exc, CorruptRecordingError) and not wav.exists():
                reason = "the WAV file is missing"
            return await self._problem(call, source, reason, now)
        except (StorageError, OSError) as exc:
            log.warning("archive: %s not archived this time: %s", wav, exc)
            return ArchiveOutcome(call, source, "failed", str(exc))
        queue, campaign, kind = await self.index.context(call, candidate.started_at, candidate.ended_at)
        klass = self.settings.dnc_class if kind == "dnc" and self.settings.dnc_class in self.settings.retention else "default"
        keep = self.settings.keep_seconds(klass)
        entry = ArchiveEntry(0, call, source, key, staged.backend, staged.sha256, staged.bytes,
                             staged.frames, staged.duration, staged.rate, queue, campaign, now,
                             klass, None if keep is None else now + keep, False, None, None, False)
        entry_id = await self.index.record(entry)
        await asyncio.to_thread(discard_wav, wav)
        await self.index.source_removed(entry_id)
        log.info("archive: %s -> %s (%d bytes, sha256 %s)", source, self.backend.describe(key),
                 staged.bytes, staged.sha256[:12])
        return ArchiveOutcome(call, source, "archived", "", staged.sha256, staged.bytes, staged.duration)

    async def _problem(self, call: str, source: str, reason: str, now: float) -> ArchiveOutcome:
        log.error("archive: recording %s of call %s not archived, left in place: %s", source, call, reason)
        await self.index.report_problem(source, call, reason, now)
        await self.store.record_event("archive.problem", call, now, {"call": call, "path": source, "reason": reason})
        return ArchiveOutcome(call, source, "problem", reason)

    # -- serving -------------------------------------------------------------------------------

    async def open_recording(self, call_uuid: str) -> tuple[bytes | Path, str]:
        """The call's recording for download: the WAV while it is there (Path, "audio/wav"),
        else the archived FLAC checked against the index (bytes, "audio/flac"). Raises
        RecordingNotFoundError, or StorageError/ChecksumError when the FLAC is damaged."""
        row = await self.store.call(call_uuid)
        if row is None:
            raise RecordingNotFoundError(f"no call {call_uuid}")
        if row.recording_path:
            root = self.recordings.resolve()
            path = (root / row.recording_path).resolve()
            if path.is_relative_to(root) and path.is_file():
                return path, "audio/wav"
        entries = await self.index.entries(call_uuid)
        if row.recording_path:
            entries.sort(key=lambda e: e.source_path != row.recording_path)
        if not entries:
            raise RecordingNotFoundError(f"no recording of call {call_uuid} (none made, or deleted)")
        entry = entries[0]
        data = await asyncio.to_thread(self.backend.get, entry.storage_key, entry.sha256)
        return data, "audio/flac"

    # -- the service's task ------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop: archive every ``interval`` seconds, retention every
        ``retention_interval``."""
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def wake(self) -> None:
        """Look for recordings now instead of at the next interval."""
        self._wake.set()

    async def close(self) -> None:
        """Stop the loop (a recording being archived finishes its thread step first)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _loop(self) -> None:
        next_retention = 0.0
        while True:
            now = time.time()
            try:
                await self.run_once(now)
                if now >= next_retention:
                    next_retention = now + self.settings.retention_interval
                    await enforce_retention(self, now)
            except Exception:  # the next look tries again; the cause is in the log
                log.exception("archive: a run failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.interval)
