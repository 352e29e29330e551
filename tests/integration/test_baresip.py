"""baresip (Debian 1.0.0) as seat 1001: it registers with digest auth, takes a call from the SIPp
carrier, sends a 1 kHz tone from a WAV file, and the floor records both sides and the CDR.

baresip's SIP stack (libre 1.1) gives up on any challenge whose algorithm is not MD5, even when an
MD5 challenge follows it, so these floors offer MD5 only; the last test shows the gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from callfloor.app import Running
from callfloor.settings import Settings
from recordings.wav import read_stereo
from telephony.rtp.tone import tone, tone_power_db
from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    SippResult,
    floor,
    floor_settings,
    free_port,
    run_sipp,
)
from tests.integration.peers.baresip import Baresip, BaresipAccount, baresip
from tests.integration.peers.waits import calls_when_idle, registered, until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SEAT, PASSWORD, DID = "1001", "secret1001", "+15550100"
TONE_HZ, OTHER_HZ = 1000.0, 700.0
PEER_SIPP = Path(__file__).parent / "peers" / "sipp"


def tone_wav(path: Path, seconds: float = 30.0) -> Path:
    """baresip's microphone: an 8 kHz mono S16 WAV of a 1 kHz tone at -10 dBFS."""
    sf.write(path, tone(TONE_HZ, seconds), 8000, subtype="PCM_16")
    return path


def active(samples: npt.NDArray[np.int16]) -> float:
    """Share of samples louder than a quiet noise floor."""
    return float((np.abs(samples.astype(np.int32)) > 100).mean())


@asynccontextmanager
async def seat_on_floor(tmp_path: Path, settings: Settings, *, answermode: str,
                        record: bool = False) -> AsyncIterator[tuple[Running, Baresip]]:
    """A floor and baresip registered to it as seat 1001 (both stopped after the block)."""
    async with floor(settings) as service:
        account = BaresipAccount(SEAT, PASSWORD, service.sip_address, answermode=answermode)
        async with baresip(tmp_path / "baresip", account, tone_wav(tmp_path / "tone.wav"),
                           lifetime=60, record=record) as phone:
            await until(lambda: registered(service, SEAT), f"seat {SEAT} (baresip) to register",
                        timeout=10)
            yield service, phone


async def carrier_calls(service: Running, settings: Settings, workdir: Path, scenario: Path) -> SippResult:
    """The SIPp carrier (source 127.0.0.2, on the trunk's port) calls the DID of seat 1001."""
    assert settings.trunk is not None
    workdir.mkdir()
    host, port = service.sip_address
    return await run_sipp(
        [f"{host}:{port}", "-sf", str(scenario), "-s", DID, "-i", CARRIER_HOST,
         "-p", str(settings.trunk.port), "-mi", CARRIER_HOST,
         "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1", "-timeout", "45"],
        workdir, timeout=40)


def md5_floor(tmp_path: Path) -> Settings:
    return floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)},
                          sip={"auth_algorithms": ["MD5"]})


async def test_baresip_answers_and_the_recording_has_both_sides(tmp_path: Path) -> None:
    settings = md5_floor(tmp_path)
    async with seat_on_floor(tmp_path, settings, answermode="auto", record=True) as (service, phone):
        carrier = await carrier_calls(service, settings, tmp_path / "carrier", SIPP_DIR / "carrier_call.xml")
        assert carrier.returncode == 0, carrier.explain()
        await phone.wait_event("CALL_CLOSED")
        rows = await calls_when_idle(service)
        # The carrier's RFC 4733 digit crossed the bridge to the phone.
        dtmf = [e.get("param") for e in phone.seen if e.get("type") == "CALL_DTMF_START"]
    assert dtmf == ["1"], phone.seen
    assert len(rows) == 1
    row = rows[0]
    assert (row.direction, row.did, row.seat_id, row.status, row.end_reason, row.hangup_by) == (
        "inbound", DID, SEAT, "ended", "hangup", "customer")
    assert row.duration == pytest.approx(9.0, abs=1.0)
    assert row.recording_path is not None
    audio, rate = read_stereo(settings.storage.recordings_dir / row.recording_path)
    assert rate == 8000
    assert len(audio) / rate == pytest.approx(row.duration, abs=0.6)
    left, right = audio[:, 0], audio[:, 1]
    # Left: the carrier's speech (g711a.pcap), and none of the seat's tone.
    assert active(left) > 0.4
    assert tone_power_db(left, TONE_HZ) < -50
    # Right: baresip's 1 kHz tone at the level written to the WAV (-10 dBFS), nothing at 700 Hz.
    assert tone_power_db(right, TONE_HZ) == pytest.approx(-10.0, abs=1.5)
    assert tone_power_db(right, OTHER_HZ) < -50
    assert active(right) > 0.6
    # And baresip heard the carrier: its decoder's dump carries speech, not its own tone.
    heard, heard_rate = sf.read(next((tmp_path / "baresip" / "heard").glob("*-dec.wav")), dtype="int16")
    assert heard_rate == 8000
    assert active(heard) > 0.4
    assert tone_power_db(heard, TONE_HZ) < -50


