"""Silent monitoring with real peers: the SIPp carrier (a 440 Hz tone) calls baresip seat 1001
(a 1 kHz tone), and pyVoIP, team lead 1002, listens. The lead hears both tones mixed; the
carrier and the seat get no SIP message because of it, and the lead's own audio (2 kHz) reaches
neither party nor the recording.

The listener is pyVoIP, not a second baresip: baresip 1.0 answers the ``sendonly`` offer with
``recvonly`` and receives the RTP ("incoming rtp established") but its decoder dump stays empty
on a receive-only stream, so nothing it heard could be checked. pyVoIP answers ``sendrecv``
whatever it is offered and keeps sending its own audio, which shows that it is ignored."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callfloor.app import Running
from recordings.wav import read_stereo
from telephony.calls.call import CallState
from telephony.rtp.g711 import alaw_encode
from telephony.rtp.tone import tone, tone_power_db
from telephony.sip.message import Request
from telephony.sip.parser import parse_message
from telephony.sip.transport import Outgoing
from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    floor,
    floor_settings,
    free_port,
    run_sipp,
)
from tests.integration.peers.baresip import BaresipAccount, baresip
from tests.integration.peers.pyvoip import ToneAnswerer, pyvoip_phone, to_unsigned_8bit
from tests.integration.peers.waits import calls_when_idle, registered, until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CUSTOMER_HZ, SEAT_HZ, LEAD_HZ = 440.0, 1000.0, 2000.0
RATE = 8000


def tone_wav(path: Path, freq: float, seconds: float = 40.0) -> Path:
    """A baresip microphone: 8 kHz mono S16 of one tone at -10 dBFS."""
    sf.write(path, tone(freq, seconds), RATE, subtype="PCM_16")
    return path


def tone_pcap(path: Path, freq: float, seconds: float) -> Path:
    """A pcap (Ethernet/IPv4/UDP, as SIPp's play_pcap_audio reads) of A-law RTP carrying a tone."""
    payload = alaw_encode(tone(freq, seconds, RATE, dbfs=-12.0))
    records = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for k in range(len(payload) // 160):
        rtp = struct.pack("!BBHII", 0x80, 8, k, k * 160, 0x5EED) + payload[k * 160:(k + 1) * 160]
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k & 0xFFFF, 0, 64,
                                   17, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
        ip[10:12] = struct.pack("!H", _ip_checksum(bytes(ip)))
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + bytes(ip) + udp
        usec = k * 20_000
        records.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame),
                                   len(frame)) + frame)
    path.write_bytes(b"".join(records))
    return path


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def carrier_scenario(workdir: Path, pcap: Path) -> Path:
    """carrier_call.xml with the customer's speech replaced by the tone."""
    text = (SIPP_DIR / "carrier_call.xml").read_text()
    speech = "/usr/share/sip-tester/g711a.pcap"
    assert speech in text
    path = workdir / "carrier_tone.xml"
    path.write_text(text.replace(speech, str(pcap)))
    return path


def spy_on_sip(service: Running) -> list[Outgoing]:
    """Every SIP datagram the floor sends from now on (the real transport still sends it)."""
    sent: list[Outgoing] = []
    send: Callable[[Outgoing], None] = service.sip.transport.send

    def spy(out: Outgoing) -> None:
        sent.append(out)
        send(out)

    service.sip.transport.send = spy  # type: ignore[method-assign]
    return sent


def requests_to(sent: list[Outgoing], port: int) -> list[str]:
    """The methods of the requests the floor sent to ``port`` (retransmissions counted once)."""
    unique = list(dict.fromkeys(out.data for out in sent if out.peer.port == port))
    return [m.method for m in map(parse_message, unique) if isinstance(m, Request)]


def answered(service: Running) -> str | None:
    """The uuid of the bridged call, once there is one."""
    return next((uuid for uuid, call in service.engine.calls.items()
                 if call.state is CallState.ANSWERED), None)


