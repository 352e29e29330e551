"""The integrations' JSON API (seats, queues, calls, campaigns, leads, do-not-call, presence,
screen pop, dispositions, reports) and who may use it.

A client on this machine (a loopback address: the demo's simulated seats, a local wallboard or
CRM bridge) may use it without a login while ``[http] api_open_on_loopback`` is true; a POST must
then carry a content type a browser cannot send across origins without a CORS preflight (JSON,
a CSV), so a web page elsewhere cannot drive it through the user's browser. Any other client logs in
first (``POST /login`` with JSON, then the session cookie and ``X-CSRF-Token``): team leads, QA
and admins reach all of it, a seat only its own ``/api/seats/<id>/...`` routes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callfloor.store.users import Role
from callfloor.web.authcore import current_user, requires

__all__ = ["is_loopback_client", "machine_api"]

Endpoint = Callable[[Request], Any]
# What a page on another site may POST without a CORS preflight (the "simple" content types).
_CROSS_SITE_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})


def is_loopback_client(request: Request) -> bool:
    """The request comes from this machine (127.0.0.0/8 or ::1)."""
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def machine_api(routes: Sequence[BaseRoute], *, open_on_loopback: bool) -> list[BaseRoute]:
    """``routes`` guarded as the module says."""
    out: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route):
            route = Route(route.path, _guard(route.endpoint, seat_route="{seat}" in route.path,
                                             open_on_loopback=open_on_loopback),
                          methods=route.methods, name=route.name)
        out.append(route)
    return out


def _guard(endpoint: Endpoint, *, seat_route: bool, open_on_loopback: bool) -> Endpoint:
    @requires(Role.SEAT, Role.LEAD, Role.QA)
    async def logged_in(request: Request) -> Response:
        user = current_user(request)
        assert user is not None  # requires() let the request through
        if user.role is Role.SEAT and (not seat_route or request.path_params.get("seat") != user.seat):
            return JSONResponse({"error": "a seat reaches only its own /api/seats/<id>/... routes"},
                                status_code=403)
        response: Response = await endpoint(request)
        return response

    async def guarded(request: Request) -> Response:
        if open_on_loopback and is_loopback_client(request) and current_user(request) is None:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if request.method == "POST" and content_type in _CROSS_SITE_TYPES:
                return JSONResponse({"error": f"Content-Type {content_type or '(none)'} refused: send "
                                     "application/json (or text/csv for a lead file)"}, status_code=415)
            response: Response = await endpoint(request)
            return response
        return await logged_in(request)

    return guarded
