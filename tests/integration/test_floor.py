"""The inbound floor end to end: the carrier calls the demo line, the IVR answers, the caller
presses a key and waits in a queue, the ACD rings a ready seat, the call is bridged and recorded,
and a survey follows when the seat hangs up. Seats become ready by dialling a feature code."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from callfloor.app import Running
from callfloor.sim import SimCarrier, SimPhone
from tests.integration.harness import CARRIER_HOST, floor, floor_settings, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def floor_with_queues(tmp_path: Path, **overrides: Any) -> Any:
    seats = [{"id": f"100{i}", "password": f"secret100{i}", "queues": ["support", "sales"]}
             for i in range(1, 5)]
    queues = [{"name": "support", "ring_timeout": 4, "wrap_up": 1, "announce_every": 5},
              {"name": "sales", "ring_timeout": 4, "wrap_up": 1},
              {"name": "vip", "ring_timeout": 4}]
    return floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)}, seats=seats,
                          queues=queues, ivr={"flows": str(ROOT / "config" / "ivr")},
                          sip={"auth_algorithms": ["SHA-256", "MD5"]}, **overrides)


async def ready(phone: SimPhone) -> None:
    """The seat dials *1: callfloor answers, beeps and hangs up."""
    result = await phone.dial("*1", talk=(10.0, 10.0))
    assert result.answered and result.ended_by == "remote", result


async def events(service: Running, kind: str) -> list[dict[str, Any]]:
    await service.executor.close()
    service.executor.start()
    return [e.data for e in reversed(await service.store.events(kind=kind, limit=500))]


async def test_a_caller_goes_through_the_ivr_and_a_queue_to_a_ready_seat(tmp_path: Path) -> None:
    settings = floor_with_queues(tmp_path)
    async with floor(settings) as service:
        phone = SimPhone("1001", "secret1001", service.sip_address, answer_after=(0.3, 0.3),
                         rng=random.Random(1))
        carrier = SimCarrier((CARRIER_HOST, settings.trunk.port), service.sip_address,  # type: ignore[union-attr]
                             rng=random.Random(2))
        assert await phone.start() == 200
        await carrier.start()
        try:
            await ready(phone)
            call = carrier.new_call("+15550100")
            await call.start()
            assert await call.wait_answered(5)                  # the IVR answers at once
            await asyncio.sleep(1.5)                            # the welcome plays
            assert call.send_dtmf("2")                          # support
            for _ in range(100):
                if phone.active:
                    break
                await asyncio.sleep(0.1)
            assert phone.active, "the seat was never rung"
            await asyncio.sleep(3.0)                            # talk
            await call.hangup()
            result = call.result()
        finally:
            await carrier.stop()
            await phone.stop()
        for _ in range(50):
            if not service.engine.calls:
                break
            await asyncio.sleep(0.1)
        queue_events = await events(service, "queue.answered")
        joined = await events(service, "queue.joined")
        states = await events(service, "seat.state")
        rows = await service.store.calls()
    assert result.answered and result.packets_received > 100
    inbound = [r for r in rows if r.direction == "inbound"]
    assert len(inbound) == 1
    row = inbound[0]
    assert (row.seat_id, row.status, row.hangup_by) == ("1001", "ended", "customer")
    assert row.recording_path and (settings.storage.recordings_dir / row.recording_path).exists()
    assert [e["queue"] for e in joined] == ["support"]
    assert [(e["queue"], e["seat"]) for e in queue_events] == [("support", "1001")]
    presences = [(e["presence"], e["call_state"]) for e in states if e["seat"] == "1001"]
    assert ("ready", "idle") in presences and ("ready", "ringing") in presences
    assert ("ready", "on-call") in presences or ("ready", "on_call") in presences


async def test_the_caller_rates_the_call_after_the_seat_hangs_up(tmp_path: Path) -> None:
    settings = floor_with_queues(tmp_path)
    async with floor(settings) as service:
        phone = SimPhone("1002", "secret1002", service.sip_address, answer_after=(0.2, 0.2),
                         hangup_after=(2.0, 2.0), rng=random.Random(3))
        carrier = SimCarrier((CARRIER_HOST, settings.trunk.port), service.sip_address,  # type: ignore[union-attr]
                             rng=random.Random(4))
        assert await phone.start() == 200
        await carrier.start()
        try:
            await ready(phone)
            call = carrier.new_call("+15550100")
            await call.start()
            assert await call.wait_answered(5)
            await asyncio.sleep(1.0)
            assert call.send_dtmf("1")                          # sales
            for _ in range(100):
                if len(phone.calls) >= 2 and not phone.active:
                    break                                      # *1, then the call: taken and hung up
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)                            # "how would you rate..."
            assert call.send_dtmf("4")
            ended = await call.wait_ended(15)                   # thanks, then callfloor hangs up
            result = call.result()
        finally:
            await carrier.stop()
            await phone.stop()
        surveys = await events(service, "call.survey")
        rows = [r for r in await service.store.calls() if r.direction == "inbound"]
    assert ended and result.ended_by == "remote", result
    assert [(e["score"], e["scale"]) for e in surveys] == [(4, 5)]
    assert (rows[0].seat_id, rows[0].end_reason, rows[0].hangup_by) == ("1002", "normal", "callfloor")
    assert rows[0].survey_score == 4 and '"department": "sales"' in (rows[0].variables or "")


async def test_twenty_callers_five_seats_no_seat_gets_two_calls_no_caller_lost(tmp_path: Path) -> None:
    seats = [{"id": f"100{i}", "password": f"secret100{i}", "queues": ["support"]} for i in range(1, 6)]
    queues = [{"name": "support", "ring_timeout": 4, "wrap_up": 0.5, "announce_every": 6,
               "max_wait": 40, "overflow": "voicemail:support"},
              {"name": "sales"}, {"name": "vip"}]
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)}, seats=seats,
                              queues=queues, ivr={"flows": str(ROOT / "config" / "ivr")})
    async with floor(settings) as service:
        phones = [SimPhone(s["id"], s["password"], service.sip_address, answer_after=(0.2, 0.6),
                           hangup_after=(1.5, 3.0), rng=random.Random(10 + i))
                  for i, s in enumerate(seats)]
        carrier = SimCarrier((CARRIER_HOST, settings.trunk.port), service.sip_address,  # type: ignore[union-attr]
                             rng=random.Random(99))
        for phone in phones:
            assert await phone.start() == 200
        await carrier.start()

        async def caller(index: int) -> str:
            call = carrier.new_call("+15550100", f"+1555400{index:04d}")
            await call.start()
            if not await call.wait_answered(10):
                return "not answered by the IVR"
            await asyncio.sleep(1.0)
            call.send_dtmf("2")
            patience = 4.0 if index % 5 == 0 else 60.0          # every fifth caller gives up early
            waited = 0.0
            while waited < patience:
                if await call.wait_ended(2.0):
                    return "ended"
                waited += 2.0
                call.send_dtmf("5")  # ignored in the queue; answers the survey after the seat left
            await call.hangup()
            return "gave up"

        try:
            await asyncio.gather(*(ready(p) for p in phones))
            outcomes = await asyncio.wait_for(asyncio.gather(*(caller(i) for i in range(20))), 120)
        finally:
            await carrier.stop()
            for phone in phones:
                await phone.stop()
        for _ in range(50):
            if not service.engine.calls:
                break
            await asyncio.sleep(0.1)
        joined = await events(service, "queue.joined")
        answered = await events(service, "queue.answered")
        abandoned = await events(service, "queue.abandoned")
        overflowed = await events(service, "queue.overflowed")
        states = await events(service, "seat.state")
    assert "not answered by the IVR" not in outcomes
    assert len(joined) == 20, outcomes
    ends = {e["call"]: kind for kind, group in (("answered", answered), ("abandoned", abandoned),
                                               ("overflowed", overflowed)) for e in group}
    assert sorted(ends) == sorted(e["call"] for e in joined)  # every caller accounted for, once
    assert len(answered) + len(abandoned) + len(overflowed) == 20
    assert len(answered) >= 10 and abandoned, (len(answered), len(abandoned), len(overflowed))
    # No seat was ever offered a call while ringing with or talking on another one.
    for event in states:
        if event["call_state"] == "ringing":
            assert event["previous_call_state"] == "idle", event
    per_seat = {s["id"]: sum(1 for e in answered if e["seat"] == s["id"]) for s in seats}
    assert sum(per_seat.values()) == len(answered) and max(per_seat.values()) >= 2, per_seat


async def test_in_band_digits_are_read_by_the_ivr(tmp_path: Path) -> None:
    """The caller's keys are only tones in its audio (no telephone-events): "3" for the account
    menu, then 4 7 1 9 #. The IVR reads the account number from the G.711 stream."""
    import numpy as np
    import soundfile

    from callfloor.sim import AudioSource
    from telephony.rtp.tone import dtmf_tone

    def gap(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * 8000), np.int16)

    keys = [gap(2.0), dtmf_tone("3", 0.12, 8000, -12.0), gap(3.5)]
    for key in "4719#":
        keys += [dtmf_tone(key, 0.1, 8000, -12.0), gap(0.2)]
    wav = tmp_path / "keys.wav"
    soundfile.write(wav, np.concatenate([*keys, gap(8.0)]), 8000, subtype="PCM_16")
    settings = floor_with_queues(tmp_path)
    async with floor(settings) as service:
        carrier = SimCarrier((CARRIER_HOST, settings.trunk.port), service.sip_address,  # type: ignore[union-attr]
                             audio=AudioSource.wav(wav, loop=False), rng=random.Random(5))
        await carrier.start()
        try:
            call = carrier.new_call("+15550100")
            await call.start()
            assert await call.wait_answered(5)
            joined: list[dict[str, Any]] = []
            for _ in range(150):                               # the read-back, then the queue
                joined = await events(service, "queue.joined")
                if joined:
                    break
                await asyncio.sleep(0.1)
            await call.hangup()
        finally:
            await carrier.stop()
        variables = await events(service, "call.variables")
    merged: dict[str, str] = {}
    for event in variables:
        merged.update(event["variables"])
    assert merged.get("menu_choice") == "3" and merged.get("account") == "4719", merged
    assert [e["queue"] for e in joined] == ["support"]