async def test_a_team_lead_hears_both_parties_and_nobody_is_told(tmp_path: Path) -> None:
    carrier_port = free_port(CARRIER_HOST)
    settings = floor_settings(tmp_path, trunk={"port": carrier_port}, sip={"auth_algorithms": ["MD5"]})
    pcap = tone_pcap(tmp_path / "customer.pcap", CUSTOMER_HZ, 9.0)
    (tmp_path / "carrier").mkdir()
    scenario = carrier_scenario(tmp_path, pcap)
    async with floor(settings) as service:
        seat_account = BaresipAccount("1001", "secret1001", service.sip_address, answermode="auto")
        answerer = ToneAnswerer(to_unsigned_8bit(tone(LEAD_HZ, 40.0)), limit=40.0)
        async with (
            baresip(tmp_path / "seat", seat_account, tone_wav(tmp_path / "seat.wav", SEAT_HZ),
                    lifetime=90, record=True) as seat,
            pyvoip_phone(service.sip_address, "1002", "secret1002", answerer) as lead,
        ):
            await until(lambda: registered(service, "1001") and registered(service, "1002"),
                        "both baresips to register", timeout=10)
            host, port = service.sip_address
            carrier = asyncio.create_task(run_sipp(
                [f"{host}:{port}", "-sf", str(scenario), "-s", "+15550100", "-i", CARRIER_HOST,
                 "-p", str(carrier_port), "-mi", CARRIER_HOST,
                 "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1", "-timeout", "45"],
                tmp_path / "carrier", timeout=40))
            try:
                await until(lambda: answered(service) is not None, "the seat to answer", timeout=10)
                uuid = answered(service)
                assert uuid is not None
                sent = spy_on_sip(service)
                ids: list[str] = []
                service.sip.apply(lambda now: ids.append(service.engine.listen(uuid, "1002", now)))
                await until(answerer.log.answered.is_set, "the lead's phone to answer")
                fanout = service.relay.fanout
                media = fanout.listens[ids[0]].port
                await until(lambda: media.tx > 200, "four seconds of the mix to reach the lead")
                # The BYE when the monitored call ends.
                await until(answerer.log.ended.is_set, "the listen leg to end", timeout=20)
                result = await asyncio.wait_for(carrier, 30)
            finally:
                carrier.cancel()
            rows = await calls_when_idle(service)
    assert result.returncode == 0, result.explain()
    # The customer and the seat heard nothing of the listen: no request but the BYE to the seat.
    assert requests_to(sent, carrier_port) == []
    assert requests_to(sent, seat.sip_port) == ["BYE"]
    assert requests_to(sent, lead.sip.myPort) == ["INVITE", "ACK", "BYE"]
    # baresip saw one offer (the call's INVITE): no re-INVITE reached it.
    assert [e.get("type") for e in seat.seen].count("CALL_REMOTE_SDP") == 1, seat.seen
    # One call record: the listen is not a call of the floor.
    assert len(rows) == 1 and (rows[0].seat_id, rows[0].hangup_by) == ("1001", "customer")
    # The lead heard both parties' tones, and not its own.
    assert answerer.log.errors == [] and answerer.log.calls == ids
    assert media.ignored > 100  # the lead's own RTP, received and dropped
    heard = (np.frombuffer(bytes(answerer.log.heard), np.uint8).astype(np.int16) - 128) << 8
    assert len(heard) > 4 * RATE
    # Each at the level its party sent (-12 and -10 dBFS): summed, not scaled.
    assert tone_power_db(heard, CUSTOMER_HZ) == pytest.approx(-12.0, abs=1.5)
    assert tone_power_db(heard, SEAT_HZ) == pytest.approx(-10.0, abs=1.5)
    assert tone_power_db(heard, LEAD_HZ) < -50
    # The lead's own tone reached neither the seat nor the call's recording.
    seat_heard, _ = sf.read(next((tmp_path / "seat" / "heard").glob("*-dec.wav")), dtype="int16")
    assert tone_power_db(seat_heard, CUSTOMER_HZ) > -20
    assert tone_power_db(seat_heard, LEAD_HZ) < -50
    audio, _ = read_stereo(settings.storage.recordings_dir / rows[0].recording_path)
    for channel in (audio[:, 0], audio[:, 1]):
        assert tone_power_db(np.asarray(channel), LEAD_HZ) < -50
