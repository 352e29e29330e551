"""The SIP server: drives the pure call engine from sockets and the clock.

Bytes become parsed messages, the engine reacts, and everything it wants done leaves through two
doors: SIP bytes to :class:`SipTransport`, commands to the executor. One ``call_at`` timer tracks the
engine's earliest deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from telephony.calls.commands import Command, MediaEvent
from telephony.calls.engine import CallEngine
from telephony.net.sip import SipTransport
from telephony.sip.errors import ParseError
from telephony.sip.parser import parse_message
from telephony.sip.transport import Peer

__all__ = ["Executor", "SipServer"]

log = logging.getLogger("callfloor.server")

BYE_GRACE = 2.0  # seconds of a drain left for BYEs held for a late ACK, once they are sent


class Executor(Protocol):
    """Carries out the engine's commands (media, records, bus)."""

    def execute(self, command: Command) -> None: ...


class SipServer:
    """Runs a :class:`CallEngine` on a UDP+TCP address."""

    def __init__(self, engine: CallEngine, executor: Executor, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.executor = executor
        self.clock = clock
        self.transport = SipTransport(self._on_data, self._on_error)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.address: tuple[str, int] | None = None
        self._pumping = False
        self.messages_in = 0
        self.bad_messages = 0

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen and start the engine's background work; returns the bound address."""
        self.address = await self.transport.start(host, port)
        self.engine.start(self.clock())
        self._pump()
        return self.address

    # -- inputs -------------------------------------------------------------------------------
    def _on_data(self, data: bytes, peer: Peer) -> None:
        now = self.clock()
        self.messages_in += 1
        try:
            message = parse_message(data)
        except ParseError as err:
            self.bad_messages += 1
            self.engine.receive_invalid(err, peer, now)
        else:
            self.engine.receive(message, peer, now)
        self._pump()

    def _on_error(self, peer: Peer) -> None:
        self.engine.transport_error(peer, self.clock())
        self._pump()

    def media_event(self, event: MediaEvent) -> None:
        """Feed a relay event (dead media, bind failure) to the engine."""
        self.engine.media_event(event, self.clock())
        self._pump()

    def apply(self, fn: Callable[[float], None]) -> None:
        """Run ``fn(now)`` against the engine from outside SIP (the HTTP API) and send what it causes."""
        fn(self.clock())
        self._pump()

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        self.engine.handle_timer(self.clock())
        self._pump()

    # -- outputs ------------------------------------------------------------------------------
    def _pump(self) -> None:
        """Send what the engine produced, run its commands and re-arm the timer."""
        if self._pumping:
            return  # a command fed an event back (a failed bind): the outer loop drains it in order
        engine = self.engine
        self._pumping = True
        try:
            while True:
                for out in engine.datagrams_to_send():
                    self.transport.send(out)
                commands = engine.commands()
                if not commands:
                    break
                for command in commands:
                    self.executor.execute(command)
        finally:
            self._pumping = False
        deadline = engine.get_timer()
        if deadline != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline
            if deadline is not None:
                loop = asyncio.get_running_loop()
                delay = max(0.0, deadline - self.clock())
                self._timer = loop.call_at(loop.time() + delay, self._on_timer)
            else:
                self._timer = None

    # -- shutdown -----------------------------------------------------------------------------
    async def drain(self, timeout: float = 10.0) -> None:
        """Refuse new calls, hang up live ones and wait (bounded) for their legs to close."""
        self.engine.drain(self.clock())
        self._pump()
        deadline = time.monotonic() + timeout
        release: float | None = deadline - min(BYE_GRACE, timeout / 2)
        while self.engine.calls and time.monotonic() < deadline:
            if release is not None and time.monotonic() >= release:
                # A BYE held for a late ACK (RFC 3261 §15) would wait up to 32 s: sent now, it
                # still reaches the peer before the sockets close; held, it never would.
                self.engine.release_held_byes(self.clock())
                self._pump()
                release = None
            await asyncio.sleep(0.05)
        if self.engine.calls:
            log.warning("%d calls still closing at shutdown", len(self.engine.calls))

    async def close(self) -> None:
        """Stop the timer and the sockets."""
        if self._timer is not None:
            self._timer.cancel()
        await self.transport.close()
