"""SIP over TCP: the carrier calls over a connection, and a seat registered over TCP is reached
over its own connection (callfloor cannot open one to a phone behind NAT)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from telephony.sip.transport import Peer, Transport
from tests.integration.conftest import SEAT_HOST, FloorOpener
from tests.integration.harness import CARRIER_HOST, SIPP_DIR, free_port

pytestmark = pytest.mark.integration


def transports(trace: str, direction: str) -> set[str]:
    """The transports SIPp logged for messages ``direction`` ('sent' or 'received')."""
    return set(re.findall(rf"^(\w+) message {direction}", trace, re.M))


async def test_inbound_call_over_tcp(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        registrar = f.service.engine.seats.registrar
        seat_port, contact_port = free_port(), free_port()
        # One SIPp is the phone: it registers over TCP, then takes the call on that connection.
        # Its Contact names a port nobody listens on (a phone behind NAT): only the connection works.
        seat = asyncio.create_task(f.run(
            "seat-tcp", "register_stay.xml",
            [f.target, "-t", "t1", "-i", SEAT_HOST, "-p", str(seat_port), "-m", "1",
             "-s", "1001", "-au", "1001", "-ap", "secret1001", "-d", "5000",
             "-oocsf", str(SIPP_DIR / "seat_hangup.xml"),
             "-mi", SEAT_HOST, "-mp", str(free_port(pair=True)), "-rtp_echo"],
            keys={"contact_port": contact_port, "expires": 300}))
        await f.wait_for(lambda: bool(registrar.lookup("1001", time.time())) or seat.done(),
                         "the seat's registration over TCP")
        (binding,) = registrar.lookup("1001", time.time())
        assert binding.source[0] == "TCP"
        assert binding.contact.uri == f"sip:1001@127.0.0.1:{contact_port};transport=TCP"
        calling = asyncio.create_task(f.carrier("carrier_wait_bye.xml", tcp=True))
        engine = f.service.engine
        await f.wait_for(lambda: any(c.answered_at for c in engine.calls.values()) or calling.done(),
                         "the call to be answered")
        connections = set(f.service.sip.transport.connections)
        carrier = await calling
        assert carrier.returncode == 0, carrier.explain()
        seat_result = await seat
        assert seat_result.returncode == 0, seat_result.explain()
        rows = await f.calls_when_idle()
    for trace in (carrier.messages, seat_result.messages):
        assert transports(trace, "sent") == transports(trace, "received") == {"TCP"}
    assert f"Via: SIP/2.0/TCP {CARRIER_HOST}:" in carrier.messages
    # Two connections while the call was up: the carrier's, and the one the seat registered on.
    seat_peer = Peer(Transport.TCP, SEAT_HOST, binding.source[2])
    assert {(p.transport, p.host) for p in connections} == {(Transport.TCP, CARRIER_HOST),
                                                            (Transport.TCP, SEAT_HOST)}
    assert seat_peer in connections
    assert f"INVITE sip:1001@127.0.0.1:{contact_port};transport=TCP SIP/2.0" in seat_result.messages
    assert len(rows) == 1
    row = rows[0]
    assert (row.direction, row.seat_id, row.status, row.end_reason, row.hangup_by) == (
        "inbound", "1001", "ended", "hangup", "seat")
    assert row.duration == pytest.approx(2.0, abs=0.5)
