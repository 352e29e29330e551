"""DTMF from the carrier: RFC 4733 telephone-events are relayed to the seat untouched and stay
out of the recording; a SIP INFO digit is answered 200 and published as a call.dtmf event."""

from __future__ import annotations

import asyncio
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from recordings.wav import read_stereo
from telephony.rtp.dtmf import TelephoneEvent
from telephony.rtp.packet import RtpPacket
from tests.integration.conftest import SEAT_HOST, FloorOpener
from tests.integration.harness import free_port

pytestmark = pytest.mark.integration

DTMF_1 = Path("/usr/share/sip-tester/dtmf_2833_1.pcap")


def pcap_rtp(path: Path) -> list[bytes]:
    """The RTP packets (UDP payloads) of a little-endian Ethernet/IPv4 pcap file."""
    data = path.read_bytes()
    assert struct.unpack_from("<IHHiIII", data)[0] == 0xA1B2C3D4 and struct.unpack_from("<I", data, 20)[0] == 1
    packets, offset = [], 24
    while offset < len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        ip = frame[14:]
        udp = ip[4 * (ip[0] & 0x0F) :]
        packets.append(udp[8 : struct.unpack_from("!H", udp, 4)[0]])
    return packets


class Sink(asyncio.DatagramProtocol):
    """A seat's RTP port that only listens: keeps what the relay sends it."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(data)


async def test_dtmf_from_the_carrier(open_floor: FloorOpener) -> None:
    loop = asyncio.get_running_loop()
    rtp_port = free_port(pair=True)
    sink = Sink()
    transport, _ = await loop.create_datagram_endpoint(lambda: sink, local_addr=(SEAT_HOST, rtp_port))
    try:
        async with open_floor() as f:
            seat_port = free_port()
            assert (await f.register("1001", "secret1001", seat_port)).returncode == 0
            async with f.bus_events() as events:
                seat = await f.start_seat("seat_answer_sink.xml", seat_port, echo=False,
                                          keys={"rtp_port": rtp_port})
                carrier = await f.carrier("carrier_dtmf.xml")
                assert carrier.returncode == 0, carrier.explain()
                seat_result = await seat
                assert seat_result.returncode == 0, seat_result.explain()
            rows = await f.calls_when_idle()
            recordings = f.service.settings.storage.recordings_dir
    finally:
        transport.close()
    # RFC 4733: the carrier's ten telephone-event packets for digit 1 reach the seat byte for
    # byte (both legs use payload type 101, so not even the header is rewritten).
    sent = pcap_rtp(DTMF_1)
    assert sink.packets == sent
    relayed = [RtpPacket.parse(p) for p in sink.packets]
    assert [p.payload_type for p in relayed] == [101] * 10
    events_seen = [TelephoneEvent.parse(p.payload) for p in relayed]
    assert {e.event for e in events_seen} == {1}
    assert [e.end for e in events_seen] == [False] * 7 + [True] * 3
    # SIP INFO: answered 200 in the dialog, and published once.
    assert re.search(r"^SIP/2.0 200 OK\r?\n(?:[^\r\n]+\r?\n)*CSeq: 2 INFO", carrier.messages, re.M)
    dtmf = [m.payload for m in events if m.payload["event"] == "call.dtmf"]
    assert [(d["digit"], d["side"], d["seat"]) for d in dtmf] == [("5", "customer", "1001")]
    assert len(rows) == 1 and dtmf[0]["call"] == rows[0].uuid
    # Telephone-events are not audio: the recording holds the call's length of silence.
    audio, rate = read_stereo(recordings / (rows[0].recording_path or ""))
    assert len(audio) / rate == pytest.approx(rows[0].duration, abs=0.5)
    assert int(np.abs(audio.astype(np.int32)).max()) == 0
