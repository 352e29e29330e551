"""The live floor as a retained MQTT topic tree, and the seat commands that come back.

    <prefix>/<site>/queues/<id>/stats          a queue's figures (retained, JSON)
    <prefix>/<site>/seats/<id>/state           a seat's state and today's figures (retained)
    <prefix>/<site>/campaigns/<id>/stats       a campaign's figures (retained)
    <prefix>/<site>/commands/seats/<id>/move       {"target": "queue:sales", ...}
    <prefix>/<site>/commands/seats/<id>/presence   {"action": "pause", "reason": "lunch", ...}
    <prefix>/<site>/commands/replies/<correlation id or seat>   {"ok": ..., ...}

Payloads are :class:`floor.metrics.FloorMetrics` views (schemas in ``docs/``), or what the
caller's ``view`` makes of a subject (``LiveFloor`` adds the dialer's state to a campaign).
Publishing coalesces: a subject changed many times within ``interval`` (250 ms) goes out once,
with its latest figures; every ``refresh`` seconds all subjects go out again so time-based
figures (time in state, longest wait, the windows) stay fresh for a wallboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from callfloor.bus.errors import BusError
from callfloor.bus.floorcommands import (
    CommandError,
    CommandHandler,
    parse_command,
    reply_address,
    reply_payload,
)
from callfloor.bus.mqtt import EventBus
from callfloor.bus.subscription import BusMessage
from floor.metrics import FloorMetrics, Subject

__all__ = ["TOPICS", "Coalescer", "FloorPublisher", "SubjectView"]

log = logging.getLogger("callfloor.bus.floor")

TOPICS = {"queue": ("queues", "stats"), "seat": ("seats", "state"), "campaign": ("campaigns", "stats")}
# A subject's payload at ``now`` (``FloorMetrics.view`` by default); raises on an unknown subject.
SubjectView = Callable[[Subject, float], Mapping[str, Any]]


class Coalescer:
    """Which subjects to publish when: at most once per ``interval`` each, the latest value wins.

    Pure: ``mark`` the changed subjects, take the ``due`` ones at ``now``, wait until
    ``next_deadline`` for the rest.
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self._last: dict[Subject, float] = {}
        self._pending: dict[Subject, None] = {}  # an ordered set

    def mark(self, subjects: Iterable[Subject]) -> None:
        """These subjects changed."""
        self._pending.update(dict.fromkeys(subjects))

    def due(self, now: float) -> list[Subject]:
        """The pending subjects that may go out at ``now`` (recorded as sent)."""
        out = [s for s in self._pending if self._last.get(s, -1e18) + self.interval <= now]
        for subject in out:
            del self._pending[subject]
            self._last[subject] = now
        return out

    def flush(self, now: float) -> list[Subject]:
        """Every pending subject, whatever its turn (the last publish before stopping)."""
        out = list(self._pending)
        self._pending.clear()
        self._last.update(dict.fromkeys(out, now))
        return out

    def forget(self, subject: Subject) -> None:
        """The subject is gone: nothing of it is pending any more."""
        self._pending.pop(subject, None)
        self._last.pop(subject, None)

    def next_deadline(self) -> float | None:
        """When the next pending subject may go out (``None``: nothing pending)."""
        return min((self._last.get(s, -1e18) + self.interval for s in self._pending), default=None)

    @property
    def pending(self) -> int:
        """Subjects waiting for their turn."""
        return len(self._pending)


