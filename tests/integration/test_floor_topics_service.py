"""The running service's retained floor topics on Mosquitto: a wallboard that subscribes late gets
every queue's stats and seat's state at once, a seat's presence change arrives as its new state,
and a move command on the commands topic moves the seat (the ACD says so) and is answered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from floor.states import PresenceAction
from telephony.calls.commands import Publish
from tests.integration.harness import CARRIER_HOST, floor, floor_settings, free_port
from tests.integration.peers.floor import DEMO_FLOWS
from tests.integration.peers.mosquitto import mosquitto

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ROOT = "callfloor/main"


async def retained(client: aiomqtt.Client, topics: set[str], timeout: float = 10,
                   until: Callable[[dict[str, dict[str, Any]]], bool] = lambda got: True,
                   ) -> dict[str, dict[str, Any]]:
    """The latest payloads of ``topics`` once each has come (the retained ones arrive right after
    subscribing) and ``until`` holds (a change coalesced a moment ago may come after them)."""
    got: dict[str, dict[str, Any]] = {}

    async def read() -> None:
        async for message in client.messages:
            assert isinstance(message.payload, bytes | bytearray)
            if message.topic.value in topics:
                got[message.topic.value] = json.loads(message.payload)
                if set(got) == topics and until(got):
                    return

    await asyncio.wait_for(read(), timeout)
    return got


async def test_a_late_wallboard_sees_the_floor_and_a_command_moves_a_seat(tmp_path: Path) -> None:
    async with mosquitto(tmp_path / "mosquitto") as broker:
        settings = floor_settings(
            tmp_path, trunk={"port": free_port(CARRIER_HOST)}, routes={}, bus={"url": broker.url},
            ivr={"flows": str(DEMO_FLOWS)},
            queues=[{"name": "support"}, {"name": "sales"}, {"name": "vip"}],
            seats=[{"id": f"100{i}", "password": f"secret100{i}", "queues": ["support", "sales"]}
                   for i in (1, 2)])
        async with floor(settings) as service:
            assert service.bus is not None and service.switchboard is not None
            await asyncio.wait_for(service.bus.wait_connected(), 10)
            board = service.switchboard
            service.sip.apply(lambda now: board.set_presence("1001", PresenceAction.PAUSE, now,
                                                             reason="lunch", by="test"))
            # A wallboard connects afterwards and still gets the floor: the topics are retained.
            async with aiomqtt.Client(broker.host, broker.port) as wallboard:
                await wallboard.subscribe(f"{ROOT}/#", qos=1)
                seat_topic = f"{ROOT}/seats/1001/state"
                got = await retained(wallboard, {seat_topic, f"{ROOT}/queues/support/stats"},
                                     until=lambda got: got[seat_topic]["presence"] == "paused")
                seat = got[f"{ROOT}/seats/1001/state"]
                assert (seat["id"], seat["presence"], seat["reason"]) == ("1001", "paused", "lunch")
                assert got[f"{ROOT}/queues/support/stats"]["id"] == "support"

                await wallboard.publish(f"{ROOT}/commands/seats/1002/move", json.dumps(
                    {"target": "queue:sales", "by": "wallboard", "correlation_id": "c1"}), qos=1)
                got = await retained(wallboard, {f"{ROOT}/commands/replies/c1", f"{ROOT}/seats/1002/state"})
                assert got[f"{ROOT}/commands/replies/c1"]["ok"] is True, got
                snapshot = board.acd.snapshot(service.sip.clock())
                assert snapshot.seats["1002"].queues == ("sales",)

                await wallboard.publish(f"{ROOT}/commands/seats/1002/move", json.dumps(
                    {"target": "queue:nowhere", "correlation_id": "c2"}), qos=1)
                reply = (await retained(wallboard, {f"{ROOT}/commands/replies/c2"}))[f"{ROOT}/commands/replies/c2"]
                assert reply["ok"] is False and "nowhere" in reply["error"], reply


async def test_a_malformed_event_misses_the_board_and_harms_nothing(tmp_path: Path) -> None:
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)}, routes={},
                              ivr={"flows": str(DEMO_FLOWS)},
                              queues=[{"name": "support"}, {"name": "sales"}, {"name": "vip"}])
    async with floor(settings) as service:
        live = service.live
        assert live is not None and service.switchboard is not None
        now = service.sip.clock()
        service.executor.execute(Publish("queue.joined", {"queue": "support", "ts": now}, store=True))
        board = service.switchboard
        service.sip.apply(lambda t: board.set_presence("1001", PresenceAction.READY, t, by="test"))
        await asyncio.sleep(0)
        assert live.bad_events == 1
        assert live.board(service.sip.clock())["seats"]["1001"]["presence"] == "ready"
