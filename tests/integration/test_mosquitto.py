"""EventBus against a real Mosquitto broker (Debian `mosquitto`), received by a plain aiomqtt client."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import TypeVar

import aiomqtt
import pytest

from callfloor.bus import EventBus, EventKind, free_tcp_port, open_bus
from callfloor.settings import BusSettings

pytestmark = pytest.mark.integration

T = TypeVar("T")

MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto") if Path(p).exists()), None
)


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    return asyncio.wait_for(awaitable, seconds)


class Mosquitto:
    """A mosquitto process on 127.0.0.1:<port>, anonymous, no persistence."""

    def __init__(self, binary: str, conf: Path, port: int) -> None:
        self.binary, self.conf, self.port = binary, conf, port
        self.process: asyncio.subprocess.Process | None = None
        self._drainer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            self.binary, "-c", str(self.conf),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        assert self.process.stderr is not None
        seen = []
        # Ready when it says so; its log goes to stderr, which is not block-buffered in a pipe.
        while True:
            line = (await within(self.process.stderr.readline())).decode()
            seen.append(line)
            if not line:
                raise RuntimeError(f"mosquitto exited: {''.join(seen)}")
            if " running" in line:
                break
        self._drainer = asyncio.create_task(self._drain(self.process.stderr))

    @staticmethod
    async def _drain(stream: asyncio.StreamReader) -> None:
        while await stream.readline():
            pass

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.terminate()
            await within(process.wait())
        if self._drainer is not None:
            await within(self._drainer)  # ends at EOF once the process is gone
            self._drainer = None


@pytest.fixture
async def mosquitto(tmp_path: Path) -> AsyncIterator[Mosquitto]:
    if MOSQUITTO is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed (apt-get install mosquitto); CI must run this test")
        pytest.skip("mosquitto is not installed")
    port = free_tcp_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n")
    broker = Mosquitto(MOSQUITTO, conf, port)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def test_events_reach_a_plain_aiomqtt_client(mosquitto: Mosquitto) -> None:
    settings = BusSettings(url=f"mqtt://127.0.0.1:{mosquitto.port}", site="it")
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        await client.subscribe("callfloor/it/#", qos=1)
        async with open_bus(settings, clock=lambda: 1700000000.0) as bus:
            await within(bus.wait_connected())
            bus.publish_event(EventKind.CALL_OFFERED, {"call": "c1", "did": "+15550100"})
            bus.publish_seat_state("1001", {"state": "ringing"})
            messages = aiter(client.messages)
            first = await within(anext(messages))
            second = await within(anext(messages))
    assert first.topic.value == "callfloor/it/events/call.offered"
    assert json.loads(first.payload) == {
        "ts": 1700000000.0, "event": "call.offered", "call": "c1", "did": "+15550100",
    }
    assert second.topic.value == "callfloor/it/seats/1001/state"
    assert json.loads(second.payload) == {"ts": 1700000000.0, "seat": "1001", "state": "ringing"}


async def test_retained_seat_state_for_a_late_subscriber(mosquitto: Mosquitto) -> None:
    async with open_bus(BusSettings(url=f"mqtt://127.0.0.1:{mosquitto.port}")) as bus:
        await within(bus.wait_connected())
        bus.publish_seat_state("1002", {"state": "paused", "reason": "lunch"})
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        await client.subscribe("callfloor/main/seats/+/state")
        message = await within(anext(aiter(client.messages)))
    assert message.retain is True
    assert json.loads(message.payload)["reason"] == "lunch"


async def test_reconnects_when_mosquitto_restarts(mosquitto: Mosquitto) -> None:
    bus = EventBus(
        BusSettings(url=f"mqtt://127.0.0.1:{mosquitto.port}").endpoint,
        backoff_initial=0.05, backoff_max=0.2,
    )
    async with bus:
        await within(bus.wait_connected())
        await mosquitto.stop()
        await within(bus.wait_disconnected())
        bus.publish("callfloor/main/events/during", {"n": 1}, retain=True)
        await mosquitto.start()
        await within(bus.wait_connected())
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
            await client.subscribe("callfloor/main/events/#")
            messages = aiter(client.messages)
            during = await within(anext(messages))
            bus.publish("callfloor/main/events/after", {"n": 2})
            after = await within(anext(messages))
    assert (during.topic.value, during.retain) == ("callfloor/main/events/during", True)
    assert (after.topic.value, json.loads(after.payload)["n"]) == ("callfloor/main/events/after", 2)
    assert bus.dropped == 0
