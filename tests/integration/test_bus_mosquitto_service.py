"""The whole service on Mosquitto: the floor publishes its seat and call events to an external
broker (``bus.url``), and a plain aiomqtt client subscribed to ``callfloor/#`` sees a SIPp seat
register and a SIPp carrier call offered, answered and ended, each as JSON naming the call and seat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    floor,
    floor_settings,
    free_port,
    run_sipp,
)
from tests.integration.peers.mosquitto import mosquitto
from tests.integration.peers.waits import calls_when_idle, until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SEAT, PASSWORD, DID = "1001", "secret1001", "+15550100"
EVENTS = "callfloor/main/events/"


async def collect(client: aiomqtt.Client, into: list[tuple[str, dict[str, Any]]]) -> None:
    """Append every (topic, JSON payload) the client receives until cancelled."""
    async for message in client.messages:
        assert isinstance(message.payload, bytes | bytearray)
        into.append((message.topic.value, json.loads(message.payload)))


async def test_floor_events_reach_mosquitto(tmp_path: Path) -> None:
    async with mosquitto(tmp_path / "mosquitto") as broker:
        settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)},
                                  bus={"url": broker.url})
        assert settings.trunk is not None and not settings.bus.embedded
        seen: list[tuple[str, dict[str, Any]]] = []
        async with aiomqtt.Client(broker.host, broker.port) as client:
            await client.subscribe("callfloor/#", qos=1)
            listener = asyncio.create_task(collect(client, seen))
            try:
                async with floor(settings) as service:
                    assert service.bus is not None
                    await asyncio.wait_for(service.bus.wait_connected(), 10)
                    await call_through_the_floor(service.sip_address, settings.trunk.port, tmp_path)
                    rows = await calls_when_idle(service)
                    await until(lambda: any(t == EVENTS + "call.ended" for t, _ in seen),
                                f"call.ended on the broker; got {[t for t, _ in seen]}\n{broker.log()[-2000:]}")
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
    assert len(rows) == 1
    uuid = rows[0].uuid
    events = {topic.removeprefix(EVENTS): payload for topic, payload in seen if topic.startswith(EVENTS)}
    kinds = [topic.removeprefix(EVENTS) for topic, _ in seen if topic.startswith(EVENTS)]
    assert {"seat.registered", "call.offered", "call.answered", "call.ended"} <= set(kinds), kinds
    # One call, in the order it happened.
    order = [k for k in kinds if k in ("call.offered", "call.answered", "call.ended")]
    assert order == ["call.offered", "call.answered", "call.ended"], kinds
    registered = events["seat.registered"]
    assert (registered["event"], registered["seat"], registered["transport"]) == ("seat.registered", SEAT, "UDP")
    assert registered["contact"].startswith(f"sip:{SEAT}@127.0.0.1:")
    for kind in ("call.offered", "call.answered", "call.ended"):
        payload = events[kind]
        assert (payload["event"], payload["call"], payload["seat"], payload["direction"]) == (
            kind, uuid, SEAT, "inbound"), payload
        assert (payload["caller"], payload["callee"]) == ("+15551230001", DID), payload
        assert isinstance(payload["ts"], float)
    ended = events["call.ended"]
    assert (ended["reason"], ended["hangup_by"]) == ("hangup", "customer")
    assert ended["talk_seconds"] == pytest.approx(9.0, abs=1.0)
    assert events["call.offered"]["ts"] <= events["call.answered"]["ts"] < ended["ts"]


async def call_through_the_floor(sip: tuple[str, int], trunk_port: int, tmp_path: Path) -> None:
    """Register seat 1001 (a SIPp UAS that echoes media) and have the SIPp carrier call it."""
    target = f"{sip[0]}:{sip[1]}"
    seat_port = free_port()
    register = await run_sipp(
        [target, "-sf", str(SIPP_DIR / "register.xml"), "-m", "1", "-i", "127.0.0.1",
         "-p", str(free_port()), "-s", SEAT, "-au", SEAT, "-ap", PASSWORD,
         "-key", "contact_port", str(seat_port), "-key", "expires", "300"],
        _dir(tmp_path / "register"), timeout=20)
    assert register.returncode == 0, register.explain()
    seat = asyncio.create_task(run_sipp(
        ["-sf", str(SIPP_DIR / "seat_answer.xml"), "-i", "127.0.0.1", "-p", str(seat_port),
         "-mi", "127.0.0.1", "-mp", str(free_port(pair=True)), "-rtp_echo", "-m", "1",
         "-timeout", "45"],
        _dir(tmp_path / "seat"), timeout=40))
    try:
        await _udp_bound(seat_port)
        carrier = await run_sipp(
            [target, "-sf", str(SIPP_DIR / "carrier_call.xml"), "-s", DID, "-i", CARRIER_HOST,
             "-p", str(trunk_port), "-mi", CARRIER_HOST,
             "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1", "-timeout", "45"],
            _dir(tmp_path / "carrier"), timeout=40)
        assert carrier.returncode == 0, carrier.explain()
        seat_result = await asyncio.wait_for(seat, 20)
        assert seat_result.returncode == 0, seat_result.explain()
    finally:
        seat.cancel()


def _dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


async def _udp_bound(port: int, host: str = "127.0.0.1") -> None:
    """Wait until the SIPp seat has bound its UDP port (read from /proc, the port is not touched)."""
    needle = f"{''.join(f'{int(b):02X}' for b in reversed(host.split('.')))}:{port:04X}"
    await until(lambda: any(line.split()[1] == needle
                            for line in Path("/proc/net/udp").read_text().splitlines()[1:]),
                f"SIPp seat bound to {host}:{port}", timeout=5)
