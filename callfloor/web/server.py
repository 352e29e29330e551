"""The HTTP API in the service's own event loop (Starlette on uvicorn).

For now: health, registered seats, live calls, call records and recording download. The monitor
and QA pages build on this app later.
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
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

from callfloor.settings import Settings
from callfloor.store import Store
from telephony.net.server import SipServer

__all__ = ["build_app", "serve_http"]


def build_app(settings: Settings, store: Store, sip: SipServer) -> Starlette:
    """The Starlette application."""
    recordings = settings.storage.recordings_dir.resolve()

    async def health(request: Request) -> JSONResponse:
        engine = sip.engine
        return JSONResponse({"status": "ok", "calls": len(engine.calls),
                             "seats_registered": len(engine.seats.registrar.aors()),
                             "media": sip.executor.relay.stats() if hasattr(sip.executor, "relay") else {}})

    async def seats(request: Request) -> JSONResponse:
        engine = sip.engine
        now = sip.clock()
        rows = []
        for seat in settings.seats:
            bindings = engine.seats.registrar.lookup(seat.id, now)
            rows.append({"id": seat.id, "name": seat.name, "registered": bool(bindings),
                         "busy": seat.id in engine.busy_seats,
                         "contacts": [{"uri": b.contact.uri, "expires_in": round(b.expires_at - now),
                                       "user_agent": b.user_agent} for b in bindings]})
        return JSONResponse(rows)

    async def calls(request: Request) -> JSONResponse:
        limit = min(int(request.query_params.get("limit", "100")), 1000)
        seat = request.query_params.get("seat")
        rows = await store.calls(limit=limit, seat_id=seat)
        return JSONResponse([_row(r) for r in rows])

    async def live(request: Request) -> JSONResponse:
        return JSONResponse([
            {"call": c.uuid, "direction": c.direction, "caller": c.caller, "callee": c.callee,
             "seat": c.seat_id, "state": c.state.name.lower(), "started_at": c.started_at,
             "answered_at": c.answered_at}
            for c in sip.engine.calls.values()
        ])

    async def recording(request: Request) -> Any:
        row = await store.call(request.path_params["uuid"])
        if row is None or not row.recording_path:
            return JSONResponse({"error": "no recording for this call"}, status_code=404)
        path = (recordings / row.recording_path).resolve()
        if not path.is_relative_to(recordings) or not path.exists():
            return JSONResponse({"error": "recording file missing"}, status_code=404)
        return FileResponse(path, media_type="audio/wav")

    return Starlette(routes=[
        Route("/health", health), Route("/api/seats", seats), Route("/api/calls", calls),
        Route("/api/calls/live", live), Route("/api/calls/{uuid}/recording.wav", recording),
    ])


def _row(row: Any) -> dict[str, Any]:
    data = dataclasses.asdict(row) if dataclasses.is_dataclass(row) and not isinstance(row, type) else dict(row)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our loop: the service, not uvicorn, owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


@contextlib.asynccontextmanager
async def serve_http(settings: Settings, store: Store, sip: SipServer) -> AsyncIterator[tuple[str, int]]:
    """Serve the HTTP API until the context exits; yields the bound address."""
    config = uvicorn.Config(build_app(settings, store, sip), host=settings.http.host,
                            port=settings.http.port, log_level="warning", lifespan="off",
                            access_log=False)
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
