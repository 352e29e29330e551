"""Real calls placed through the service are archived by the archive job running in its event
loop, and their recordings are then served as FLAC with the indexed checksum."""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from callfloor.archivejob import Archiver
from callfloor.settings.archive import ArchiveSettings
from callfloor.sim import SimCarrier, SimPhone
from callfloor.store.archive import ArchiveQuery
from telephony.rtp.tone import tone_power_db
from tests.integration.harness import CARRIER_HOST, floor, floor_settings, free_port

pytestmark = pytest.mark.integration


async def test_calls_are_archived_by_the_job_and_served_as_flac(tmp_path: Path) -> None:
    carrier_port = free_port(CARRIER_HOST)
    settings = floor_settings(tmp_path, trunk={"port": carrier_port})
    async with floor(settings) as service:
        phones = [SimPhone(seat, f"secret{seat}", service.sip_address, answer_after=(0.2, 0.2),
                           tone_hz=hz, rng=random.Random(i))
                  for i, (seat, hz) in enumerate((("1001", 600.0), ("1002", 900.0)))]
        carrier = SimCarrier((CARRIER_HOST, carrier_port), service.sip_address, rng=random.Random(7))
        assert [await p.start() for p in phones] == [200, 200]
        await carrier.start()
        try:
            results = await asyncio.gather(carrier.call("+15550100", talk=(2.0, 2.0)),
                                           carrier.call("+15550101", talk=(3.0, 3.0)))
        finally:
            await carrier.stop()
            for phone in phones:
                await phone.stop()
        assert all(r.answered for r in results), results
        deadline = time.monotonic() + 10
        while service.engine.calls and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await service.executor.close()  # every CDR written
        service.executor.start()
        rows = {r.seat_id: r for r in await service.store.calls()}
        assert set(rows) == {"1001", "1002"} and all(r.status == "ended" for r in rows.values())
        wavs = [settings.storage.recordings_dir / r.recording_path for r in rows.values() if r.recording_path]
        assert len(wavs) == 2 and all(w.exists() for w in wavs)

        archiver = Archiver(service.store, ArchiveSettings(after=0.0, interval=0.2), settings.storage)
        archiver.start()
        try:
            deadline = time.monotonic() + 30
            while len(await archiver.index.find(ArchiveQuery())) < 2:
                assert time.monotonic() < deadline, await archiver.index.problems()
                await asyncio.sleep(0.1)
        finally:
            await archiver.close()
        assert not any(w.exists() for w in wavs)
        for seat, hz, talk in (("1001", 600.0, 2.0), ("1002", 900.0, 3.0)):
            row = rows[seat]
            [entry] = await archiver.index.entries(row.uuid)
            data, media = await archiver.open_recording(row.uuid)
            assert media == "audio/flac" and isinstance(data, bytes)
            assert hashlib.sha256(data).hexdigest() == entry.sha256 and len(data) == entry.bytes
            audio, rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
            assert (audio.shape[1], rate, len(audio)) == (2, 8000, entry.frames)
            assert entry.duration == pytest.approx(talk, abs=0.5)
            # The seat's tone is on the seat's channel (1), as the live WAV had it.
            seat_side = audio[:, 1].astype(np.int16)
            assert tone_power_db(seat_side, hz, rate) > -30
            assert entry.storage_key == row.recording_path[:-4] + ".flac"
            found = await archiver.index.find(ArchiveQuery(seats=(seat,)))
            assert [f.entry.call_uuid for f in found] == [row.uuid]
