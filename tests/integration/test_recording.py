"""The stereo recording of a real call: each side's tone on its own channel, at the right time,
with no gaps, and the two channels aligned to the sample (an echo comes back at lag ~0)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from callfloor.app import Running
from callfloor.sim import AudioSource, SimCarrier, SimPhone
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

pytestmark = pytest.mark.integration

RATE = 8000
CUSTOMER_HZ, SEAT_HZ = 440.0, 1000.0


def _beeps(path: Path, freq: float, starts: list[float], length: float, total: float) -> Path:
    """A WAV of silence with ``length``-second beeps at ``starts``."""
    pcm = np.zeros(int(total * RATE), dtype=np.int16)
    beep = tone(freq, length, RATE, dbfs=-12.0)
    for start in starts:
        at = int(start * RATE)
        pcm[at : at + len(beep)] = beep
    soundfile.write(path, pcm, RATE, subtype="PCM_16")
    return path


def _onsets(channel: npt.NDArray[np.int16], freq: float) -> list[float]:
    """Times (s) where ``freq`` starts on ``channel``, at 10 ms resolution."""
    frame = RATE // 100
    on = [tone_power_db(channel[i : i + frame], freq, RATE) > -40
          for i in range(0, len(channel) - frame, frame)]
    return [i / 100 for i in range(1, len(on)) if on[i] and not on[i - 1]]


async def _flush(service: Running) -> None:
    """Wait for the calls to close and their rows to be written."""
    for _ in range(100):
        if not service.engine.calls:
            break
        await asyncio.sleep(0.05)
    await service.executor.close()
    service.executor.start()


async def test_each_side_on_its_own_channel_at_the_right_time(tmp_path: Path) -> None:
    carrier_port = free_port(CARRIER_HOST)
    settings = floor_settings(tmp_path, trunk={"port": carrier_port},
                              sip={"auth_algorithms": ["SHA-256", "MD5"]})
    customer = _beeps(tmp_path / "customer.wav", CUSTOMER_HZ, [1.0, 3.0], 1.0, 5.0)
    seat_audio = _beeps(tmp_path / "seat.wav", SEAT_HZ, [0.5, 2.5], 1.0, 5.0)
    async with floor(settings) as service:
        phone = SimPhone("1001", "secret1001", service.sip_address, answer_after=(0.3, 0.3),
                         audio=AudioSource.wav(seat_audio, loop=False), rng=random.Random(1))
        carrier = SimCarrier((CARRIER_HOST, carrier_port), service.sip_address,
                             audio=AudioSource.wav(customer, loop=False), rng=random.Random(2))
        assert await phone.start() == 200
        await carrier.start()
        try:
            result = await carrier.call("+15550100", talk=(5.0, 5.0))
        finally:
            await carrier.stop()
            await phone.stop()
        await _flush(service)
        rows = await service.store.calls()
    assert result.answered and result.packets_received > 200, result
    row = rows[0]
    assert (row.status, row.hangup_by) == ("ended", "customer")
    audio, rate = read_stereo(settings.storage.recordings_dir / row.recording_path)
    left, right = audio[:, 0], audio[:, 1]
    assert rate == RATE and len(audio) / RATE == pytest.approx(5.0, abs=0.3)
    # Each tone is on its own channel only.
    assert tone_power_db(left, CUSTOMER_HZ, RATE) - tone_power_db(left, SEAT_HZ, RATE) > 30
    assert tone_power_db(right, SEAT_HZ, RATE) - tone_power_db(right, CUSTOMER_HZ, RATE) > 30
    # At the right time: both sides start sending at the answer, so the beeps keep their
    # schedule relative to each other (seat 0.5 s ahead of the customer) within 30 ms.
    cust, seat = _onsets(left, CUSTOMER_HZ), _onsets(right, SEAT_HZ)
    assert len(cust) == 2 and len(seat) == 2, (cust, seat)
    assert cust[1] - cust[0] == pytest.approx(2.0, abs=0.02)
    assert seat[1] - seat[0] == pytest.approx(2.0, abs=0.02)
    assert cust[0] - seat[0] == pytest.approx(0.5, abs=0.03)
    # No gaps: every 20 ms frame inside a beep carries the tone.
    for channel, freq, starts in ((left, CUSTOMER_HZ, cust), (right, SEAT_HZ, seat)):
        for start in starts:
            a = int((start + 0.02) * RATE)
            for i in range(a, a + int(0.94 * RATE), 160):
                assert tone_power_db(channel[i : i + 160], freq, RATE) > -30, (freq, i / RATE)


async def test_channels_are_aligned_to_the_sample(tmp_path: Path) -> None:
    """The seat echoes the customer's speech: the right channel is the left one, delayed only by
    the echo's real round trip on loopback (well under one 20 ms packet)."""
    carrier_port = free_port(CARRIER_HOST)
    settings = floor_settings(tmp_path, trunk={"port": carrier_port})
    async with floor(settings) as service:
        sip = service.sip_address
        seat_port = free_port()
        (tmp_path / "reg").mkdir()
        reg = await run_sipp(
            [f"{sip[0]}:{sip[1]}", "-sf", str(SIPP_DIR / "register.xml"), "-m", "1", "-i", "127.0.0.1",
             "-p", str(free_port()), "-s", "1001", "-au", "1001", "-ap", "secret1001",
             "-key", "contact_port", str(seat_port), "-key", "expires", "300"], tmp_path / "reg")
        assert reg.returncode == 0, reg.explain()
        (tmp_path / "seat").mkdir()
        seat = asyncio.create_task(run_sipp(
            ["-sf", str(SIPP_DIR / "seat_answer.xml"), "-i", "127.0.0.1", "-p", str(seat_port),
             "-mi", "127.0.0.1", "-mp", str(free_port(pair=True)), "-rtp_echo", "-m", "1"],
            tmp_path / "seat", timeout=40))
        await asyncio.sleep(0.5)
        (tmp_path / "carrier").mkdir()
        call = await run_sipp(
            [f"{sip[0]}:{sip[1]}", "-sf", str(SIPP_DIR / "carrier_call.xml"), "-s", "+15550100",
             "-i", CARRIER_HOST, "-p", str(carrier_port), "-mi", CARRIER_HOST,
             "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1"], tmp_path / "carrier", timeout=40)
        assert call.returncode == 0, call.explain()
        assert (await seat).returncode == 0
        await _flush(service)
        rows = await service.store.calls()
    audio, _ = read_stereo(settings.storage.recordings_dir / rows[0].recording_path)
    left = audio[:, 0].astype(np.float64)
    right = audio[:, 1].astype(np.float64)
    speech = slice(RATE, 6 * RATE)
    window = left[speech]
    lags = range(-80, 81)
    scores = [float(np.dot(window, right[speech.start + k : speech.stop + k])) for k in lags]
    best = lags[int(np.argmax(scores))]
    assert 0 <= best <= 40, best  # <= 5 ms: a loaded CI box still answers an echo that fast
    # The echo is the same speech (A-law in, μ-law echoed back, so not bit-exact).
    shifted = right[speech.start + best : speech.stop + best]
    assert np.corrcoef(window, shifted)[0, 1] > 0.95
