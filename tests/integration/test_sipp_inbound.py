"""SIPp as carrier and as seat: a registered seat answers a call from the trunk, media is relayed
both ways and recorded in stereo, and the call-detail row says how it ended."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from recordings.wav import read_stereo
from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    floor,
    floor_settings,
    free_port,
    run_sipp,
)

pytestmark = pytest.mark.integration


async def register_seat(sip: tuple[str, int], workdir: Path, seat: str, password: str, contact_port: int) -> None:
    """Register ``seat`` with SIPp (MD5 digest) so its Contact points at ``contact_port``."""
    workdir.mkdir(parents=True, exist_ok=True)
    result = await run_sipp(
        [f"{sip[0]}:{sip[1]}", "-sf", str(SIPP_DIR / "register.xml"), "-m", "1",
         "-i", "127.0.0.1", "-p", str(free_port()), "-s", seat, "-au", seat, "-ap", password,
         "-key", "contact_port", str(contact_port), "-key", "expires", "300"],
        workdir, timeout=20,
    )
    assert result.returncode == 0, result.explain()


async def test_inbound_call_bridged_and_recorded(tmp_path: Path) -> None:
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)})
    async with floor(settings) as service:
        sip = service.sip_address
        seat_port = free_port()
        await register_seat(sip, tmp_path / "reg", "1001", "secret1001", seat_port)
        assert service.engine.seats.registrar.lookup("1001", 0)
        seat_dir = tmp_path / "seat"
        seat_dir.mkdir()
        seat = asyncio.create_task(run_sipp(
            ["-sf", str(SIPP_DIR / "seat_answer.xml"), "-i", "127.0.0.1", "-p", str(seat_port),
             "-mi", "127.0.0.1", "-mp", str(free_port(pair=True)), "-rtp_echo", "-m", "1"],
            seat_dir, timeout=40))
        await asyncio.sleep(0.5)
        carrier_dir = tmp_path / "carrier"
        carrier_dir.mkdir()
        carrier = await run_sipp(
            [f"{sip[0]}:{sip[1]}", "-sf", str(SIPP_DIR / "carrier_call.xml"), "-s", "+15550100",
             "-i", CARRIER_HOST, "-p", str(settings.trunk.port), "-mi", CARRIER_HOST,  # type: ignore[union-attr]
             "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1"],
            carrier_dir, timeout=40)
        assert carrier.returncode == 0, carrier.explain()
        seat_result = await seat
        assert seat_result.returncode == 0, seat_result.explain()
        for _ in range(50):
            if not service.engine.calls:
                break
            await asyncio.sleep(0.1)
        await service.executor.close()
        service.executor.start()
        rows = await service.store.calls()
    assert len(rows) == 1
    row = rows[0]
    assert (row.direction, row.seat_id, row.status, row.end_reason, row.hangup_by) == (
        "inbound", "1001", "ended", "hangup", "customer")
    assert row.duration == pytest.approx(9.0, abs=1.0)
    audio, rate = read_stereo(settings.storage.recordings_dir / row.recording_path)
    assert rate == 8000
    assert len(audio) / rate == pytest.approx(row.duration, abs=0.6)
    active = (np.abs(audio.astype(np.int32)) > 100).mean(axis=0)
    # g711a.pcap is ~8 s of speech; the seat echoes it, so both channels carry it.
    assert active[0] > 0.4 and active[1] > 0.4, active
