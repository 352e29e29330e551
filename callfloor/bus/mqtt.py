"""The MQTT event bus: publish floor events without ever making the caller wait.

`EventBus.publish` encodes the payload and puts it on a bounded queue; one task drains the
queue into an aiomqtt client, reconnecting with exponential backoff while the broker is away.
When the queue is full the oldest message is dropped and counted: a live event stream is worth
more fresh than complete. Topics:

    <prefix>/<site>/events/<kind>        call and seat events (not retained)
    <prefix>/<site>/seats/<id>/state     a seat's current state (retained)

The live floor's retained tree (queues, seats, campaigns, commands) is in
``callfloor/bus/floortopics.py`` and ``docs/monitor.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiomqtt
import paho.mqtt.client as paho

from callfloor.bus.broker import EmbeddedBroker
from callfloor.bus.errors import BusError
from callfloor.bus.subscription import BusMessage, Subscription, mqtt_client
from callfloor.settings.sections import BusSettings
from callfloor.settings.types import MqttEndpoint

__all__ = ["BusMessage", "BusOpener", "EventBus", "EventKind", "Subscription", "open_bus"]

log = logging.getLogger("callfloor.bus")

# paho result codes that mean "the connection is gone", as opposed to "this message is bad".
_CONNECTION_LOST = {paho.MQTT_ERR_NO_CONN, paho.MQTT_ERR_CONN_LOST, paho.MQTT_ERR_CONN_REFUSED}


class EventKind(enum.StrEnum):
    """The last level of an events topic: "<subject>.<what happened>"."""

    SEAT_REGISTERED = "seat.registered"
    SEAT_UNREGISTERED = "seat.unregistered"
    CALL_OFFERED = "call.offered"
    CALL_ANSWERED = "call.answered"
    CALL_HELD = "call.held"
    CALL_DTMF = "call.dtmf"
    CALL_MEDIA = "call.media"
    CALL_ENDED = "call.ended"
    TRUNK_REGISTERED = "trunk.registered"
    TRUNK_UNREGISTERED = "trunk.unregistered"
    TRUNK_REGISTRATION_FAILED = "trunk.registration_failed"
    SECURITY_BANNED = "security.banned"


@dataclass(frozen=True)
class _Outgoing:
    topic: str
    data: bytes
    qos: int
    retain: bool


def _check_topic(topic: str) -> None:
    """A topic one may publish to: not empty, no wildcard."""
    if not topic or "+" in topic or "#" in topic:
        raise ValueError(f"cannot publish to {topic!r}: empty or has wildcards")


def _check_level(name: str, value: str) -> None:
    if not value or any(c in value for c in "/+#\0"):
        raise ValueError(f"{name} must be one non-empty topic level without / + #, got {value!r}")


class EventBus:
    """Async context manager publishing JSON events to an MQTT broker, never blocking the caller."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        *,
        topic_prefix: str = "callfloor",
        site: str = "main",
        queue_size: int = 10000,
        clock: Callable[[], float] = time.time,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
        timeout: float = 5.0,
    ) -> None:
        _check_level("site", site)
        self.endpoint = endpoint
        self.topic_prefix = topic_prefix
        self.site = site
        self.prefix = f"{topic_prefix}/{site}"
        self.dropped = 0
        self.published = 0
        self.reconnects = 0
        self._clock = clock
        self._backoff = (backoff_initial, backoff_max)
        self._timeout = timeout
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue(maxsize=queue_size)
        self._held: _Outgoing | None = None  # taken from the queue, not yet confirmed sent
        self._up = asyncio.Event()
        self._down = asyncio.Event()
        self._down.set()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscriptions: weakref.WeakSet[Subscription] = weakref.WeakSet()

    # -- topics and publishing ------------------------------------------------------------
    def event_topic(self, kind: str) -> str:
        """The topic of one kind of event."""
        _check_level("event kind", kind)
        return f"{self.prefix}/events/{kind}"

    def seat_state_topic(self, seat_id: str) -> str:
        """The retained topic holding a seat's state."""
        _check_level("seat id", seat_id)
        return f"{self.prefix}/seats/{seat_id}/state"

    def publish(self, topic: str, payload: Mapping[str, Any], *, retain: bool = False, qos: int = 0,
                stamp: bool = True) -> None:
        """Queue `payload` as JSON for `topic`; returns at once. With `stamp`, "ts" (the clock)
        is added unless the payload has one; without it the payload goes out as it is."""
        _check_topic(topic)
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos}")
        body = {"ts": self._clock(), **payload} if stamp else dict(payload)
        data = json.dumps(body, separators=(",", ":"), default=str).encode()
        self._enqueue(_Outgoing(topic, data, qos, retain))

    def _enqueue(self, item: _Outgoing) -> None:
        if self._queue.full():  # the oldest goes: a stale figure matters less than the latest
            self._queue.get_nowait()
            self._queue.task_done()
            self.dropped += 1
        self._queue.put_nowait(item)

    def clear_retained(self, topic: str) -> None:
        """Delete the retained message of ``topic`` (an empty retained payload, MQTT 3.1.1
        3.3.1.3): a subject gone from the floor is not shown to later subscribers."""
        _check_topic(topic)
        self._enqueue(_Outgoing(topic, b"", 1, True))

    def publish_event(self, kind: str, payload: Mapping[str, Any], *, qos: int = 0) -> None:
        """Publish an event (seat registered, call offered/answered/ended) under events/<kind>."""
        self.publish(self.event_topic(kind), {"event": str(kind), **payload}, qos=qos)

    def publish_seat_state(self, seat_id: str, payload: Mapping[str, Any]) -> None:
        """Publish a seat's state, retained so a new subscriber sees it at once."""
        self.publish(self.seat_state_topic(seat_id), {"seat": seat_id, **payload}, retain=True, qos=1)

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._up.is_set()

    @property
    def pending(self) -> int:
        """Messages queued and not yet sent."""
        return self._queue.qsize() + (self._held is not None)

    async def wait_connected(self) -> None:
        """Return once connected to the broker."""
        await self._up.wait()

    async def wait_disconnected(self) -> None:
        """Return once not connected to the broker."""
        await self._down.wait()

    def subscribe(self, topic_filter: str, *, qos: int = 0) -> Subscription:
        """A separate client receiving `topic_filter` (use `async with`, then `async for`)."""
        sub = Subscription(self.endpoint, topic_filter, qos=qos, timeout=self._timeout)
        self._subscriptions.add(sub)
        return sub

    # -- lifetime ---------------------------------------------------------------------------
    async def __aenter__(self) -> EventBus:
        if self._task is not None:
            raise RuntimeError("the event bus is already running")
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="callfloor-bus")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self, flush_timeout: float = 2.0) -> None:
        """Send what is queued (while connected, for at most `flush_timeout`), then disconnect."""
        task, self._task = self._task, None
        if task is None:
            return
        if self.connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), flush_timeout)
        self._stopping.set()
        try:
            await asyncio.wait_for(task, self._timeout + 1.0)
        except TimeoutError:
            log.warning("MQTT bus did not stop in time; abandoned")
        for sub in list(self._subscriptions):
            await sub.aclose()
        self._subscriptions.clear()
        if self.pending:
            log.info("MQTT bus closed with %d unsent messages", self.pending)

    async def _run(self) -> None:
        delay = self._backoff[0]
        where = f"{self.endpoint.host}:{self.endpoint.port}"
        while not self._stopping.is_set():
            try:
                async with mqtt_client(self.endpoint, self._timeout) as client:
                    self._set_connected(True)
                    log.info("MQTT bus connected to %s", where)
                    delay = self._backoff[0]
                    await self._pump(client)
            except aiomqtt.MqttError as exc:
                # One warning per outage; the retries while it lasts go to debug.
                level = logging.WARNING if delay == self._backoff[0] else logging.DEBUG
                log.log(level, "MQTT broker %s: %s; retrying every %.2fs at most", where, exc, self._backoff[1])
            except Exception:
                # Whatever broke, the bus must outlive it: the floor keeps running without events.
                log.exception("MQTT bus connection failed unexpectedly; retry in %.2fs", delay)
            finally:
                self._set_connected(False)
            if self._stopping.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, self._backoff[1])
            self.reconnects += 1

    def _set_connected(self, up: bool) -> None:
        (self._up if up else self._down).set()
        (self._down if up else self._up).clear()

    async def _pump(self, client: aiomqtt.Client) -> None:
        """Send queued messages until the connection drops (MqttError) or the bus is closing."""
        lost = asyncio.ensure_future(_until_disconnected(client))
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            while not stop.done():
                if self._held is None and self._queue.empty():
                    getter = asyncio.ensure_future(self._queue.get())
                    await asyncio.wait({getter, lost, stop}, return_when=asyncio.FIRST_COMPLETED)
                    if getter.done():
                        self._held = getter.result()
                    else:
                        getter.cancel()  # Queue.get gives up its place without losing an item
                    if lost.done():
                        lost.result()  # raises the MqttError that ended the connection
                    if stop.done() and self._held is None:
                        return
                elif self._held is None:
                    self._held = self._queue.get_nowait()
                await self._send(client, lost)
        finally:
            for task in (lost, stop):
                task.cancel()
            await asyncio.gather(lost, stop, return_exceptions=True)

    async def _send(self, client: aiomqtt.Client, lost: asyncio.Future[None]) -> None:
        item = self._held
        if item is None:
            return
        try:
            await client.publish(item.topic, item.data, qos=item.qos, retain=item.retain)
        except aiomqtt.MqttCodeError as exc:
            if exc.rc in _CONNECTION_LOST or lost.done():
                raise  # keep the message held: it goes out after the reconnect
            log.error("MQTT broker refused a message on %s: %s; dropped", item.topic, exc)
            self.dropped += 1
        else:
            self.published += 1
        self._held = None
        self._queue.task_done()


