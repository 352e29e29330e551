"""The integrations' JSON API: open to this machine (JSON writes only), a login for anyone else;
a seat user reaches only its own /api/seats/<id>/... routes; false settings close it to all."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from callfloor.web.auth import Auth, AuthMiddleware, Role, auth_routes
from callfloor.web.machineapi import machine_api
from tests.unit.web.authkit import add_user, floor, login


def app(auth: Auth, *, open_on_loopback: bool) -> Starlette:
    async def seats(request: Request) -> JSONResponse:
        return JSONResponse(["1001", "1002"])

    async def presence(request: Request) -> JSONResponse:
        return JSONResponse({"seat": request.path_params["seat"], "body": await request.json()})

    api = machine_api([Route("/api/seats", seats),
                       Route("/api/seats/{seat}/presence", presence, methods=["POST"])],
                      open_on_loopback=open_on_loopback)
    return Starlette(routes=[*auth_routes(auth), *api], middleware=[Middleware(AuthMiddleware, auth=auth)])


def client(auth: Auth, host: str, *, open_on_loopback: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app(auth, open_on_loopback=open_on_loopback), client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_this_machine_uses_it_without_a_login_but_only_with_json(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth, "127.0.0.1") as local:
        assert (await local.get("/api/seats")).json() == ["1001", "1002"]
        ok = await local.post("/api/seats/1001/presence", json={"action": "ready"})
        assert ok.status_code == 200 and ok.json()["body"] == {"action": "ready"}
        # What a page on another site could make the browser send without a preflight:
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            refused = await local.post("/api/seats/1001/presence", content=b'{"action": "ready"}',
                                       headers={"Content-Type": content_type})
            assert refused.status_code == 415, content_type
    async with floor(tmp_path / "v6") as (auth, _, _), client(auth, "::1") as local6:
        assert (await local6.get("/api/seats")).status_code == 200


async def test_another_machine_logs_in_and_a_seat_reaches_only_its_own_routes(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _):
        await add_user(auth, "lead", Role.LEAD)
        await add_user(auth, "s1", Role.SEAT, seat="1001")
        async with client(auth, "10.1.2.3") as remote:
            assert (await remote.get("/api/seats")).status_code == 401
            assert (await login(remote, "lead")).status_code == 200
            assert (await remote.get("/api/seats")).status_code == 200
            no_csrf = await remote.post("/api/seats/1002/presence", json={"action": "pause"})
            assert no_csrf.status_code == 403
        async with client(auth, "10.1.2.4") as seat:
            token = (await login(seat, "s1")).json()["csrf_token"]
            own = await seat.post("/api/seats/1001/presence", json={"action": "pause"},
                                  headers={"X-CSRF-Token": token})
            other = await seat.post("/api/seats/1002/presence", json={"action": "pause"},
                                    headers={"X-CSRF-Token": token})
            listing = await seat.get("/api/seats")
            assert (own.status_code, other.status_code, listing.status_code) == (200, 403, 403)


async def test_closed_to_this_machine_too_when_the_setting_says_so(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth, "127.0.0.1", open_on_loopback=False) as local:
        assert (await local.get("/api/seats")).status_code == 401
