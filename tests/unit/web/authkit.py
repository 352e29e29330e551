"""Shared pieces for the web tests: a real Store on tmp_path, an Auth with a fast argon2 and a
settable clock, a small app with protected endpoints, and a JSON login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from callfloor.settings.auth import AuthSettings
from callfloor.store import Store
from callfloor.store.users import UserRow
from callfloor.web.auth import (
    Auth,
    AuthMiddleware,
    Role,
    auth_routes,
    current_user,
    form_data,
    may_see_seat,
    requires,
)
from callfloor.web.passwords import Passwords

T0 = 1_772_000_000.0  # 2026-02-25 06:13:20 UTC
PASSWORD = "correct horse battery"
# argon2id at its cheapest: the tests check behaviour, not the cost
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SEAT_TEAMS = {"1001": "north", "1002": "south"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def protected_routes() -> list[Route]:
    """Dummy endpoints behind ``requires``: a lead page, a lead API and action, any-user API,
    a seat view checked with ``may_see_seat``."""

    @requires(Role.LEAD)
    async def lead_page(request: Request) -> Response:
        return HTMLResponse("<p>lead page</p>")

    @requires(Role.LEAD)
    async def lead_api(request: Request) -> Response:
        return JSONResponse({"ok": True})

    @requires(Role.LEAD)
    async def lead_act(request: Request) -> Response:
        form = await form_data(request)
        body = form or (await request.json() if await request.body() else {})
        return JSONResponse({"done": True, "got": body})

    @requires()
    async def anyone(request: Request) -> Response:
        user = current_user(request)
        assert user is not None
        return JSONResponse({"user": user.username})

    @requires()
    async def seat_view(request: Request) -> Response:
        user = current_user(request)
        seat = request.path_params["seat"]
        assert user is not None
        if not may_see_seat(user, seat, SEAT_TEAMS.get(seat)):
            return JSONResponse({"error": "not your seat"}, status_code=403)
        return JSONResponse({"seat": seat})

    return [
        Route("/lead-page", lead_page), Route("/api/lead", lead_api),
        Route("/api/lead/act", lead_act, methods=["POST"]), Route("/api/any", anyone),
        Route("/api/seats/{seat}", seat_view),
    ]


def build(auth: Auth) -> Starlette:
    """The app: the auth routes, the dummy endpoints, the middleware."""
    return Starlette(routes=[*auth_routes(auth), *protected_routes()],
                     middleware=[Middleware(AuthMiddleware, auth=auth)])


@asynccontextmanager
async def floor(tmp_path: Path, settings: AuthSettings | None = None,
                clock: Clock | None = None) -> AsyncIterator[tuple[Auth, Clock, Store]]:
    """A Store on tmp_path and an Auth on it."""
    clock = clock or Clock()
    async with await Store.open(tmp_path / "callfloor.db") as store:
        yield Auth(store, settings, clock=clock, passwords=Passwords(FAST)), clock, store


def client(auth: Auth, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """An httpx client on the app, in this event loop; it keeps cookies."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build(auth)), base_url=base_url)


async def add_user(auth: Auth, username: str, role: Role, *, seat: str | None = None,
                   team: str | None = None, lang: str = "en",
                   password: str = PASSWORD) -> UserRow:
    """A user with ``password``, added by "test"."""
    return await auth.users.add(username, role=role, password_hash=auth.passwords.hash(password),
                                now=auth.clock(), by="test", seat=seat, team=team, lang=lang,
                                name=username.title())


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """A JSON login."""
    return await http.post("/login", json={"username": username, "password": password})