async def _until_disconnected(client: aiomqtt.Client) -> None:
    """Finish (with MqttError) when the client's connection drops; publishers get no messages."""
    async for _ in client.messages:
        pass


class BusOpener:
    """What `open_bus` returns: use `async with open_bus(s) as bus` (or `await` it first)."""

    def __init__(self, manager: contextlib.AbstractAsyncContextManager[EventBus]) -> None:
        self._manager = manager

    def __await__(self) -> Generator[Any, None, BusOpener]:
        yield from ()
        return self

    async def __aenter__(self) -> EventBus:
        return await self._manager.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return await self._manager.__aexit__(exc_type, exc, tb)


def open_bus(settings: BusSettings, *, connect_timeout: float = 5.0, **options: Any) -> BusOpener:
    """The event bus for `settings`: with no url, start the embedded broker and connect to it.

    `options` go to `EventBus` (clock, backoff_initial, backoff_max, timeout).
    """
    return BusOpener(_open_bus(settings, connect_timeout, options))


@asynccontextmanager
async def _open_bus(settings: BusSettings, connect_timeout: float, options: dict[str, Any]) -> AsyncIterator[EventBus]:
    async with AsyncExitStack() as stack:
        endpoint = settings.endpoint
        if settings.embedded:
            broker = await stack.enter_async_context(EmbeddedBroker(endpoint.host, endpoint.port))
            endpoint = MqttEndpoint(broker.host, broker.port)
        bus = EventBus(
            endpoint,
            topic_prefix=settings.topic_prefix,
            site=settings.site,
            queue_size=settings.queue_size,
            **options,
        )
        await stack.enter_async_context(bus)
        if settings.embedded:
            # Our own broker is up, so a failure to connect is a bug worth failing on at start.
            try:
                await asyncio.wait_for(bus.wait_connected(), connect_timeout)
            except TimeoutError:
                raise BusError(f"cannot connect to the embedded broker at {endpoint.host}:{endpoint.port}") from None
        yield bus
