"""Fixtures for the SIPp tests: a callfloor per test and its SIPp peers, seats and carrier.

``open_floor(**overrides)`` starts a floor (the carrier's port already free on 127.0.0.2) and
yields a :class:`SippFloor` that runs SIPp as a seat (127.0.0.1) or as the carrier (127.0.0.2),
each run in a directory of its own so its message trace can be read back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from callfloor.app import Running
from callfloor.bus.errors import BusError
from callfloor.bus.mqtt import BusMessage
from callfloor.store import CallRow
from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    SippResult,
    floor,
    floor_settings,
    free_port,
    run_sipp,
)

__all__ = ["SEAT_HOST", "FloorOpener", "SippFloor", "Traced", "listening", "open_floor", "traced"]

SEAT_HOST = "127.0.0.1"


def _listening_ports(proto: str) -> set[tuple[str, int]]:
    """(ip, port) pairs bound for ``proto`` ('udp' or 'tcp' listening), from /proc/net."""
    found: set[tuple[str, int]] = set()
    for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
        fields = line.split()
        address, state = fields[1], fields[3]
        if proto == "tcp" and state != "0A":  # 0A: LISTEN
            continue
        ip_hex, port_hex = address.split(":")
        ip = ".".join(str(int(ip_hex[i : i + 2], 16)) for i in (6, 4, 2, 0))
        found.add((ip, int(port_hex, 16)))
    return found


async def listening(host: str, port: int, task: asyncio.Task[SippResult], *, tcp: bool = False,
                    timeout: float = 5.0) -> None:
    """Wait until ``task``'s SIPp has bound ``host:port`` (read from /proc, the port is not touched)."""
    proto = "tcp" if tcp else "udp"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if task.done():
            raise AssertionError(f"SIPp ended before listening on {port}: {task.result().explain()}")
        if {(host, port), ("0.0.0.0", port)} & _listening_ports(proto):
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"nothing bound {proto} {host}:{port} within {timeout}s")


@dataclass(frozen=True)
class Traced:
    """One message in a SIPp ``-trace_msg`` log."""

    at: float
    sent: bool
    transport: str
    start_line: str
    headers: dict[str, str]
    body: str

    @property
    def cseq(self) -> str:
        """The CSeq value ("2 REGISTER")."""
        return self.headers.get("cseq", "")


_ENTRY = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n(\w+) message (sent|received)[^\n]*\n\n",
                    re.M)


def traced(messages: str) -> list[Traced]:
    """The messages of a SIPp trace in order, with their time and first value of each header."""
    out = []
    parts = _ENTRY.split(messages)
    for i in range(1, len(parts) - 3, 4):
        stamp, transport, direction, text = parts[i : i + 4]
        lines = text.replace("\r\n", "\n").split("\n")
        headers: dict[str, str] = {}
        end = len(lines)
        for index, line in enumerate(lines[1:], 1):
            if not line:
                end = index
                break
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        body = "\n".join(lines[end + 1 :]).strip("\n")
        at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        out.append(Traced(at, direction == "sent", transport, lines[0].strip(), headers, body))
    return out


