"""Inbound calls from the carrier: the seat hangs up, nobody answers, nobody is registered, the
seat is busy, the number is not ours; a seat with two phones, and a carrier that offers late."""

from __future__ import annotations

import asyncio
import re

import numpy as np
import pytest

from recordings.wav import read_stereo
from tests.integration.conftest import FloorOpener, SippFloor, traced
from tests.integration.harness import free_port

pytestmark = pytest.mark.integration


async def registered_seat(f: SippFloor, seat: str = "1001", password: str = "secret1001") -> int:
    """Register ``seat`` with a Contact on a fresh port; that port is where its phone must listen."""
    port = free_port()
    result = await f.register(seat, password, port)
    assert result.returncode == 0, result.explain()
    return port


async def test_seat_hangs_up(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        seat = await f.start_seat("seat_hangup.xml", await registered_seat(f))
        carrier = await f.carrier("carrier_wait_bye.xml")
        assert carrier.returncode == 0, carrier.explain()
        seat_result = await seat
        assert seat_result.returncode == 0, seat_result.explain()
        rows = await f.calls_when_idle()
        recordings = f.service.settings.storage.recordings_dir
    assert len(rows) == 1
    row = rows[0]
    assert (row.direction, row.caller, row.callee, row.did, row.seat_id) == (
        "inbound", "+15551230001", "+15550100", "+15550100", "1001")
    assert (row.status, row.end_reason, row.hangup_by, row.sip_status) == ("ended", "hangup", "seat", 200)
    assert row.duration == pytest.approx(2.0, abs=0.5)
    # The carrier's BYE came from callfloor, inside the carrier's dialog.
    assert "BYE sip:+15551230001@127.0.0.2" in carrier.messages
    audio, rate = read_stereo(recordings / (row.recording_path or ""))
    assert len(audio) / rate == pytest.approx(row.duration, abs=0.5)
    active = (np.abs(audio.astype(np.int32)) > 100).mean(axis=0)
    assert active[0] > 0.4 and active[1] > 0.4, active


async def test_ring_timeout_gives_the_carrier_480(open_floor: FloorOpener) -> None:
    async with open_floor(sip={"ring_timeout": 1.5}) as f:
        seat = await f.start_seat("seat_ring.xml", await registered_seat(f))
        started = asyncio.get_running_loop().time()
        carrier = await f.carrier("carrier_refused_480.xml")
        waited = asyncio.get_running_loop().time() - started
        assert carrier.returncode == 0, carrier.explain()
        seat_result = await seat
        assert seat_result.returncode == 0, seat_result.explain()
        rows = await f.calls_when_idle()
    assert 1.4 < waited < 3.5
    # The carrier heard the ringing, then the 480; the seat's phone was cancelled.
    assert "SIP/2.0 180 Ringing" in carrier.messages
    assert "CANCEL sip:1001@127.0.0.1" in seat_result.messages
    assert [(r.status, r.end_reason, r.sip_status, r.hangup_by, r.answered_at) for r in rows] == [
        ("ended", "no_answer", 480, None, None)]


async def test_seat_not_registered_gives_480(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        carrier = await f.carrier("carrier_refused_480.xml")
        assert carrier.returncode == 0, carrier.explain()
        rows = await f.calls_when_idle()
    assert "SIP/2.0 480 Seat not registered" in carrier.messages
    assert rows == []


async def test_busy_seat_gives_486(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        seat = await f.start_seat("seat_hangup.xml", await registered_seat(f))
        first = asyncio.create_task(f.carrier("carrier_wait_bye.xml"))
        engine = f.service.engine
        await f.wait_for(lambda: any(c.answered_at for c in engine.calls.values()), "the first call")
        second = await f.carrier("carrier_refused_486.xml")
        assert second.returncode == 0, second.explain()
        assert "SIP/2.0 486 Seat busy" in second.messages
        for result in (await first, await seat):
            assert result.returncode == 0, result.explain()
        rows = await f.calls_when_idle()
    assert [(r.end_reason, r.hangup_by) for r in rows] == [("hangup", "seat")]


async def test_number_not_on_the_floor_gives_404(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        await registered_seat(f)
        carrier = await f.carrier("carrier_refused_404.xml", "+15559999")
        assert carrier.returncode == 0, carrier.explain()
        rows = await f.calls_when_idle()
    assert "SIP/2.0 404 Number not on this floor" in carrier.messages
    assert rows == []


async def test_call_forks_to_every_phone_of_the_seat(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        ringing_port = await registered_seat(f, "1002", "secret1002")
        answering_port = await registered_seat(f, "1002", "secret1002")
        ringing = await f.start_seat("seat_ring.xml", ringing_port)
        answering = await f.start_seat("seat_hangup.xml", answering_port)
        carrier = await f.carrier("carrier_wait_bye.xml", "+15550101")
        for result in (carrier, await answering, await ringing):
            assert result.returncode == 0, result.explain()
        rows = await f.calls_when_idle()
    # The phone that lost the race was cancelled (RFC 3261 §13.2.2.4 / §9.1).
    assert "CANCEL sip:1002@127.0.0.1" in ringing.result().messages
    assert [(r.seat_id, r.end_reason, r.hangup_by) for r in rows] == [("1002", "hangup", "seat")]


async def test_delayed_offer_from_the_carrier(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        seat = await f.start_seat("seat_hangup.xml", await registered_seat(f))
        carrier = await f.carrier("carrier_delayed_offer.xml")
        assert carrier.returncode == 0, carrier.explain()
        seat_result = await seat
        assert seat_result.returncode == 0, seat_result.explain()
        rows = await f.calls_when_idle()
    # No offer in the INVITE: callfloor's 200 carries the offer (the seat's codec) and the
    # carrier's ACK the answer (RFC 3261 §13.2.1, RFC 3264 §5).
    ok = next(m for m in traced(carrier.messages) if m.start_line.startswith("SIP/2.0 200")
              and m.cseq == "1 INVITE")
    assert ok.headers["content-type"] == "application/sdp"
    assert re.search(r"^m=audio \d+ RTP/AVP 0 101$", ok.body, re.M)
    assert [(r.end_reason, r.hangup_by, r.sip_status) for r in rows] == [("hangup", "seat", 200)]
    assert rows[0].duration == pytest.approx(2.0, abs=0.5)