class FloorPublisher:
    """Publishes board changes retained (coalesced) and serves the seat commands.

    Feed it :meth:`changed` (one subject's new figures) or :meth:`publish_subjects` (what
    ``FloorMetrics.apply`` returned), and call :meth:`refresh` from a periodic tick. Use
    ``async with`` (or :meth:`close`) so the last changes go out; with a ``handler`` the seat
    commands are read meanwhile. Runs on the event loop; nothing here blocks.
    """

    def __init__(self, bus: EventBus, site: str | None = None, *, prefix: str | None = None,
                 handler: CommandHandler | None = None, clock: Callable[[], float] = time.time,
                 interval: float = 0.25, refresh: float = 5.0, retry: float = 1.0) -> None:
        self.bus = bus
        self.root = f"{prefix or bus.topic_prefix}/{site or bus.site}"
        self.handler = handler
        self.clock = clock
        self.refresh_every = refresh
        self.retry = retry
        self.coalescer = Coalescer(interval)
        self.published = 0
        self.skipped = 0  # subjects whose id cannot be a topic level
        self.commands = 0
        self.commands_ready = asyncio.Event()  # set while subscribed to the command topics
        self._latest: dict[Subject, Mapping[str, Any]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._next_refresh: float | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- topics -----------------------------------------------------------------------------
    def topic(self, subject: Subject) -> str:
        """The retained topic of a subject."""
        kind, ident = subject
        if kind not in TOPICS:
            raise ValueError(f"unknown subject kind {kind!r}")
        branch, leaf = TOPICS[kind]
        if not ident or any(c in ident for c in "/+#\0"):
            raise ValueError(f"{kind} id {ident!r} cannot be an MQTT topic level")
        return f"{self.root}/{branch}/{ident}/{leaf}"

    @property
    def command_filter(self) -> str:
        """The topic filter the commands arrive on."""
        return f"{self.root}/commands/seats/+/+"

    def reply_topic(self, address: str) -> str:
        """Where the reply to a command goes."""
        return f"{self.root}/commands/replies/{address}"

    # -- publishing -------------------------------------------------------------------------
    def changed(self, kind: str, ident: str, data: Mapping[str, Any], now: float) -> None:
        """One subject's new figures: out at once, or when its interval is over (latest wins)."""
        subject = (kind, ident)
        try:
            self.topic(subject)
        except ValueError as exc:
            self.skipped += 1
            log.error("floor topics: %s; not published", exc)
            return
        self._latest[subject] = data
        self.coalescer.mark([subject])
        self._send_due(now)

    def removed(self, kind: str, ident: str) -> None:
        """A subject gone from the floor (a campaign deleted): its retained topic is cleared, so
        a wallboard subscribing later does not show it; a change still pending is dropped."""
        subject = (kind, ident)
        self._latest.pop(subject, None)
        self.coalescer.forget(subject)
        try:
            self.bus.clear_retained(self.topic(subject))
        except ValueError as exc:  # an id that never was a topic level: nothing was retained
            log.error("floor topics: %s; nothing to clear", exc)

    def publish_subjects(self, metrics: FloorMetrics, subjects: Iterable[Subject], now: float, *,
                         view: SubjectView | None = None) -> None:
        """The subjects ``FloorMetrics.apply`` named, with their figures at ``now`` (as ``view``
        makes them; ``metrics.view`` by default)."""
        payload = metrics.view if view is None else view
        for subject in subjects:
            self.changed(*subject, payload(subject, now), now)

    def refresh(self, metrics: FloorMetrics, now: float, *, view: SubjectView | None = None) -> bool:
        """Every ``refresh`` seconds, all subjects again (time in state, waits, windows move on
        without events), as ``view`` makes them; call it from a tick. Returns whether it was time."""
        if self._next_refresh is not None and now < self._next_refresh:
            return False
        self._next_refresh = now + self.refresh_every
        self.publish_subjects(metrics, metrics.subjects(), now, view=view)
        return True

    def _send_due(self, now: float) -> None:
        for subject in self.coalescer.due(now):
            self._send(subject)
        self._arm(now)

    def _send(self, subject: Subject) -> None:
        data = self._latest.pop(subject, None)
        if data is not None:
            self.bus.publish(self.topic(subject), data, retain=True, qos=1, stamp=False)
            self.published += 1

    def _arm(self, now: float) -> None:
        """Wake up when the next coalesced subject may go out."""
        deadline = self.coalescer.next_deadline()
        if deadline is None or self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a pure caller): the next change, refresh or close sends it
        self._timer = loop.call_later(max(0.0, deadline - now), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._send_due(self.clock())

    # -- commands ---------------------------------------------------------------------------
    async def _command_loop(self, handler: CommandHandler) -> None:
        while not self._stopping.is_set():
            try:
                async with self.bus.subscribe(self.command_filter, qos=1) as sub:
                    self.commands_ready.set()
                    async for message in sub:
                        await self.handle_command(message, handler)
            except BusError as exc:
                log.warning("floor commands: %s; subscribing again in %.1fs", exc, self.retry)
            finally:
                self.commands_ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.retry)

    async def handle_command(self, message: BusMessage, handler: CommandHandler) -> None:
        """Check one command, carry it out, and reply (a bad one gets the error)."""
        seat, _, verb = message.topic.removeprefix(f"{self.root}/commands/seats/").partition("/")
        payload = message.payload
        self.commands += 1
        try:
            if message.retain:
                raise CommandError("a retained command is not carried out (publish without retain)")
            command = parse_command(seat, verb, payload)
            result = await handler(command)
        except CommandError as exc:
            self._reply(seat, verb, payload, error=exc)
        except Exception as exc:  # the handler's failure is the sender's answer, not our crash
            log.warning("floor command %s for seat %s failed: %s", verb, seat, exc)
            self._reply(seat, verb, payload, error=exc)
        else:
            self._reply(seat, verb, payload, result=result)

    def _reply(self, seat: str, verb: str, payload: Any, **outcome: Any) -> None:
        address = reply_address(seat, payload)
        body = reply_payload(seat, verb, payload, self.clock(), **outcome)
        if address is None:
            log.warning("floor command on seat %r has no reply address: %s", seat, body)
            return
        self.bus.publish(self.reply_topic(address), body, qos=1, stamp=False)

    # -- lifetime ---------------------------------------------------------------------------
    async def __aenter__(self) -> FloorPublisher:
        if self._task is not None:
            raise RuntimeError("the floor publisher is already running")
        self._stopping.clear()
        if self.handler is not None:
            self._task = asyncio.create_task(self._command_loop(self.handler), name="floor-commands")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop reading commands; what changed and has not gone out yet is published now."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()  # it may be waiting on the broker
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for subject in self.coalescer.flush(self.clock()):
            self._send(subject)
