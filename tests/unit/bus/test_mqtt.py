"""EventBus against the embedded broker: delivery, topics, reconnect, overflow, lifetime."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import aiomqtt
import pytest

from callfloor.bus import (
    BusError,
    EmbeddedBroker,
    EventBus,
    EventKind,
    Subscription,
    free_tcp_port,
    open_bus,
)
from callfloor.settings import BusSettings, MqttEndpoint

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 5.0) -> Awaitable[T]:
    """Bound every wait so a broken bus fails the test instead of hanging it."""
    return asyncio.wait_for(awaitable, seconds)


def make_bus(endpoint: MqttEndpoint, **options: object) -> EventBus:
    return EventBus(endpoint, clock=lambda: 1700000000.25, backoff_initial=0.02, backoff_max=0.1, **options)  # type: ignore[arg-type]


async def test_publish_reaches_a_subscriber(endpoint: MqttEndpoint) -> None:
    async with make_bus(endpoint) as bus, bus.subscribe("callfloor/main/#") as sub:
        await within(bus.wait_connected())
        bus.publish_event(EventKind.CALL_OFFERED, {"call": "c1", "from": "+15550100"})
        bus.publish_event("call.answered", {"call": "c1", "seat": "1001"})
        first = await within(sub.get())
        second = await within(sub.get())
    assert first.topic == "callfloor/main/events/call.offered"
    assert first.raw == b'{"ts":1700000000.25,"event":"call.offered","call":"c1","from":"+15550100"}'
    assert first.payload == {"ts": 1700000000.25, "event": "call.offered", "call": "c1", "from": "+15550100"}
    assert first.retain is False
    assert second.topic == "callfloor/main/events/call.answered"
    assert second.payload["seat"] == "1001"
    assert bus.published == 2 and bus.dropped == 0 and bus.pending == 0


async def test_seat_state_is_retained(endpoint: MqttEndpoint) -> None:
    async with make_bus(endpoint, topic_prefix="acme/cf", site="east") as bus:
        await within(bus.wait_connected())
        bus.publish_seat_state("1001", {"state": "ready"})
        # close() flushes: after it the broker holds the retained state.
    async with Subscription(endpoint, "acme/cf/east/seats/+/state") as sub:
        message = await within(sub.get())
    assert message.topic == "acme/cf/east/seats/1001/state"
    assert message.retain is True
    assert message.payload == {"ts": 1700000000.25, "seat": "1001", "state": "ready"}


async def test_caller_ts_wins_and_values_are_stringified(endpoint: MqttEndpoint) -> None:
    async with make_bus(endpoint) as bus, bus.subscribe("x/#") as sub:
        await within(bus.wait_connected())
        bus.publish("x/1", {"ts": 5, "kind": EventKind.CALL_ENDED, "file": Path("/x/y.flac")})
        message = await within(sub.get())
    assert message.payload == {"ts": 5, "kind": "call.ended", "file": "/x/y.flac"}


async def test_payload_is_encoded_when_published_not_when_sent(endpoint: MqttEndpoint) -> None:
    bus = make_bus(endpoint)
    payload = {"n": 1}
    bus.publish("x/1", payload)
    payload["n"] = 2  # the caller's later change must not reach the wire
    async with Subscription(endpoint, "x/#") as sub, bus:
        message = await within(sub.get())
    assert message.payload["n"] == 1


async def test_overflow_drops_the_oldest_and_counts(endpoint: MqttEndpoint) -> None:
    bus = make_bus(endpoint, queue_size=3)
    for n in range(5):
        bus.publish("x/n", {"n": n})  # not connected yet: never blocks, only queues
    assert (bus.dropped, bus.pending) == (2, 3)
    async with Subscription(endpoint, "x/#") as sub, bus:
        received = [(await within(sub.get())).payload["n"] for _ in range(3)]
    assert received == [2, 3, 4]
    assert (bus.published, bus.dropped, bus.pending) == (3, 2, 0)


async def test_reconnects_after_broker_restart(broker: EmbeddedBroker, endpoint: MqttEndpoint) -> None:
    async with make_bus(endpoint) as bus:
        await within(bus.wait_connected())
        await broker.stop()
        await within(bus.wait_disconnected())
        # Published while the broker is away: held in the queue, retained so it can be checked.
        bus.publish("x/during", {"n": 1}, retain=True)
        bus.publish_event(EventKind.CALL_ENDED, {"call": "c9"})
        await broker.start()
        await within(bus.wait_connected())
        async with Subscription(endpoint, "x/#") as sub:
            during = await within(sub.get())
            bus.publish("x/after", {"n": 2})
            after = await within(sub.get())
        reconnects = bus.reconnects
    assert (during.topic, during.payload["n"], during.retain) == ("x/during", 1, True)
    assert (after.topic, after.payload["n"], after.retain) == ("x/after", 2, False)
    assert reconnects >= 1
    assert bus.published == 3 and bus.dropped == 0


async def test_starts_before_the_broker_and_connects_later() -> None:
    port = free_tcp_port()
    endpoint = MqttEndpoint("127.0.0.1", port)
    async with make_bus(endpoint) as bus:
        bus.publish("x/early", {"n": 1}, retain=True)
        assert not bus.connected
        async with EmbeddedBroker("127.0.0.1", port):
            await within(bus.wait_connected())
            async with Subscription(endpoint, "x/#") as sub:
                message = await within(sub.get())
            await bus.close()
    assert (message.topic, message.payload["n"]) == ("x/early", 1)


async def test_close_flushes_the_queue(endpoint: MqttEndpoint) -> None:
    async with Subscription(endpoint, "x/#") as sub:
        async with make_bus(endpoint) as bus:
            await within(bus.wait_connected())
            for n in range(200):
                bus.publish("x/n", {"n": n})
        received = [(await within(sub.get())).payload["n"] for _ in range(200)]
    assert received == list(range(200))


async def test_close_while_broker_is_down_does_not_hang() -> None:
    bus = make_bus(MqttEndpoint("127.0.0.1", free_tcp_port()))
    async with bus:
        bus.publish("x/lost", {"n": 1})
    assert (bus.connected, bus.pending, bus.published) == (False, 1, 0)


async def test_qos1_publish(endpoint: MqttEndpoint) -> None:
    async with make_bus(endpoint) as bus, bus.subscribe("x/#", qos=1) as sub:
        await within(bus.wait_connected())
        bus.publish("x/q", {"n": 1}, qos=1)
        message = await within(sub.get())
    assert message.payload["n"] == 1


@pytest.mark.parametrize(
    ("topic", "qos"), [("x/+", 0), ("x/#", 0), ("", 0), ("x/1", 3)],
)
def test_publish_rejects_bad_arguments(topic: str, qos: int) -> None:
    bus = EventBus(MqttEndpoint("127.0.0.1", 1))
    with pytest.raises(ValueError):
        bus.publish(topic, {}, qos=qos)
    assert bus.pending == 0


def test_topics() -> None:
    bus = EventBus(MqttEndpoint("127.0.0.1", 1), topic_prefix="callfloor", site="main")
    assert bus.event_topic(EventKind.SEAT_REGISTERED) == "callfloor/main/events/seat.registered"
    assert bus.seat_state_topic("1001") == "callfloor/main/seats/1001/state"
    for bad in ("a/b", "+", "#", ""):
        with pytest.raises(ValueError):
            bus.seat_state_topic(bad)
        with pytest.raises(ValueError):
            bus.event_topic(bad)
    with pytest.raises(ValueError):
        EventBus(MqttEndpoint("127.0.0.1", 1), site="a/b")


async def test_subscription_decodes_non_json_as_none(endpoint: MqttEndpoint) -> None:
    async with Subscription(endpoint, "raw/#") as sub, aiomqtt.Client(endpoint.host, endpoint.port) as client:
        await client.publish("raw/1", b"\xff not json")
        message = await within(sub.get())
    assert (message.payload, message.raw) == (None, b"\xff not json")


async def test_subscription_iterates_and_stops_when_closed(endpoint: MqttEndpoint) -> None:
    sub = Subscription(endpoint, "it/#")
    async with make_bus(endpoint) as bus:
        await sub.open()
        for n in range(3):
            bus.publish("it/n", {"n": n})
        seen = []
        async for message in sub:
            seen.append(message.payload["n"])
            if len(seen) == 3:
                await sub.aclose()
    assert seen == [0, 1, 2]
    with pytest.raises(BusError, match="closed"):
        await sub.open()


async def test_subscription_to_absent_broker_is_a_bus_error() -> None:
    with pytest.raises(BusError, match="cannot subscribe"):
        async with Subscription(MqttEndpoint("127.0.0.1", free_tcp_port()), "#"):
            pass


async def test_subscription_lost_when_broker_stops(broker: EmbeddedBroker, endpoint: MqttEndpoint) -> None:
    async with Subscription(endpoint, "#") as sub:
        await broker.stop()
        with pytest.raises(BusError, match="lost"):
            await within(sub.get())


async def test_open_bus_with_embedded_broker() -> None:
    settings = BusSettings(embedded_listen=f"127.0.0.1:{free_tcp_port()}", site="demo")
    async with open_bus(settings) as bus:
        assert bus.connected  # open_bus waits for its own broker
        assert bus.endpoint == settings.endpoint
        async with bus.subscribe("callfloor/demo/events/+") as sub:
            bus.publish_event(EventKind.SEAT_REGISTERED, {"seat": "1001"})
            message = await within(sub.get())
    assert message.topic == "callfloor/demo/events/seat.registered"
    assert message.payload["seat"] == "1001"
    with pytest.raises(ConnectionRefusedError):  # the broker went with the bus
        await asyncio.open_connection("127.0.0.1", settings.endpoint.port)


async def test_open_bus_with_url_and_awaited_form(broker: EmbeddedBroker) -> None:
    settings = BusSettings(url=f"mqtt://{broker.host}:{broker.port}")
    opener = await open_bus(settings, clock=lambda: 2.0)  # the awaited form works too
    async with opener as bus, bus.subscribe("callfloor/main/#") as sub:
        await within(bus.wait_connected())
        bus.publish("callfloor/main/events/x", {})
        message = await within(sub.get())
    assert json.loads(message.raw) == {"ts": 2.0}


async def test_open_bus_embedded_port_taken_is_a_bus_error(broker: EmbeddedBroker) -> None:
    with pytest.raises(BusError, match="cannot listen"):
        async with open_bus(BusSettings(embedded_listen=f"127.0.0.1:{broker.port}")):
            pass
