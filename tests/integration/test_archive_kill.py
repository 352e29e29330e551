"""kill -9 of ``callfloor archive run`` at random moments, many times (bounded in time): after each
kill every recording is still a whole WAV or a FLAC that matches its index row (never neither),
and the next run finishes or redoes the half-done one; a last run archives everything, each
archived call with its analytics row."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from callfloor.archivejob import Archiver
from callfloor.archiveretention import verify
from callfloor.settings.archive import ArchiveSettings
from callfloor.settings.sections import StorageSettings
from callfloor.store import CallStart, Store
from recordings.archive import PART
from tests.unit.recordings.archive_helpers import make_wav

pytestmark = pytest.mark.integration

BATCH = 8
BUDGET_S = 45.0
MAX_KILLS = 40


async def _add_calls(store: Store, storage: StorageSettings, first: int, rng: random.Random) -> None:
    for i in range(first, first + BATCH):
        uuid, at = f"k{i:04d}", 1_767_225_600.0 + i
        path = f"2026/01/01/{uuid}.wav"
        await store.call_started(CallStart(uuid, f"sip-{uuid}", "inbound", "+15551230000",
                                           "+15550100", "+15550100", "1001", at, path))
        make_wav(storage.recordings_dir / path, seconds=rng.uniform(1.0, 6.0), seed=i)
        await store.call_answered(uuid, at, "1001")
        await store.call_ended(uuid, at + 5, "bye")


async def _archive_run(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callfloor.archivecli", "run", "--config", str(config), "--after", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def _state(storage: StorageSettings) -> Counter[str]:
    """Check the invariant on every call; count what the kill left (for the printout)."""
    async with await Store.open(storage.db_path) as store:
        archiver = Archiver(store, ArchiveSettings(), storage)
        results = await verify(archiver)
        bad = [r for r in results if not r.ok]
        assert bad == [], bad
        seen: Counter[str] = Counter(r.state for r in results)
        unfinished = await archiver.index.unfinished()
        seen["indexed, WAV not yet deleted"] += sum(
            (storage.recordings_dir / e.source_path).exists() for e in unfinished)
        seen["WAV deleted, row not yet marked"] += sum(
            not (storage.recordings_dir / e.source_path).exists() for e in unfinished)
        for r in results:
            key = r.source_path[:-4] + ".flac"
            if r.state == "wav" and archiver.backend.exists(key):
                seen["FLAC stored, not indexed"] += 1
        seen["part files"] += len(list(archiver.scratch.glob("*" + PART)))
        return seen


async def test_kill_nine_never_loses_a_recording(tmp_path: Path) -> None:
    storage = StorageSettings(data_dir=tmp_path / "data")
    config = tmp_path / "callfloor.toml"
    config.write_text(f'[storage]\ndata_dir = "{storage.data_dir}"\n')
    rng = random.Random(20260101)
    async with await Store.open(storage.db_path) as store:
        await _add_calls(store, storage, 0, rng)
    # One uninterrupted run sets the window the kills are drawn from.
    started = time.monotonic()
    proc = await _archive_run(config)
    out, _ = await proc.communicate()
    window = time.monotonic() - started
    assert proc.returncode == 0 and b"8 archived" in out, out.decode()
    total, kills, seen = BATCH, 0, Counter[str]()
    deadline = time.monotonic() + BUDGET_S
    while kills < MAX_KILLS and time.monotonic() < deadline:
        async with await Store.open(storage.db_path) as store:  # a full batch of work each time
            await _add_calls(store, storage, total, rng)
        total += BATCH
        proc = await _archive_run(config)
        await asyncio.sleep(rng.uniform(0.4, 1.0) * window)
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()
        kills += proc.returncode == -signal.SIGKILL
        seen += await _state(storage)
    proc = await _archive_run(config)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    final = await _state(storage)
    assert final["flac"] == total and final["wav"] == 0 and final["part files"] == 0, final
    assert list(storage.recordings_dir.rglob("*.wav")) == []
    async with await Store.open(storage.db_path) as store:  # the analytics row came with each
        assert await Archiver(store, ArchiveSettings(), storage).analytics.archived(missing=True) == []
    print(f"\n{kills} kills over {total} recordings; states seen after kills: {dict(seen)}")
    assert kills >= 5
