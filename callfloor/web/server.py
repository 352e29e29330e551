"""The HTTP API and pages in the service's own event loop (Starlette on uvicorn).

Login and sessions (``callfloor/web/auth.py``), the live monitor and the seat page
(``monitor.py``, ``seat.py``); health, registered seats, live calls, call records and recording download, queues and seat
presence, the dialer's campaigns, leads, do-not-call list and the seats' screen pop
(``callfloor/web/dialer.py``), and the outbound reports (``callfloor/web/reports.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callfloor.archivejob import Archiver
from callfloor.campaignadmin import CampaignAdmin
from callfloor.dialer_runtime import DialerRuntime
from callfloor.floorlive import LiveFloor
from callfloor.settings import ConfigError, Settings
from callfloor.store import Store
from callfloor.store.audit import AuditLog
from callfloor.store.complaints import ComplaintStore
from callfloor.store.qa import QaStore
from callfloor.switchboard import Switchboard
from callfloor.web.auth import Auth, AuthMiddleware, Role, auth_routes, current_user, requires
from callfloor.web.campaignpage import campaign_page_routes
from callfloor.web.complaints import complaint_routes, may_play, wav_source
from callfloor.web.dialer import campaign_admin_routes, dialer_routes
from callfloor.web.machineapi import machine_api
from callfloor.web.monitor import monitor_routes
from callfloor.web.playback import archive_source
from callfloor.web.qa import qa_routes
from callfloor.web.reports import report_routes
from callfloor.web.seat import seat_routes
from floor.snapshot import FloorSnapshot, QueueView, SeatView
from floor.states import PresenceAction
from qa.forms import Form, FormError, load_forms
from telephony.net.server import SipServer

__all__ = ["build_app", "qa_forms", "serve_http"]


def build_app(settings: Settings, store: Store, sip: SipServer,
              switchboard: Switchboard | None = None, dialer: DialerRuntime | None = None, *,
              live: LiveFloor | None = None, archiver: Archiver | None = None,
              campaigns: CampaignAdmin | None = None) -> Starlette:
    """The Starlette application."""
    recordings = settings.storage.recordings_dir.resolve()
    auth = Auth(store, settings.auth)
    audit = AuditLog(store)

    def floor_view() -> FloorSnapshot | None:
        return switchboard.acd.snapshot(sip.clock()) if switchboard is not None else None

    async def health(request: Request) -> JSONResponse:
        engine = sip.engine
        return JSONResponse({"status": "ok", "calls": len(engine.calls),
                             "seats_registered": len(engine.seats.registrar.aors()),
                             "media": sip.executor.relay.stats() if hasattr(sip.executor, "relay") else {}})

    async def seats(request: Request) -> JSONResponse:
        engine = sip.engine
        now = sip.clock()
        snapshot = floor_view()
        rows = []
        for seat in settings.seats:
            bindings = engine.seats.registrar.lookup(seat.id, now)
            row: dict[str, Any] = {
                "id": seat.id, "name": seat.name, "registered": bool(bindings),
                "busy": seat.id in engine.busy_seats,
                "contacts": [{"uri": b.contact.uri, "expires_in": round(b.expires_at - now),
                              "user_agent": b.user_agent} for b in bindings]}
            if snapshot is not None and seat.id in snapshot.seats:
                row.update(_seat_state(snapshot.seats[seat.id]))
            rows.append(row)
        return JSONResponse(rows)

    async def queues(request: Request) -> JSONResponse:
        snapshot = floor_view()
        if snapshot is None:
            return JSONResponse({"error": "no queues: [ivr] flows is not configured"}, status_code=404)
        return JSONResponse([_queue(q) for q in snapshot.queues.values()])

    async def presence(request: Request) -> JSONResponse:
        seat = request.path_params["seat"]
        if switchboard is None:
            return JSONResponse({"error": "no ACD: [ivr] flows is not configured"}, status_code=409)
        if seat not in {s.id for s in settings.seats}:
            return JSONResponse({"error": f"unknown seat {seat!r}"}, status_code=404)
        try:
            body = await request.json()
            action = PresenceAction(body["action"])
            reason = body.get("reason")
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'expected {"action": "ready"|"pause"|"logout", "reason": ...}'},
                                status_code=400)
        user = current_user(request)
        actor = user.username if user is not None else "api"
        sip.apply(lambda now: switchboard.set_presence(seat, action, now, reason=reason, by=actor))
        await audit.write(actor, "seat.presence", f"seat:{seat}", {
            "via": "api", "action": action.value, "reason": reason,
            "client": request.client.host if request.client else None}, sip.clock())
        snapshot = floor_view()
        assert snapshot is not None
        return JSONResponse(_seat_state(snapshot.seats[seat]))

    async def calls(request: Request) -> JSONResponse:
        limit = min(int(request.query_params.get("limit", "100")), 1000)
        seat = request.query_params.get("seat")
        rows = await store.calls(limit=limit, seat_id=seat)
        return JSONResponse([_row(r) for r in rows])

    async def live_calls(request: Request) -> JSONResponse:
        return JSONResponse([
            {"call": c.uuid, "direction": c.direction, "caller": c.caller, "callee": c.callee,
             "seat": c.seat_id, "state": c.state.name.lower(), "started_at": c.started_at,
             "answered_at": c.answered_at}
            for c in sip.engine.calls.values()
        ])

    recording_source = archive_source(archiver) if archiver is not None else wav_source(recordings)
    teams = {s.id: s.team for s in settings.seats}

    @requires(Role.SEAT, Role.LEAD, Role.QA)
    async def recording(request: Request) -> Response:
        """A call's recording for the people who may hear it (QA, its seat, a lead of its team,
        admins); every playback is audited."""
        user, uuid = current_user(request), request.path_params["uuid"]
        assert user is not None
        row = await store.call(uuid)
        if row is None:
            return JSONResponse({"error": f"no call {uuid}"}, status_code=404)
        if not may_play(user, row, teams.get(row.seat_id or "")):
            return JSONResponse({"error": f"call {uuid} is not one you may play"}, status_code=403)
        response = await recording_source(row)
        if response is None:
            return JSONResponse({"error": "no recording for this call"}, status_code=404)
        await audit.write(user.username, "recording.play", f"call:{uuid}",
                          {"via": "api", "seat": row.seat_id}, sip.clock())
        return response

    pages: list[BaseRoute] = []
    if live is not None:
        pages += [*monitor_routes(live, audit, sip.clock, campaigns=campaigns), *seat_routes(live, sip.clock, dialer)]
    pages += qa_routes(store, QaStore(store), audit, settings, sip.clock, recordings=archiver,
                       forms=qa_forms(settings))
    pages += complaint_routes(ComplaintStore(store), audit, settings, sip.clock,
                              policy=settings.complaints, recording=recording_source)
    if campaigns is not None:
        pages += campaign_page_routes(settings)
    machine = machine_api([
        Route("/api/seats", seats), Route("/api/calls", calls), Route("/api/calls/live", live_calls),
        Route("/api/queues", queues), Route("/api/seats/{seat}/presence", presence, methods=["POST"]),
        *report_routes(settings, store.path, clock=sip.clock),
        *(dialer_routes(dialer, sip.clock, audit) if dialer is not None else ()),
        *(campaign_admin_routes(campaigns, sip.clock) if campaigns is not None else ()),
    ], open_on_loopback=settings.http.api_open_on_loopback)
    return Starlette(routes=[
        *auth_routes(auth), *pages, Route("/health", health),
        Route("/api/calls/{uuid}/recording.wav", recording), *machine,
    ], middleware=[Middleware(AuthMiddleware, auth=auth)])


def qa_forms(settings: Settings) -> list[Form] | None:
    """The QA forms of ``[qa] forms`` (None when the folder is absent); a bad form is a
    configuration error naming its file, section and item."""
    folder = settings.qa.forms
    if not folder.is_dir():
        return None
    try:
        return load_forms(folder)
    except FormError as exc:
        raise ConfigError([str(exc)]) from exc


def _seat_state(view: SeatView) -> dict[str, Any]:
    return {"presence": view.presence.value, "call_state": view.call_state.value,
            "reason": view.reason, "time_in_state_s": round(view.time_in_state_s, 1),
            "available": view.available, "queues": list(view.queues), "call": view.call}


def _queue(view: QueueView) -> dict[str, Any]:
    stats = view.stats
    return {
        "name": view.name, "strategy": view.strategy.value, "waiting": len(view.callers),
        "longest_wait_s": round(view.longest_wait_s, 1), "staffed": view.staffed,
        "available": view.available,
        "callers": [{"call": c.call, "position": c.position, "wait_s": round(c.wait_s, 1),
                     "state": c.state.value, "seats": list(c.seats)} for c in view.callers],
        "stats": {k: v for k, v in dataclasses.asdict(stats).items() if isinstance(v, int | float)},
        "service_level": stats.service_level(), "asa_s": stats.average_speed_of_answer(),
        "aht_s": stats.average_handle_time(),
    }


def _row(row: Any) -> dict[str, Any]:
    data = dataclasses.asdict(row) if dataclasses.is_dataclass(row) and not isinstance(row, type) else dict(row)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our loop: the service, not uvicorn, owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


@contextlib.asynccontextmanager
async def serve_http(settings: Settings, store: Store, sip: SipServer,
                     switchboard: Switchboard | None = None,
                     dialer: DialerRuntime | None = None, *, live: LiveFloor | None = None,
                     archiver: Archiver | None = None,
                     campaigns: CampaignAdmin | None = None) -> AsyncIterator[tuple[str, int]]:
    """Serve the HTTP API until the context exits; yields the bound address."""
    app = build_app(settings, store, sip, switchboard, dialer, live=live, archiver=archiver,
                    campaigns=campaigns)
    # An open monitor page holds an event stream for ever: shutting down waits 2 s, not for it.
    config = uvicorn.Config(app, host=settings.http.host, port=settings.http.port,
                            log_level="warning", lifespan="off", access_log=False,
                            timeout_graceful_shutdown=2)
    server = _EmbeddedServer(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # raises the bind error
        raise OSError(f"HTTP server did not start on {settings.http.listen}")
    sock = server.servers[0].sockets[0].getsockname()
    try:
        yield sock[0], sock[1]
    finally:
        server.should_exit = True
        await task
