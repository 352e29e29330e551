"""pyVoIP 1.6.8 as seat 1002: it registers against the default challenge (SHA-256 offered first,
then MD5), answers the SIPp carrier's call on DID +15550101 and plays a 1 kHz tone, which the
floor records on the seat's (right) channel.

pyVoIP's quirks this survives: MD5 digest without qop, no retransmissions, UDP only, and a
callback that answers one second after the INVITE.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from recordings.wav import read_stereo
from telephony.rtp.tone import tone, tone_power_db
from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    floor,
    floor_settings,
    free_port,
    run_sipp,
)
from tests.integration.peers.pyvoip import ToneAnswerer, pyvoip_phone, to_unsigned_8bit
from tests.integration.peers.waits import calls_when_idle, registered, until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

pytest.importorskip("pyVoIP")

SEAT, PASSWORD, DID = "1002", "secret1002", "+15550101"
TONE_HZ, OTHER_HZ = 1000.0, 700.0
PEER_SIPP = Path(__file__).parent / "peers" / "sipp"


def active(samples: npt.NDArray[np.int16]) -> float:
    """Share of samples louder than a quiet noise floor."""
    return float((np.abs(samples.astype(np.int32)) > 100).mean())


async def test_pyvoip_answers_with_a_tone_on_the_seat_channel(tmp_path: Path) -> None:
    # floor_settings puts MD5 first for SIPp; pyVoIP must cope with the service default.
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)},
                              sip={"auth_algorithms": ["SHA-256", "MD5"]})
    assert settings.trunk is not None
    answerer = ToneAnswerer(to_unsigned_8bit(tone(TONE_HZ, 15.0)))
    async with floor(settings) as service, pyvoip_phone(service.sip_address, SEAT, PASSWORD, answerer):
        binding = service.engine.seats.registrar.lookup(SEAT, time.time())
        assert registered(service, SEAT)
        assert [b.user_agent for b in binding] == ["pyVoIP 1.6.8"]
        host, port = service.sip_address
        (tmp_path / "carrier").mkdir()
        carrier = await run_sipp(
            [f"{host}:{port}", "-sf", str(SIPP_DIR / "carrier_call.xml"), "-s", DID,
             "-i", CARRIER_HOST, "-p", str(settings.trunk.port), "-mi", CARRIER_HOST,
             "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1", "-timeout", "45"],
            tmp_path / "carrier", timeout=40)
        assert carrier.returncode == 0, carrier.explain()
        await asyncio.to_thread(answerer.log.ended.wait, 10)
        rows = await calls_when_idle(service)
    log = answerer.log
    assert log.errors == []
    assert len(log.calls) == 1 and log.answered.is_set()
    assert len(rows) == 1
    row = rows[0]
    assert (row.direction, row.did, row.seat_id, row.status, row.end_reason, row.hangup_by) == (
        "inbound", DID, SEAT, "ended", "hangup", "customer")
    # pyVoIP answers from a timer 1 s after it reads the INVITE (its receive thread itself starts
    # 1 s after registering, so the INVITE may wait in the socket); the carrier talks 9 s after the 200.
    assert row.answered_at is not None
    assert 1.0 <= row.answered_at - row.started_at < 3.0
    assert row.duration == pytest.approx(9.0, abs=1.0)
    assert row.recording_path is not None
    audio, rate = read_stereo(settings.storage.recordings_dir / row.recording_path)
    assert rate == 8000
    left, right = audio[:, 0], audio[:, 1]
    assert active(left) > 0.4
    assert tone_power_db(left, TONE_HZ) < -50
    # pyVoIP's 8-bit linear audio keeps the -10 dBFS tone within a dB or so.
    assert tone_power_db(right, TONE_HZ) == pytest.approx(-10.0, abs=1.5)
    assert tone_power_db(right, OTHER_HZ) < -40
    # And pyVoIP heard the carrier's speech through the relay (unsigned 8-bit, silence 0x80).
    heard = np.frombuffer(bytes(log.heard), np.uint8).astype(np.int16) - 128
    assert float((np.abs(heard) > 2).mean()) > 0.2


async def test_pyvoip_hangs_up_first(tmp_path: Path) -> None:
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)},
                              sip={"auth_algorithms": ["SHA-256", "MD5"]})
    assert settings.trunk is not None
    answerer = ToneAnswerer(to_unsigned_8bit(tone(TONE_HZ, 10.0)), hangup_after=3.0)
    async with floor(settings) as service, pyvoip_phone(service.sip_address, SEAT, PASSWORD, answerer):
        host, port = service.sip_address
        (tmp_path / "carrier").mkdir()
        carrier = await run_sipp(
            [f"{host}:{port}", "-sf", str(PEER_SIPP / "carrier_hears_bye.xml"), "-s", DID,
             "-i", CARRIER_HOST, "-p", str(settings.trunk.port), "-mi", CARRIER_HOST,
             "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1", "-timeout", "45"],
            tmp_path / "carrier", timeout=40)
        assert carrier.returncode == 0, carrier.explain()
        await until(answerer.log.ended.is_set, "pyVoIP's call to end")
        rows = await calls_when_idle(service)
    assert answerer.log.errors == []
    assert len(rows) == 1
    row = rows[0]
    assert (row.seat_id, row.status, row.end_reason, row.hangup_by) == (SEAT, "ended", "hangup", "seat")
    assert row.duration == pytest.approx(3.0, abs=1.0)
