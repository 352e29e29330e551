"""EmbeddedBroker: starts in-process on loopback, serves real MQTT clients, stops cleanly."""

from __future__ import annotations

import asyncio
import socket

import aiomqtt
import pytest

from callfloor.bus import BusError, EmbeddedBroker, free_tcp_port


async def test_serves_publish_and_subscribe(broker: EmbeddedBroker) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as sub, aiomqtt.Client(broker.host, broker.port) as pub:
        await sub.subscribe("t/#")
        await pub.publish("t/1", b"hello", qos=1)
        message = await asyncio.wait_for(anext(aiter(sub.messages)), 5)
    assert (message.topic.value, message.payload) == ("t/1", b"hello")


async def test_retained_message_reaches_a_late_subscriber(broker: EmbeddedBroker) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as pub:
        await pub.publish("state/1001", b"ready", qos=1, retain=True)
    async with aiomqtt.Client(broker.host, broker.port) as sub:
        await sub.subscribe("state/#")
        message = await asyncio.wait_for(anext(aiter(sub.messages)), 5)
    assert (message.topic.value, message.payload, message.retain) == ("state/1001", b"ready", True)


async def test_stop_closes_the_listener_and_start_again_works() -> None:
    broker = EmbeddedBroker("127.0.0.1", 0)
    await broker.start()
    port = broker.port
    assert broker.running
    await broker.stop()
    assert not broker.running
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await broker.start()
    try:
        async with aiomqtt.Client("127.0.0.1", port):
            pass
    finally:
        await broker.stop()
    await broker.stop()  # a second stop is a no-op


async def test_port_in_use_is_a_bus_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BusError, match=f"cannot listen on 127.0.0.1:{port}"):
            async with EmbeddedBroker("127.0.0.1", port):
                pass


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com"])
def test_refuses_non_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmbeddedBroker(host, 1883)


def test_port_zero_picks_a_free_port() -> None:
    assert EmbeddedBroker("127.0.0.1", 0).port > 0
    assert free_tcp_port() > 0