async def test_baresip_hangs_up_first(tmp_path: Path) -> None:
    settings = md5_floor(tmp_path)
    async with seat_on_floor(tmp_path, settings, answermode="manual") as (service, phone):
        carrier = asyncio.create_task(carrier_calls(
            service, settings, tmp_path / "carrier", PEER_SIPP / "carrier_hears_bye.xml"))
        try:
            incoming = await phone.wait_event("CALL_INCOMING")
            assert incoming["peeruri"].startswith("sip:+15551230001@")
            await phone.command("accept")
            await phone.wait_event("CALL_ESTABLISHED")
            await until(lambda: any(c.answered_at for c in service.engine.calls.values()),
                        "the floor to see the call answered")
            await asyncio.sleep(3.0)  # talk time: the CDR's duration is measured against it
            await phone.command("hangup")
            await phone.wait_event("CALL_CLOSED")
            result = await asyncio.wait_for(carrier, 30)
        finally:
            carrier.cancel()
        assert result.returncode == 0, result.explain()
        rows = await calls_when_idle(service)
    assert len(rows) == 1
    row = rows[0]
    assert (row.seat_id, row.status, row.end_reason, row.hangup_by) == (SEAT, "ended", "hangup", "seat")
    assert row.duration == pytest.approx(3.0, abs=1.0)


async def test_baresip_refuses_a_challenge_that_offers_sha256(tmp_path: Path) -> None:
    """baresip 1.0.0 / libre 1.1.0 (src/sip/auth.c) fails a whole 401 with ENOSYS when any
    WWW-Authenticate names an algorithm other than MD5, in either order: on a floor that offers
    SHA-256 it never registers. This pins that fact; the next test is the fix."""
    settings = floor_settings(tmp_path, sip={"auth_algorithms": ["SHA-256", "MD5"]})
    async with floor(settings) as service:
        account = BaresipAccount(SEAT, PASSWORD, service.sip_address)
        async with baresip(tmp_path / "baresip", account, tone_wav(tmp_path / "tone.wav"),
                           lifetime=30) as phone:
            state = await asyncio.wait_for(settled(service, phone), 10)
            assert state == "ERR" and not registered(service, SEAT)


async def test_baresip_registers_on_a_sha256_floor_with_a_per_seat_md5_override(tmp_path: Path) -> None:
    seats = [{"id": f"100{i}", "password": f"secret100{i}"} for i in range(1, 5)]
    seats[0]["auth_algorithms"] = ["MD5"]  # type: ignore[assignment]
    settings = floor_settings(tmp_path, sip={"auth_algorithms": ["SHA-256", "MD5"]}, seats=seats)
    async with floor(settings) as service:
        account = BaresipAccount(SEAT, PASSWORD, service.sip_address)
        async with baresip(tmp_path / "baresip", account, tone_wav(tmp_path / "tone.wav"),
                           lifetime=30) as phone:
            state = await asyncio.wait_for(settled(service, phone), 10)
            assert state == "OK" and registered(service, SEAT), phone.log()[-2000:]


async def settled(service: Running, phone: Baresip) -> str:
    """"OK" once the floor holds the seat's binding, "ERR" once baresip gives up."""
    while not registered(service, SEAT):
        if await phone.registration() == "ERR":
            return "ERR"
        await asyncio.sleep(0.1)
    return "OK"
