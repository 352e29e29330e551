"""Shared pieces for the monitor and seat page tests: the LiveFloor contract over a dict board
with a real asyncio.Queue fan-out, the app (real auth, real audit log), a real HTTP server for
the event streams, and an SSE reader."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from callfloor.app import policy_from_settings, start_dialer
from callfloor.campaignadmin import CampaignAdmin
from callfloor.dialer_runtime import DialerRuntime
from callfloor.executor import FloorExecutor
from callfloor.floorlive import LiveFloor
from callfloor.floorwiring import build_switchboard
from callfloor.settings import Settings
from callfloor.store import Store
from callfloor.store.audit import AuditLog
from callfloor.switchboard import Switchboard
from callfloor.web.auth import Auth, AuthMiddleware, auth_routes
from callfloor.web.monitor import CampaignSwitch, LiveFloorLike, monitor_routes
from callfloor.web.seat import seat_routes
from dialer.campaign import Campaign
from telephony.calls.engine import CallEngine
from telephony.net.relay import MediaRelay
from telephony.net.server import SipServer

PRESENCE = {"ready": "ready", "pause": "paused", "logout": "logged-out"}


def seat(ident: str, team: str | None, queues: list[str], *, presence: str = "ready",
         call_state: str = "idle", call: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """A seat as the board JSON has it (docs/monitor.md)."""
    return {"id": ident, "name": f"Agent {ident}", "team": team, "presence": presence,
            "call_state": call_state, "reason": reason, "since": 1000.0, "time_in_state_s": 0.0,
            "calls": 0, "talk_s": 0.0, "call": call, "queues": queues, "lent_to": None, "at": 1000.0}


class BoardFloor:
    """LiveFloor's contract over a dict board: actions change the board and fan the change out."""

    def __init__(self) -> None:
        self.seats = {
            "1001": seat("1001", "north", ["support"]),
            "1002": seat("1002", "south", ["sales"]),
            "1003": seat("1003", "north", ["support"], call_state="on-call", call="call-77"),
        }
        self.queues = {q: {"id": q, "waiting": 0, "longest_wait_s": 0.0} for q in ("support", "sales")}
        self.campaigns = {"demo": {"id": "demo", "dials": 0}}
        self.subscribers: list[asyncio.Queue[dict[str, Any]]] = []
        self.listens: list[tuple[str, str, str, float]] = []
        # A decision as floor.watcher.SeatMove.to_dict() makes it.
        self._decisions = [{
            "seat": "1002", "source": "queue:sales", "target": "queue:support", "kind": "lend",
            "rule": "support", "key": "watcher.lend.service_level",
            "numbers": {"sl_15m": 0.62, "trigger_sl": 0.8},
            "params": {"seat": "1002", "source": "queue:sales", "target": "queue:support",
                       "queue": "support", "sl_15m": 0.62, "trigger_sl": 0.8},
            "text": "Seat 1002 moves from queue:sales to queue:support: the service level of queue "
                    "support over 15 min is 62%, under 80%.",
            "at": 990.0, "decided_at": 990.0}]
        self._alerts = [{"id": "sl:support", "kind": "service_level", "subject": "queue:support",
                         "value": 0.62, "threshold": 0.8, "since": 900.0, "at": 1000.0}]

    def board(self, now: float) -> dict[str, Any]:
        return copy.deepcopy({"queues": self.queues, "campaigns": self.campaigns, "seats": self.seats,
                              "at": now})

    def campaign_tile(self, campaign_id: str, now: float) -> dict[str, Any] | None:
        tile = self.campaigns.get(campaign_id)
        return copy.deepcopy(tile) if tile is not None else None

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.subscribers.remove(queue)

    def push(self, kind: str, ident: str, data: dict[str, Any] | None) -> None:
        for queue in self.subscribers:
            queue.put_nowait({"type": kind, "id": ident, "data": copy.deepcopy(data)})

    def _seat(self, ident: str) -> dict[str, Any]:
        if ident not in self.seats:
            raise LookupError(f"unknown seat {ident!r}")
        return self.seats[ident]

    async def move_seat(self, seat: str, target: str, by: str, now: float) -> dict[str, Any]:
        found = self._seat(seat)
        kind, _, name = target.partition(":")
        if kind == "queue" and name in self.queues:
            queues = [name]
        elif kind == "campaign" and name in self.campaigns:
            queues = [f"campaign-{name}"]
        else:
            raise ValueError(f"move target {target!r}: no such queue or campaign")
        found.update(queues=queues, at=now)
        self.push("seat", seat, found)
        return copy.deepcopy(found)

    async def set_presence(self, seat: str, action: str, reason: str | None, by: str,
                           now: float) -> dict[str, Any]:
        found = self._seat(seat)
        if action not in PRESENCE:
            raise ValueError(f"presence action {action!r}: expected ready, pause or logout")
        found.update(presence=PRESENCE[action], reason=reason if action == "pause" else None,
                     since=now, at=now)
        self.push("seat", seat, found)
        return copy.deepcopy(found)

    async def listen(self, call: str, listener_seat: str, by: str, now: float) -> dict[str, Any]:
        self._seat(listener_seat)
        if not any(s["call"] == call for s in self.seats.values()):
            raise LookupError(f"no live call {call!r}")
        self.listens.append((call, listener_seat, by, now))
        return {"call": call, "listener": listener_seat, "leg": "leg-1"}

    def decisions(self, limit: int) -> list[dict[str, Any]]:
        return self._decisions[:limit]

    def alerts(self, now: float) -> list[dict[str, Any]]:
        return list(self._alerts)


