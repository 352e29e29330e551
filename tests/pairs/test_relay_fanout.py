"""The relay's fan-out over real UDP on 127.0.0.1: a listener gets both sides of a bridged call
mixed in its own law, the two parties' packets are relayed exactly as before, what the listener
sends goes nowhere, and the packet path is the plain one again once nobody listens."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import numpy as np

from telephony.calls.commands import ListenFailed, MediaEvent, SetListenPeer, SetMediaPeer, Side
from telephony.net.ports import RtpPort
from telephony.net.relay import MediaRelay
from telephony.net.relay_fanout import ForwardTap
from telephony.rtp.g711 import decode
from telephony.rtp.tone import tone_power_db
from tests.integration.harness import free_port
from tests.pairs.test_relay_bridge import CUSTOMER_HZ, RATE, SEAT_HZ, Phone


def plain(relay: MediaRelay, call: str) -> bool:
    """Both sides forward straight to the other side's port (no tap on the packet path)."""
    return all(type(rtp.fwd) is RtpPort for rtp in relay.bridges[call].rtp.values())


async def talk(customer: Phone, seat: Phone, ports: dict[Side, int], packets: int) -> None:
    for _ in range(packets):
        customer.send(("127.0.0.1", ports[Side.CUSTOMER]))
        seat.send(("127.0.0.1", ports[Side.SEAT]))
        await asyncio.sleep(0.02)


async def test_a_listener_hears_both_sides_and_the_parties_hear_no_difference(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay = MediaRelay("127.0.0.1", media_timeout=30, recordings_dir=tmp_path, on_event=events.append)
    await relay.start()
    customer = Phone("PCMU", 0, 0xC0FFEE, CUSTOMER_HZ)
    seat = Phone("PCMA", 96, 0x5EA7, SEAT_HZ)
    lead = Phone("PCMA", 8, 0x1EAD, 2000.0)  # the listener's phone talks too: ignored
    ports = {Side.CUSTOMER: free_port(pair=True), Side.SEAT: free_port(pair=True)}
    listen_port = free_port(pair=True)
    relay.open("c1", ports)
    relay.set_peer(SetMediaPeer("c1", Side.CUSTOMER, "127.0.0.1", customer.port, "PCMU", 0, 101))
    relay.set_peer(SetMediaPeer("c1", Side.SEAT, "127.0.0.1", seat.port, "PCMA", 96, 101))
    relay.fanout.open("L1", "c1", listen_port)
    await asyncio.sleep(0.05)  # the endpoints are adopted
    try:
        assert plain(relay, "c1")  # bound, not answered: nothing on the packet path yet
        relay.fanout.set_peer(SetListenPeer("L1", "127.0.0.1", lead.port, "PCMA", 8))
        assert not plain(relay, "c1")
        await talk(customer, seat, ports, 50)
        for _ in range(10):
            lead.send(("127.0.0.1", listen_port))
        await talk(customer, seat, ports, 50)
        at_seat, at_customer, at_lead = seat.received(), customer.received(), lead.received()
        entry = relay.fanout.listens["L1"]
        ignored, tx = entry.port.ignored, relay.bridges["c1"].rtp[Side.SEAT].tx
        relay.fanout.close("L1")
        assert plain(relay, "c1") and relay.fanout.monitors == {}
    finally:
        relay.close("c1")
        await relay.close_all()
    # The parties: every packet, in their own law and PT, counted as before.
    assert len(at_seat) == len(at_customer) == 100 and tx == 100
    assert {p[1] & 0x7F for p in at_seat} == {96} and {p[1] & 0x7F for p in at_customer} == {0}
    heard_by_customer = np.concatenate([decode(p[12:], "PCMU") for p in at_customer])
    assert tone_power_db(heard_by_customer, 2000.0, RATE) < -50
    # The listener: its own stream (PT 8, one SSRC, consecutive sequence numbers) of both tones.
    assert len(at_lead) >= 90, len(at_lead)  # one per 20 ms tick while the parties talked
    assert {p[1] & 0x7F for p in at_lead} == {8} and len({p[8:12] for p in at_lead}) == 1
    assert at_lead[0][1] & 0x80 and not any(p[1] & 0x80 for p in at_lead[1:])
    seqs = [int.from_bytes(p[2:4], "big") for p in at_lead]
    assert all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    # Per 20 ms frame: this test's senders are paced by asyncio.sleep, so the mix re-primes now
    # and then, and a tone's phase does not run on across those gaps.
    frames = [decode(p[12:], "PCMA") for p in at_lead]
    audible = [f for f in frames if np.abs(f).max() > 100]
    assert len(audible) >= 80, len(audible)
    for freq, level in ((CUSTOMER_HZ, -12.0), (SEAT_HZ, -12.0)):
        assert abs(np.median([tone_power_db(f, freq, RATE) for f in audible]) - level) < 1.5
    assert max(tone_power_db(f, 2000.0, RATE) for f in audible) < -40
    assert ignored == 10 and events == []


async def test_an_unbridged_call_is_tapped_again_when_bridged_again(tmp_path: Path) -> None:
    relay = MediaRelay("127.0.0.1", media_timeout=30, recordings_dir=tmp_path, on_event=lambda e: None)
    ports = {Side.CUSTOMER: free_port(pair=True), Side.SEAT: free_port(pair=True)}
    relay.open("c1", ports, hosted=Side.CUSTOMER)
    relay.connect("c1", True)
    relay.fanout.open("L1", "c1", free_port(pair=True))
    relay.fanout.set_peer(SetListenPeer("L1", "127.0.0.1", 9, "PCMU", 0))
    try:
        assert all(isinstance(rtp.fwd, ForwardTap) for rtp in relay.bridges["c1"].rtp.values())
        relay.connect("c1", False)  # the seat left (a survey): nothing is forwarded
        assert all(rtp.fwd is None for rtp in relay.bridges["c1"].rtp.values())
        relay.connect("c1", True)
        assert all(isinstance(rtp.fwd, ForwardTap) for rtp in relay.bridges["c1"].rtp.values())
    finally:
        await relay.close_all()
    assert relay.fanout.listens == {} and relay.fanout.monitors == {}


async def test_a_port_that_cannot_be_bound_fails_the_listen_not_the_call(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay = MediaRelay("127.0.0.1", media_timeout=30, recordings_dir=tmp_path, on_event=events.append)
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", free_port(pair=True)))
    port = taken.getsockname()[1]
    try:
        relay.fanout.open("L1", "c1", port)
    finally:
        taken.close()
    assert len(events) == 1 and isinstance(events[0], ListenFailed)
    assert (events[0].call, events[0].listen) == ("c1", "L1")
    assert f"cannot bind RTP port {port}" in events[0].reason
    assert relay.fanout.listens == {}
