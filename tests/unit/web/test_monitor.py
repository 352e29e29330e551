"""The monitor's page and actions behind the real login: roles, CSRF, the audit log, team scope,
and the floor's refusals as 400/404/409 with their message."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from callfloor.web.auth import Auth, Role
from tests.unit.web.authkit import T0, add_user, floor, login
from tests.unit.web.monitorkit import BoardFloor, build_app, client


async def lead_client(auth: Auth, live: BoardFloor, username: str = "lead", *, team: str | None = None,
                      seat: str | None = None, lang: str = "en",
                      role: Role = Role.LEAD) -> tuple[httpx.AsyncClient, str]:
    """A logged-in client and its CSRF token."""
    await add_user(auth, username, role, team=team, seat=seat, lang=lang)
    http = client(build_app(auth, live, auth.clock))
    answer = await login(http, username)
    assert answer.status_code == 200, answer.text
    return http, answer.json()["csrf_token"]


def boot_of(html: str) -> dict[str, object]:
    found = re.search(r'<script id="boot" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


async def test_a_lead_gets_the_page_with_its_words_and_csrf_token_inline(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _):
        http, csrf = await lead_client(auth, BoardFloor(), lang="zh")
        page = await http.get("/monitor")
        script = await http.get("/monitor/monitor.js")
        shared = await http.get("/monitor/pages.js")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    boot = boot_of(page.text)
    assert boot["csrf"] == csrf and boot["lang"] == "zh"
    assert boot["user"] == {"username": "lead", "name": "Lead", "role": "lead", "seat": None, "team": None}
    catalog = boot["catalog"]
    assert isinstance(catalog, dict)
    assert (catalog["monitor.title"], catalog["metric.connect_rate"], catalog["metric.service_level"]) == (
        "实时队列监控", "接通率", "服务水平")
    assert boot["pause_reasons"] == ["break", "lunch", "training", "meeting", "coaching"]
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "function applyBoard" in script.text and "function liveStream" in shared.text


async def test_without_a_login_the_page_sends_to_login_and_the_api_answers_401(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _):
        http = client(build_app(auth, BoardFloor(), auth.clock))
        page = await http.get("/monitor", headers={"Accept": "text/html"})
        board = await http.get("/api/monitor/board")
        move = await http.post("/api/monitor/seats/1001/move", json={"target": "queue:sales"})
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Fmonitor")
    assert (board.status_code, move.status_code) == (401, 401)


async def test_a_seat_user_is_refused_every_monitor_route(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, _, store):
        http, csrf = await lead_client(auth, live, "agent1", seat="1001", role=Role.SEAT)
        answers = [await http.get(path) for path in
                   ("/monitor", "/monitor/events", "/api/monitor/board", "/api/monitor/decisions")]
        headers = {"X-CSRF-Token": csrf}
        answers += [await http.post("/api/monitor/seats/1001/move", json={"target": "queue:sales"}, headers=headers),
                    await http.post("/api/monitor/seats/1001/presence", json={"action": "pause"}, headers=headers),
                    await http.post("/api/monitor/calls/call-77/listen", headers=headers)]
        audited = await auth.audit.entries(action="seat.move")
    assert [a.status_code for a in answers] == [403] * 7
    assert answers[2].json()["code"] == "forbidden"
    assert live.seats["1001"]["queues"] == ["support"] and audited == [] and live.listens == []


async def test_the_board_carries_the_alerts_and_a_team_lead_sees_only_its_team(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, clock, _):
        everyone, _ = await lead_client(auth, live, "boss")
        north, _ = await lead_client(auth, live, "north", team="north")
        all_seats = (await everyone.get("/api/monitor/board")).json()
        team = (await north.get("/api/monitor/board")).json()
        decisions = await north.get("/api/monitor/decisions", params={"limit": "1"})
        bad_limit = await north.get("/api/monitor/decisions", params={"limit": "many"})
    assert sorted(all_seats["seats"]) == ["1001", "1002", "1003"]
    assert sorted(team["seats"]) == ["1001", "1003"]
    assert sorted(team["queues"]) == ["sales", "support"] and team["at"] == clock.now
    assert [a["id"] for a in team["alerts"]] == ["sl:support"]
    assert decisions.json() == live.decisions(1)
    assert (bad_limit.status_code, bad_limit.json()) == (400, {"error": "limit must be a whole number"})


async def test_a_move_takes_effect_and_is_audited_with_who_what_and_when(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, clock, _):
        http, csrf = await lead_client(auth, live)
        clock.now = T0 + 42
        moved = await http.post("/api/monitor/seats/1001/move", json={"target": "campaign:demo"},
                                headers={"X-CSRF-Token": csrf})
        entries = await auth.audit.entries(action="seat.move")
    assert moved.status_code == 200, moved.text
    assert moved.json()["queues"] == ["campaign-demo"] == live.seats["1001"]["queues"]
    assert [(e.actor, e.action, e.subject, e.detail, e.at) for e in entries] == [
        ("lead", "seat.move", "seat:1001", {"target": "campaign:demo"}, T0 + 42)]


async def test_without_the_csrf_token_nothing_moves_and_nothing_is_audited(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, _, _):
        http, _ = await lead_client(auth, live)
        missing = await http.post("/api/monitor/seats/1001/move", json={"target": "queue:sales"})
        wrong = await http.post("/api/monitor/seats/1001/presence", json={"action": "logout"},
                                headers={"X-CSRF-Token": "not-the-token"})
        entries = await auth.audit.entries(subject="seat:1001")
    assert (missing.status_code, missing.json()["code"]) == (403, "csrf")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "csrf")
    assert live.seats["1001"]["queues"] == ["support"] and live.seats["1001"]["presence"] == "ready"
    assert entries == []


async def test_the_floors_refusals_come_back_with_their_message(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, _, _):
        http, csrf = await lead_client(auth, live)
        h = {"X-CSRF-Token": csrf}
        no_queue = await http.post("/api/monitor/seats/1001/move", json={"target": "queue:nope"}, headers=h)
        no_seat = await http.post("/api/monitor/seats/9999/move", json={"target": "queue:sales"}, headers=h)
        no_json = await http.post("/api/monitor/seats/1001/move", content=b"queue:sales", headers=h)
        no_target = await http.post("/api/monitor/seats/1001/move", json={"queue": "sales"}, headers=h)
        dance = await http.post("/api/monitor/seats/1001/presence", json={"action": "dance"}, headers=h)
        entries = await auth.audit.entries()
    assert (no_queue.status_code, no_queue.json()) == (
        400, {"error": "move target 'queue:nope': no such queue or campaign"})
    assert (no_seat.status_code, no_seat.json()) == (404, {"error": "unknown seat '9999'"})
    assert no_json.status_code == 400 and no_json.json()["error"].startswith("the body is not JSON")
    assert no_target.status_code == 400 and "target" in no_target.json()["error"]
    assert dance.status_code == 400 and dance.json()["error"].startswith("'dance' is not a valid PresenceAction")
    assert [e.action for e in entries if e.action.startswith("seat.")] == []


async def test_a_team_lead_cannot_act_on_another_teams_seat(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, _, _):
        http, csrf = await lead_client(auth, live, "north", team="north", seat="1001")
        h = {"X-CSRF-Token": csrf}
        move = await http.post("/api/monitor/seats/1002/move", json={"target": "queue:support"}, headers=h)
        pause = await http.post("/api/monitor/seats/1002/presence", json={"action": "pause"}, headers=h)
        own = await http.post("/api/monitor/seats/1003/presence", json={"action": "pause", "reason": "lunch"},
                              headers=h)
        entries = await auth.audit.entries(actor="north")
    assert (move.status_code, move.json()) == (403, {"error": "seat 1002 is not in your team 'north'"})
    assert pause.status_code == 403 and live.seats["1002"]["queues"] == ["sales"]
    assert own.status_code == 200 and (own.json()["presence"], own.json()["reason"]) == ("paused", "lunch")
    assert [(e.action, e.subject, e.detail) for e in entries if e.action != "login"] == [
        ("seat.presence", "seat:1003", {"action": "pause", "reason": "lunch"})]


async def test_listening_rings_the_leads_own_seat_and_is_audited(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, clock, _):
        http, csrf = await lead_client(auth, live, seat="1001")
        unseated, csrf2 = await lead_client(auth, live, "noseat")
        heard = await http.post("/api/monitor/calls/call-77/listen", headers={"X-CSRF-Token": csrf})
        gone = await http.post("/api/monitor/calls/call-0/listen", headers={"X-CSRF-Token": csrf})
        refused = await unseated.post("/api/monitor/calls/call-77/listen", headers={"X-CSRF-Token": csrf2})
        entries = await auth.audit.entries(action="call.listen")
    assert (heard.status_code, heard.json()) == (200, {"call": "call-77", "listener": "1001", "leg": "leg-1"})
    assert live.listens == [("call-77", "1001", "lead", clock.now)]
    assert (gone.status_code, gone.json()) == (404, {"error": "no live call 'call-0'"})
    assert refused.status_code == 409 and "no seat of your own" in refused.json()["error"]
    assert [(e.actor, e.subject, e.detail) for e in entries] == [("lead", "call:call-77", {"listener": "1001"})]


async def test_a_team_lead_cannot_listen_to_another_teams_call(tmp_path: Path) -> None:
    live = BoardFloor()
    live.seats["1002"].update(call="call-88", call_state="on-call")
    async with floor(tmp_path) as (auth, _, _):
        http, csrf = await lead_client(auth, live, "north", team="north", seat="1001")
        refused = await http.post("/api/monitor/calls/call-88/listen", headers={"X-CSRF-Token": csrf})
    assert (refused.status_code, refused.json()) == (403, {"error": "call call-88 is not on a seat of your team 'north'"})
    assert live.listens == []
