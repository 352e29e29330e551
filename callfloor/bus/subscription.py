"""Receiving from the bus: a subscription with a client of its own, yielding decoded messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiomqtt

from callfloor.bus.errors import BusError
from callfloor.settings.types import MqttEndpoint

__all__ = ["BusMessage", "Subscription", "mqtt_client"]


@dataclass(frozen=True)
class BusMessage:
    """One message received from the bus; `payload` is the decoded JSON (None if not JSON)."""

    topic: str
    payload: Any
    retain: bool
    raw: bytes


def mqtt_client(endpoint: MqttEndpoint, timeout: float) -> aiomqtt.Client:
    """An aiomqtt client for `endpoint` (MQTT 3.1.1, 30 s keepalive)."""
    return aiomqtt.Client(
        endpoint.host,
        endpoint.port,
        username=endpoint.username,
        password=endpoint.password,
        timeout=timeout,
        keepalive=30,
    )


class Subscription:
    """A client of its own receiving one topic filter; an async context manager and iterator."""

    def __init__(self, endpoint: MqttEndpoint, topic_filter: str, *, qos: int = 0, timeout: float = 5.0) -> None:
        self.endpoint = endpoint
        self.topic_filter = topic_filter
        self._qos = qos
        self._timeout = timeout
        self._client: aiomqtt.Client | None = None
        self._closed = False

    async def open(self) -> None:
        """Connect and subscribe; BusError when the broker cannot be reached."""
        if self._closed:
            raise BusError(f"subscription {self.topic_filter!r} is closed")
        if self._client is not None:
            return
        client = mqtt_client(self.endpoint, self._timeout)
        try:
            await client.__aenter__()
        except aiomqtt.MqttError as exc:
            raise BusError(f"cannot subscribe at {self.endpoint.host}:{self.endpoint.port}: {exc}") from exc
        self._client = client
        try:
            await client.subscribe(self.topic_filter, qos=self._qos)
        except aiomqtt.MqttError as exc:
            await self.aclose()
            raise BusError(f"subscribe {self.topic_filter!r} failed: {exc}") from exc

    async def aclose(self) -> None:
        """Disconnect for good (iteration then stops); safe to call twice."""
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)

    async def __aenter__(self) -> Subscription:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BusMessage:
        if self._closed:
            raise StopAsyncIteration
        await self.open()
        assert self._client is not None
        try:
            message = await self._client.messages.__anext__()
        except aiomqtt.MqttError as exc:
            raise BusError(f"subscription {self.topic_filter!r} lost: {exc}") from exc
        raw = message.payload if isinstance(message.payload, bytes | bytearray) else str(message.payload).encode()
        try:
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        return BusMessage(message.topic.value, payload, bool(message.retain), bytes(raw))

    async def get(self, timeout: float | None = None) -> BusMessage:
        """The next message; TimeoutError after `timeout` seconds."""
        return await asyncio.wait_for(self.__anext__(), timeout)
