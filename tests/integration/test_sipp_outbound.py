"""Outbound: a seat dials 9 + a number, authenticates with digest, and callfloor calls the carrier
with the prefix stripped; media flows both ways and is recorded. A number the allow-list refuses
gets 403; a seat may give up while the customer's phone rings; the carrier's early media is heard."""

from __future__ import annotations

import asyncio
import re

import numpy as np
import pytest

from recordings.wav import read_stereo
from telephony.calls.commands import Side
from tests.integration.conftest import FloorOpener, traced
from tests.integration.harness import CARRIER_HOST, free_port

pytestmark = pytest.mark.integration

NUMBER = "15551230002"  # carrier_answer.xml checks for exactly this Request-URI user


async def test_seat_dials_out_through_the_carrier(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        assert (await f.register("1001", "secret1001", free_port())).returncode == 0
        carrier = await f.start_carrier("carrier_answer.xml")
        seat = await f.seat_uac("seat_dial.xml", service=f"9{NUMBER}", keys={"seat": "1001"})
        assert seat.returncode == 0, seat.explain()
        carrier_result = await carrier
        assert carrier_result.returncode == 0, carrier_result.explain()
        rows = await f.calls_when_idle()
        recordings = f.service.settings.storage.recordings_dir
    # The seat's second INVITE carried digest credentials for its 407 challenge.
    assert re.search(r"^Proxy-Authorization: Digest username=\"1001\"", seat.messages, re.M)
    # callfloor's INVITE to the carrier: bare number, the floor's caller id.
    invite = re.search(r"^INVITE (\S+) SIP/2.0\r?\n((?:[^\r\n]+\r?\n)+)", carrier_result.messages, re.M)
    assert invite is not None
    assert invite[1] == f"sip:{NUMBER}@{CARRIER_HOST}:{f.trunk_port}"
    assert re.search(r"^From: <sip:\+15550100@127\.0\.0\.1>;tag=", invite[2], re.M)
    assert len(rows) == 1
    row = rows[0]
    assert (row.direction, row.caller, row.callee, row.did, row.seat_id) == (
        "outbound", "1001", NUMBER, None, "1001")
    assert (row.status, row.end_reason, row.hangup_by, row.sip_status) == ("ended", "hangup", "seat", 200)
    assert row.duration == pytest.approx(3.0, abs=0.6)
    audio, rate = read_stereo(recordings / (row.recording_path or ""))
    active = (np.abs(audio.astype(np.int32)) > 100).mean(axis=0)
    # The seat plays speech (right channel); the carrier echoes it back (left channel).
    assert active[0] > 0.4 and active[1] > 0.4, active


async def test_number_outside_the_allow_list_is_refused(open_floor: FloorOpener) -> None:
    async with open_floor(trunk={"outbound_allow": [r"^1555\d{7}$"]}) as f:
        assert (await f.register("1001", "secret1001", free_port())).returncode == 0
        refused = await f.seat_uac("seat_dial_refused.xml", service="944207946000",
                                   keys={"seat": "1001"})
        assert refused.returncode == 0, refused.explain()
        rows = await f.calls_when_idle()
    assert rows == []


async def test_seat_cancels_while_the_customer_rings(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        carrier = await f.start_carrier("seat_ring.xml", echo=False)
        seat = await f.seat_uac("seat_dial_cancel.xml", service=f"9{NUMBER}", keys={"seat": "1001"})
        assert seat.returncode == 0, seat.explain()
        carrier_result = await carrier
        assert carrier_result.returncode == 0, carrier_result.explain()
        rows = await f.calls_when_idle()
    assert f"CANCEL sip:{NUMBER}@{CARRIER_HOST}:{f.trunk_port}" in carrier_result.messages
    assert [(r.direction, r.end_reason, r.hangup_by, r.sip_status, r.answered_at) for r in rows] == [
        ("outbound", "cancelled", "seat", 487, None)]


async def test_early_media_from_the_carrier_reaches_the_seat(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        carrier = await f.start_carrier("carrier_answer_early.xml")
        seat = asyncio.create_task(
            f.seat_uac("seat_dial.xml", service=f"9{NUMBER}", keys={"seat": "1001"}))
        engine, relay = f.service.engine, f.service.relay

        def early_media() -> list[int]:
            """RTP packets relayed to the seat while no call is answered yet."""
            return [relay.bridges[u].rtp[Side.SEAT].tx for u, c in engine.calls.items()
                    if c.answered_at is None and u in relay.bridges]

        await f.wait_for(lambda: any(n >= 10 for n in early_media()) or seat.done(),
                         "early media toward the seat")
        assert not seat.done()
        seat_result = await seat
        assert seat_result.returncode == 0, seat_result.explain()
        carrier_result = await carrier
        assert carrier_result.returncode == 0, carrier_result.explain()
        rows = await f.calls_when_idle()
        recordings = f.service.settings.storage.recordings_dir
    # The seat got the carrier's answer in a 183, and the same SDP again in the 200 (RFC 3264:
    # one offer, one answer).
    trace = traced(seat_result.messages)
    sdp = {m.start_line.split()[1]: m.body for m in trace if m.start_line.split()[1] in ("183", "200")
           and m.cseq == "2 INVITE"}
    assert sdp["183"] == sdp["200"] and "m=audio" in sdp["183"]
    assert len(rows) == 1
    row = rows[0]
    assert row.answered_at is not None and row.answered_at - row.started_at >= 0.9
    # Only the answered part is recorded.
    audio, rate = read_stereo(recordings / (row.recording_path or ""))
    assert len(audio) / rate == pytest.approx(row.duration, abs=0.5)