@dataclass
class SippFloor:
    """A running callfloor and helpers to put SIPp peers in front of it."""

    service: Running
    root: Path
    _runs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def target(self) -> str:
        """callfloor's SIP address as SIPp's remote host argument."""
        host, port = self.service.sip_address
        return f"{host}:{port}"

    @property
    def trunk_port(self) -> int:
        """The port the carrier's SIPp must use (callfloor sends carrier INVITEs there)."""
        trunk = self.service.settings.trunk
        assert trunk is not None
        return trunk.port

    def workdir(self, name: str) -> Path:
        """A fresh directory for one SIPp run (its traces land there)."""
        path = self.root / f"{next(self._runs):02d}-{name}"
        path.mkdir(parents=True)
        return path

    async def run(self, name: str, scenario: str, args: Sequence[str], *, timeout: float = 30.0,
                  keys: Mapping[str, object] | None = None) -> SippResult:
        """Run one SIPp scenario from ``SIPP_DIR`` to completion."""
        key_args = [a for k, v in (keys or {}).items() for a in ("-key", k, str(v))]
        return await run_sipp(["-sf", str(SIPP_DIR / scenario), *args, *key_args],
                              self.workdir(name), timeout=timeout)

    async def register(self, seat: str, password: str, contact_port: int, *, expires: int = 300,
                       scenario: str = "register.xml", calls: int = 1,
                       extra: Sequence[str] = ()) -> SippResult:
        """REGISTER ``seat`` from a seat-side SIPp (``calls`` times, one after another)."""
        return await self.run(
            f"register-{seat}", scenario,
            [self.target, "-i", SEAT_HOST, "-p", str(free_port()), "-m", str(calls), "-l", "1",
             "-s", seat, "-au", seat, "-ap", password, *extra],
            keys={"contact_port": contact_port, "expires": expires}, timeout=20)

    async def start_seat(self, scenario: str, port: int, *, echo: bool = True, tcp: bool = False,
                         extra: Sequence[str] = (), keys: Mapping[str, object] | None = None,
                         timeout: float = 30.0) -> asyncio.Task[SippResult]:
        """Start a seat's phone (a SIPp UAS on ``port``) and return once it listens."""
        args = ["-i", SEAT_HOST, "-p", str(port), "-m", "1",
                "-mi", SEAT_HOST, "-mp", str(free_port(pair=True))]
        if echo:
            args.append("-rtp_echo")
        if tcp:
            args += ["-t", "t1"]
        task = asyncio.create_task(self.run(f"seat-{port}", scenario, [*args, *extra],
                                            keys=keys, timeout=timeout))
        await listening(SEAT_HOST, port, task, tcp=tcp)
        return task

    async def start_carrier(self, scenario: str, *, echo: bool = True,
                            keys: Mapping[str, object] | None = None,
                            timeout: float = 30.0) -> asyncio.Task[SippResult]:
        """Start the carrier's UAS on the trunk port (for outbound calls) once it listens."""
        args = ["-i", CARRIER_HOST, "-p", str(self.trunk_port), "-m", "1",
                "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True))]
        if echo:
            args.append("-rtp_echo")
        task = asyncio.create_task(self.run("carrier-uas", scenario, args, keys=keys, timeout=timeout))
        await listening(CARRIER_HOST, self.trunk_port, task)
        return task

    async def carrier(self, scenario: str, number: str = "+15550100", *, tcp: bool = False,
                      port: int | None = None, extra: Sequence[str] = (),
                      keys: Mapping[str, object] | None = None, timeout: float = 30.0) -> SippResult:
        """Place a call from the carrier (source 127.0.0.2) to ``number`` on the floor."""
        args = [self.target, "-s", number, "-i", CARRIER_HOST,
                "-p", str(port or free_port(CARRIER_HOST)), "-m", "1",
                "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True))]
        if tcp:
            args += ["-t", "t1"]
        return await self.run(f"carrier-{number}", scenario, [*args, *extra], keys=keys,
                              timeout=timeout)

    async def seat_uac(self, scenario: str, *, seat: str = "1001", password: str = "secret1001",
                       service: str = "", extra: Sequence[str] = (),
                       keys: Mapping[str, object] | None = None, timeout: float = 30.0) -> SippResult:
        """Run a seat-side scenario that sends first (a call, OPTIONS) with the seat's credentials."""
        args = [self.target, "-i", SEAT_HOST, "-p", str(free_port()), "-m", "1",
                "-mi", SEAT_HOST, "-mp", str(free_port(pair=True)),
                "-s", service or seat, "-au", seat, "-ap", password]
        return await self.run(f"uac-{scenario.removesuffix('.xml')}", scenario, [*args, *extra],
                              keys=keys, timeout=timeout)

    async def calls_when_idle(self, timeout: float = 10.0) -> list[CallRow]:
        """Wait until no call is live, flush the executor's queued writes, return the CDRs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.service.engine.calls and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert not self.service.engine.calls, f"calls still live: {list(self.service.engine.calls)}"
        await self.service.executor.close()
        self.service.executor.start()
        return await self.service.store.calls()

    @asynccontextmanager
    async def bus_events(self) -> AsyncIterator[list[BusMessage]]:
        """Collect every event the floor publishes on the bus while the block runs.

        On leaving, once no call is live, a marker event is published: the bus keeps order, so
        when the marker arrives every event the block caused has arrived before it.
        """
        bus = self.service.bus
        assert bus is not None
        received: list[BusMessage] = []
        marker = f"end-of-block-{id(received)}"
        seen_marker = asyncio.Event()
        async with bus.subscribe(f"{bus.prefix}/events/#") as subscription:

            async def collect() -> None:
                async for message in subscription:
                    if isinstance(message.payload, dict) and message.payload.get("marker") == marker:
                        seen_marker.set()
                    else:
                        received.append(message)

            task = asyncio.create_task(collect())
            try:
                yield received
                await self.calls_when_idle()
                bus.publish_event("test.marker", {"marker": marker})
                await asyncio.wait_for(seen_marker.wait(), 5.0)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, BusError):
                    await task

    async def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        """Poll ``predicate`` (engine state) until it holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)


FloorOpener = Callable[..., AbstractAsyncContextManager[SippFloor]]


@pytest.fixture
def open_floor(tmp_path: Path) -> FloorOpener:
    """``async with open_floor(sip={...}, trunk={...}) as f:`` a floor with settings overrides."""

    @asynccontextmanager
    async def opener(**overrides: Any) -> AsyncIterator[SippFloor]:
        trunk = {"port": free_port(CARRIER_HOST), **overrides.pop("trunk", {})}
        settings = floor_settings(tmp_path, trunk=trunk, **overrides)
        async with floor(settings) as service:
            yield SippFloor(service, tmp_path / "sipp")

    return opener
