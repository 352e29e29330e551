"""The archive job: finished recordings -> verified FLAC + index row -> WAV deleted, and retention.

``Archiver`` does one thing per method (``run_once``, ``analyse``, ``enforce_retention``,
``verify``, ``open_recording``) so the service's task, the CLI and the tests call the same code.
File work (encode, hash, upload, delete) and the audio analytics run in a worker thread; the
index is written on the event loop, between the FLAC being verified and the WAV being deleted
(see recordings/archive.py for the steps and what a kill -9 after each leaves). The call's
analytics row goes into the same transaction as its archive row (docs/analytics.md).
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
from callfloor.store.analytics import (
    AnalyticsRow,
    CallAnalyticsStore,
    analytics_row,
    config_version,
)
from callfloor.store.archive import ArchiveEntry, ArchiveIndex, Candidate, UnknownRecordingError
from callfloor.store.db import Store
from recordings.analytics import AnalyticsConfig, CallAnalytics, analyze_call, flags
from recordings.analyze_file import AudioFileError, analyze_path
from recordings.archive import (
    ArchiveError,
    Staged,
    clear_scratch,
    confirm,
    decode_flac,
    discard_wav,
    flac_key,
    stage,
)
from recordings.storage import DirectoryStore, ObjectStore, S3Store, StorageError
from recordings.wavcheck import CorruptRecordingError, check_wav, read_wav_frames

__all__ = [
    "ArchiveOutcome",
    "ArchiveRunReport",
    "Archiver",
    "RecordingNotFoundError",
    "analyse_recording",
    "open_backend",
]

log = logging.getLogger("callfloor.archive")


class RecordingNotFoundError(LookupError):
    """A call has no recording to serve (none made, or deleted by retention)."""


@dataclass(frozen=True, slots=True)
class ArchiveOutcome:
    """What happened to one recording: 'archived', 'finished' (a run stopped after indexing
    was completed), 'problem' (reported, left in place) or 'failed' (retried next run); for
    analytics alone, 'analysed' or 'unanalysed' (with the reason). ``flags``: its QA flags."""

    call: str
    source_path: str
    status: str
    reason: str = ""
    sha256: str = ""
    bytes: int = 0
    duration: float = 0.0
    flags: tuple[str, ...] = ()


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


def analyse_recording(recording: bytes | Path, where: str,
                      config: AnalyticsConfig | None = None) -> CallAnalytics:
    """Analytics of a recording as ``open_recording`` gives it (a WAV path or verified FLAC
    bytes). Raises AudioFileError, ArchiveError or ValueError when it cannot be analysed."""
    if isinstance(recording, Path):
        return analyze_path(recording, config)
    samples, rate = decode_flac(recording, where)
    return analyze_call(samples, rate, config)


def _stage_and_analyse(wav: Path, key: str, backend: ObjectStore, scratch: Path,
                       config: AnalyticsConfig) -> tuple[Staged, CallAnalytics | None, str]:
    """Steps 1-5 (``stage``), then the analytics of the same WAV (worker thread). ``stage``
    does not hand its samples out, so they are read again: from the page cache, as the file
    was read a moment ago. (None, why) when the audio cannot be analysed; the FLAC stands."""
    staged = stage(wav, key, backend, scratch)
    try:
        samples = read_wav_frames(check_wav(wav))
        return staged, analyze_call(samples, staged.rate, config), ""
    except ValueError as exc:  # CorruptRecordingError included
        return staged, None, str(exc)


class Archiver:
    """Archives the recordings of one store's calls into one backend, with their analytics."""

    def __init__(self, store: Store, archive: ArchiveSettings, storage: StorageSettings,
                 *, backend: ObjectStore | None = None,
                 analytics: AnalyticsConfig | None = None) -> None:
        self.store = store
        self.index = ArchiveIndex(store)
        self.analytics = CallAnalyticsStore(store)
        self.analytics_config = analytics or AnalyticsConfig()
        self._version = config_version(self.analytics_config)
        self._unanalysable: set[str] = set()  # calls whose recording failed analysis (this process)
        self._filled = False  # no archived call is left without analytics
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
        if not self._filled:
            # Archived calls without analytics (archived before migration 009, or unanalysable
            # at the time): a batch per look until none is left, each tried once per process.
            done = await self.analyse(now, missing=True, limit=batch, retry=False)
            self._filled = len(done) < batch
            outcomes += done
        return ArchiveRunReport(tuple(outcomes), cleared)

    async def archive_call(self, candidate: Candidate, now: float) -> ArchiveOutcome:
        """Steps 1-7 for one recording; a bad file is reported and left, never raised."""
        call, source = candidate.call_uuid, candidate.recording_path
        wav = self.recordings / source
        try:
            key = flac_key(source)
            staged, figures, why = await asyncio.to_thread(
                _stage_and_analyse, wav, key, self.backend, self.scratch, self.analytics_config)
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
        row = None if figures is None else self._row(call, source, figures, now)
        if row is None:
            log.warning("archive: %s archived without analytics: %s", source, why)
        entry_id = await self.index.record(entry, row)
        await asyncio.to_thread(discard_wav, wav)
        await self.index.source_removed(entry_id)
        log.info("archive: %s -> %s (%d bytes, sha256 %s)", source, self.backend.describe(key),
                 staged.bytes, staged.sha256[:12])
        return ArchiveOutcome(call, source, "archived", "", staged.sha256, staged.bytes, staged.duration,
                              row.flags if row else ())

    def _row(self, call: str, source: str, figures: CallAnalytics, now: float) -> AnalyticsRow:
        return analytics_row(call, source, figures, flags(figures, self.analytics_config),
                             self._version, now)

    # -- analytics of archived calls -----------------------------------------------------------

    async def analyse(self, now: float, *, call: str | None = None, missing: bool = False,
                      limit: int | None = None, retry: bool = True) -> list[ArchiveOutcome]:
        """(Re)compute the analytics rows of archived calls: every one, one ``call``, or only
        those without a row (``missing``); ``retry=False`` skips calls that failed before in
        this process. UnknownRecordingError when ``call`` has no archived recording."""
        skip = () if retry else tuple(self._unanalysable)
        targets = await self.analytics.archived(call=call, missing=missing, skip=skip, limit=limit)
        if call is not None and not targets and not await self.analytics.archived(call=call):
            raise UnknownRecordingError(f"no archived recording of call {call}")
        return [await self._analyse_one(uuid, source, now) for uuid, source in targets]

    async def _analyse_one(self, call: str, source: str, now: float) -> ArchiveOutcome:
        try:
            recording, _ = await self.open_recording(call)
            figures = await asyncio.to_thread(analyse_recording, recording, f"call {call}",
                                              self.analytics_config)
        except (LookupError, AudioFileError, ArchiveError, StorageError, ValueError, OSError) as exc:
            self._unanalysable.add(call)
            log.warning("archive: analytics of call %s (%s) failed: %s", call, source, exc)
            return ArchiveOutcome(call, source, "unanalysed", str(exc))
        self._unanalysable.discard(call)
        row = self._row(call, source, figures, now)
        await self.analytics.save(row)
        return ArchiveOutcome(call, source, "analysed", duration=figures.duration_s, flags=row.flags)

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
