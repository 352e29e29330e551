"""A seat's own page: its state, ready / pause / log out, and the dialer's screen pop.

    GET  /seat                  the page (a seat user; the seat is the one on the user's record)
    GET  /api/seat              {"seat": its board entry, "screen": its dialer call or null}
    GET  /api/seat/events       text/event-stream: ``seat`` (its state) and ``screen`` (dialer) events
    POST /api/seat/presence     {"action": "ready"|"pause"|"logout", "reason"?}

The seat id always comes from the session, never from the URL, so a seat can only see and
change itself. :func:`own_seat_only` puts the same rule on routes that do name a seat
(``/api/seats/{seat}/...``: the dialer's screen, events and disposition).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callfloor.dialer_runtime import DialerRuntime
from callfloor.web.auth import Role, User, current_user, requires
from callfloor.web.i18n import translate
from callfloor.web.monitor import (
    HEARTBEAT,
    LiveFloorLike,
    asset_route,
    error,
    page,
    pause_reasons,
    presence_request,
    refusal,
    sse,
)

__all__ = ["own_seat_only", "seat_routes"]


def _seat_user(request: Request) -> tuple[User, str] | Response:
    """The user and its seat, or the refusal for a user without one."""
    user = current_user(request)
    assert user is not None, "requires() let a request through without a user"
    if not user.seat:
        return error(f"user {user.username!r} has no seat; an admin gives it one", 409)
    return user, user.seat


def _screen(dialer: DialerRuntime | None, seat: str) -> dict[str, Any] | None:
    if dialer is None:
        return None
    held = dialer.previewing(seat)
    if held is not None:
        return held
    dial = dialer.seat_calls.get(seat)
    if dial is None:
        return None
    return {**dialer.screen(dial), "outcome": dial.outcome, "open": not dial.closed}


def seat_routes(live: LiveFloorLike, clock: Callable[[], float], dialer: DialerRuntime | None = None,
                *, reasons: Sequence[str] | None = None) -> list[Route]:
    """The seat page and its API, bound to the live floor (and the dialer, when one runs)."""
    reasons = list(reasons) if reasons is not None else pause_reasons()

    def own(seat: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = live.board(clock()).get("seats", {}).get(seat)
        return found

    @requires(Role.SEAT)
    async def seat_page(request: Request) -> Response:
        user = current_user(request)
        assert user is not None, "requires() let a request through without a user"
        if not user.seat:
            text = html.escape(translate(user.lang, "seatpage.no_seat"))
            return HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{text}</p>", status_code=409)
        return page("seat.html", request, user, {"pause_reasons": reasons})

    @requires(Role.SEAT)
    async def state(request: Request) -> Response:
        found = _seat_user(request)
        if isinstance(found, Response):
            return found
        _, seat = found
        return JSONResponse({"seat": own(seat), "screen": _screen(dialer, seat)})

    @requires(Role.SEAT)
    async def events(request: Request) -> Response:
        found = _seat_user(request)
        if isinstance(found, Response):
            return found
        return sse(_seat_events(live, dialer, found[1], own))

    @requires(Role.SEAT)
    async def presence(request: Request) -> Response:
        found = _seat_user(request)
        if isinstance(found, Response):
            return found
        user, seat = found
        try:
            action, reason = await presence_request(request)
        except ValueError as exc:
            return error(str(exc))
        try:
            result = await live.set_presence(seat, action, reason, user.username, clock())
        except (LookupError, ValueError) as exc:
            return refusal(exc)
        return JSONResponse(result)

    return [
        Route("/seat", seat_page),
        asset_route("/seat/pages.js", "pages.js"),
        asset_route("/seat/seat.js", "seat.js"),
        asset_route("/seat/seat.css", "monitor.css"),
        Route("/api/seat", state),
        Route("/api/seat/events", events),
        Route("/api/seat/presence", presence, methods=["POST"]),
    ]


async def _seat_events(live: LiveFloorLike, dialer: DialerRuntime | None, seat: str,
                       own: Callable[[str], dict[str, Any] | None]) -> AsyncGenerator[tuple[str, Any], None]:
    """The seat's state, then its changes and its dialer screen events, merged."""
    floor_q = live.subscribe()
    screen_q = dialer.subscribe(seat) if dialer is not None else None
    waiting: dict[asyncio.Task[dict[str, Any]], str] = {}
    try:
        yield "seat", {"type": "seat", "id": seat, "data": own(seat)}
        screen = _screen(dialer, seat)
        if screen is not None:
            yield "screen", screen
        while True:
            if "floor" not in waiting.values():
                waiting[asyncio.ensure_future(floor_q.get())] = "floor"
            if screen_q is not None and "screen" not in waiting.values():
                waiting[asyncio.ensure_future(screen_q.get())] = "screen"
            done, _ = await asyncio.wait(waiting, timeout=HEARTBEAT, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                yield "", None
            for task in done:
                item = task.result()
                if waiting.pop(task) == "screen":
                    yield "screen", item
                elif item.get("type") == "seat" and item.get("id") == seat:
                    yield "seat", item
    finally:
        for task in waiting:
            task.cancel()
        live.unsubscribe(floor_q)
        if dialer is not None and screen_q is not None:
            dialer.unsubscribe(seat, screen_q)


def own_seat_only(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """``routes`` with every ``{seat}`` route behind a login: a seat user only reaches its own
    seat (403 otherwise), leads and admins reach any; writes need the CSRF token."""
    out: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and "{seat}" in route.path:
            route = Route(route.path, _guard(route.endpoint), methods=route.methods, name=route.name)
        out.append(route)
    return out


def _guard(endpoint: Callable[..., Any]) -> Callable[[Request], Any]:
    @requires(Role.SEAT, Role.LEAD)
    async def guarded(request: Request) -> Response:
        user = current_user(request)
        seat = request.path_params.get("seat")
        if user is not None and user.role is Role.SEAT and user.seat != seat:
            return error(f"seat {seat} is not yours: a seat sees only its own calls", 403)
        response: Response = await endpoint(request)
        return response

    return guarded
