"""The seat page: its own state and presence, its own event stream (floor changes and the
dialer's screen pop), the ownership rule on the dialer's ``/api/seats/{seat}/...`` routes, and
the words and controls of its page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from callfloor.web.auth import Auth, Role
from callfloor.web.dialer import dialer_routes
from callfloor.web.i18n import load_catalogs
from callfloor.web.monitor import STATIC
from callfloor.web.seat import own_seat_only
from tests.unit.web.authkit import PASSWORD, add_user, floor
from tests.unit.web.monitorkit import (
    BoardFloor,
    build_app,
    client,
    idle_dialer,
    next_event,
    seat,
    serving,
)


async def logged_in(http: httpx.AsyncClient, auth: Auth, username: str, role: Role,
                    seat: str | None = None) -> str:
    await add_user(auth, username, role, seat=seat)
    answer = await http.post("/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["csrf_token"])


async def test_a_seat_user_sees_and_sets_only_its_own_seat(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, clock, _):
        http = client(build_app(auth, live, clock))
        csrf = await logged_in(http, auth, "agent1", Role.SEAT, seat="1001")
        page = await http.get("/seat")
        state = await http.get("/api/seat")
        paused = await http.post("/api/seat/presence", json={"action": "pause", "reason": "lunch"},
                                 headers={"X-CSRF-Token": csrf})
        forged = await http.post("/api/seat/presence", json={"action": "logout"})
        bad = await http.post("/api/seat/presence", json={"action": "nap"}, headers={"X-CSRF-Token": csrf})
        monitor = await http.get("/monitor")
    assert page.status_code == 200 and '"seat": "1001"' in page.text and "/seat/seat.js" in page.text
    assert state.json() == {"seat": seat("1001", "north", ["support"]), "screen": None}
    assert paused.status_code == 200 and (paused.json()["presence"], paused.json()["reason"]) == ("paused", "lunch")
    assert (forged.status_code, forged.json()["code"]) == (403, "csrf")
    assert bad.status_code == 400 and "'nap' is not a valid PresenceAction" in bad.json()["error"]
    assert live.seats["1001"]["presence"] == "paused" and live.seats["1002"]["presence"] == "ready"
    assert monitor.status_code == 403


async def test_the_seat_page_wants_a_seat_user(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, clock, _):
        lead, admin = client(build_app(auth, live, clock)), client(build_app(auth, live, clock))
        await logged_in(lead, auth, "lead", Role.LEAD)
        await logged_in(admin, auth, "root", Role.ADMIN)
        refused = await lead.get("/seat")
        seatless = await admin.get("/seat")
        api = await admin.get("/api/seat")
    assert refused.status_code == 403
    assert seatless.status_code == 409 and "has no seat" in seatless.text
    assert (api.status_code, api.json()) == (409, {"error": "user 'root' has no seat; an admin gives it one"})


async def test_the_dialer_routes_let_a_seat_reach_only_its_own_seat(tmp_path: Path) -> None:
    live = BoardFloor()
    guarded = own_seat_only(dialer_routes(idle_dialer(), lambda: 0.0))
    async with floor(tmp_path) as (auth, clock, _):
        app = build_app(auth, live, clock, extra=guarded)
        agent, lead, nobody = client(app), client(app), client(app)
        csrf = await logged_in(agent, auth, "agent1", Role.SEAT, seat="1001")
        await logged_in(lead, auth, "lead", Role.LEAD)
        other_stream = await agent.get("/api/seats/1002/events")
        other_screen = await agent.get("/api/seats/1002/screen")
        other_dispose = await agent.post("/api/seats/1002/disposition", json={"code": "sale"},
                                        headers={"X-CSRF-Token": csrf})
        own_screen = await agent.get("/api/seats/1001/screen")
        lead_screen = await lead.get("/api/seats/1002/screen")
        anonymous = await nobody.get("/api/seats/1001/screen")
        campaigns = await nobody.get("/api/campaigns")
    assert [r.status_code for r in (other_stream, other_screen, other_dispose)] == [403, 403, 403]
    assert other_stream.json() == {"error": "seat 1002 is not yours: a seat sees only its own calls"}
    assert (own_screen.status_code, own_screen.json()) == (404, {"error": "no dialer call for this seat yet"})
    assert (lead_screen.status_code, lead_screen.json()) == (404, {"error": "no dialer call for this seat yet"})
    assert anonymous.status_code == 401
    assert (campaigns.status_code, campaigns.json()) == (200, [])   # routes without {seat} unchanged


@contextlib.asynccontextmanager
async def seat_stream(url: str, auth: Auth) -> AsyncIterator[AsyncIterator[str]]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        await logged_in(http, auth, "agent1", Role.SEAT, seat="1001")
        async with http.stream("GET", "/api/seat/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            yield stream.aiter_lines()


async def test_the_seats_stream_carries_its_own_changes_and_its_screen_pop(tmp_path: Path) -> None:
    live, dialer = BoardFloor(), idle_dialer()
    async with floor(tmp_path) as (auth, clock, _), \
            serving(build_app(auth, live, clock, dialer=dialer)) as url, seat_stream(url, auth) as lines:
        kind, first = await next_event(lines)
        assert (kind, first["id"], first["data"]["presence"]) == ("seat", "1001", "ready")
        live.push("seat", "1002", {**live.seats["1002"], "presence": "paused"})   # not this seat's
        dialer.notify("1002", {"event": "call", "lead": {"name": "Not yours"}})
        live.push("seat", "1001", {**live.seats["1001"], "call_state": "on-call"})
        kind, item = await next_event(lines)
        assert (kind, item["id"], item["data"]["call_state"]) == ("seat", "1001", "on-call")
        pop = {"event": "call", "call": "c-1", "lead": {"name": "Li Lei", "number": "+8613800000000"},
               "script": "Hello", "dispositions": [{"code": "sale", "label": "Sale", "kind": "success"}]}
        dialer.notify("1001", pop)
        assert await next_event(lines) == ("screen", pop)
    assert live.subscribers == []
    assert dialer.subscribers.get("1001") == [] and dialer.subscribers.get("1002", []) == []


def test_every_word_the_seat_page_uses_is_in_both_languages() -> None:
    script, html = (STATIC / "seat.js").read_text(encoding="utf-8"), (STATIC / "seat.html").read_text(encoding="utf-8")
    used = set(re.findall(r'"((?:seatpage|monitor|action|nav)\.[a-z_.]+)"', script + html))
    found = load_catalogs()
    assert {lang: sorted(used - set(found[lang])) for lang in ("en", "zh")} == {"en": [], "zh": []}
    # the preview and callback controls the browser tests drive
    assert {"seatpage.next_lead", "seatpage.dial", "seatpage.skip", "seatpage.callback_past"} <= used
    testids = set(re.findall(r'"data-testid": "([a-z-]+)"', script)) | set(re.findall(r'data-testid="([a-z-]+)"', html))
    assert {"preview-next", "preview-dial", "preview-skip", "callback-form", "callback-at", "callback-to",
            "callback-save", "callback-cancel"} <= testids