def idle_dialer() -> DialerRuntime:
    """A dialer runtime with no campaign: its screen routes and seat subscriptions are real;
    nothing here dials, so it needs no engine, store or executor."""
    nothing = cast(Any, None)
    return DialerRuntime([], nothing, nothing, nothing, nothing)


def build_app(auth: Auth, live: LiveFloorLike, clock: Callable[[], float], extra: list[BaseRoute] | None = None,
              dialer: DialerRuntime | None = None, campaigns: CampaignSwitch | None = None) -> Starlette:
    """The monitor and seat routes behind the real login, as the service wires them
    (``campaigns``: the campaign starts and stops, e.g. a ``DialerFloor``'s admin)."""
    return Starlette(routes=[*auth_routes(auth), *monitor_routes(live, auth.audit, clock, campaigns=campaigns),
                             *seat_routes(live, clock, dialer), *(extra or [])],
                     middleware=[Middleware(AuthMiddleware, auth=auth)])


def client(app: Starlette, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """An httpx client on the app in this event loop (whole responses; not for streams)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@contextlib.asynccontextmanager
async def serving(app: Starlette, port: int = 0) -> AsyncIterator[str]:
    """The app on a real HTTP server on 127.0.0.1 (an event stream needs one); yields its URL.
    On leaving, a stream still open (a browser's) is cut after a second."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                            access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task


async def next_event(lines: AsyncIterator[str]) -> tuple[str, Any]:
    """The next SSE event as (event, data); a comment comes back as ("comment", text)."""
    kind, data = "message", ""
    async for line in lines:
        if line.startswith(":"):
            return "comment", line[1:].strip()
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            return kind, json.loads(data)
    raise AssertionError("the stream ended")


def dialer_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """A floor with a trunk, seats 1001-1003 (1001 and 1002 in team north, 1003 in queue
    support) and ``[dialer] campaigns`` an empty directory; nothing is bound from these."""
    (tmp_path / "campaigns").mkdir(exist_ok=True)
    data: dict[str, Any] = {
        "sip": {"listen": "127.0.0.1:5060"},
        "trunk": {"host": "127.0.0.2", "port": 5070, "allow": ["127.0.0.2/32"]},
        "teams": [{"id": "north"}, {"id": "south"}],
        "queues": [{"name": "support"}],
        "seats": [{"id": "1001", "password": "s1", "team": "north"},
                  {"id": "1002", "password": "s2", "team": "north"},
                  {"id": "1003", "password": "s3", "queues": ["support"]}],
        "storage": {"data_dir": str(tmp_path / "data")},
        "dialer": {"campaigns": str(tmp_path / "campaigns")},
        **overrides,
    }
    return Settings.model_validate(data)


@dataclass
class DialerFloor:
    """The real parts a campaign change touches: ACD (in the switchboard), engine, board
    metrics, dialer runtime and store; only the sockets are not opened."""

    settings: Settings
    store: Store
    board: Switchboard
    live: LiveFloor
    runtime: DialerRuntime
    admin: CampaignAdmin
    audit: AuditLog

    def queues_of(self, seat: str) -> tuple[str, ...]:
        """The seat's ACD queues now."""
        return tuple(sorted(self.board.acd.snapshot(time.time()).seats[seat].queues))


@contextlib.asynccontextmanager
async def dialer_floor(settings: Settings, campaigns: Sequence[Campaign] = ()) -> AsyncIterator[DialerFloor]:
    """The service's dialer wiring as ``callfloor.app.running`` builds it, without SIP or HTTP
    sockets and without the bus; the pacing loop runs (no lead: it never dials)."""
    settings.storage.recordings_dir.mkdir(parents=True, exist_ok=True)
    store = await Store.open(settings.storage.db_path)
    executor = None
    runtime = None
    try:
        engine = CallEngine(policy_from_settings(settings, 5060))
        built = build_switchboard(settings, engine, time.time(), campaigns, dialer=True)
        assert built is not None
        board = built[0]
        engine.director = board
        relay = MediaRelay("127.0.0.1", media_timeout=10.0, recordings_dir=settings.storage.recordings_dir,
                           on_event=lambda e: None)
        executor = FloorExecutor(relay, store, None)
        executor.start()
        server = SipServer(engine, executor)
        audit = AuditLog(store)
        live = LiveFloor(settings, server, board, campaigns, audit)
        executor.listeners.append(live.on_event)
        runtime = await start_dialer(settings, list(campaigns), store, server, board, executor)
        live.dialer = runtime
        admin = CampaignAdmin(settings, runtime.store, audit, runtime=runtime, live=live)
        yield DialerFloor(settings, store, board, live, runtime, admin, audit)
    finally:
        if runtime is not None:
            await runtime.close()
        if executor is not None:
            await executor.close()
        await store.close()
