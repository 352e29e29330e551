"""The monitor's event stream over a real HTTP server on 127.0.0.1: the board first, then each
change (a lead's own move included), team scope, the heartbeat, and no subscriber left behind
once the page goes away."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import callfloor.web.monitor as monitor
from callfloor.web.auth import Auth, Role
from tests.unit.web.authkit import PASSWORD, add_user, floor
from tests.unit.web.monitorkit import BoardFloor, build_app, next_event, serving


@contextlib.asynccontextmanager
async def logged_in(url: str, auth: Auth, username: str,
                    **fields: object) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client of the server, logged in as a new user, and its CSRF token."""
    await add_user(auth, username, **fields)  # type: ignore[arg-type]
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        answer = await http.post("/login", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield http, answer.json()["csrf_token"]


async def until_unsubscribed(live: BoardFloor) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while live.subscribers:
        assert loop.time() < deadline, "the stream's subscription outlived the page"
        await asyncio.sleep(0.02)


async def test_the_stream_sends_the_board_then_each_change_and_unsubscribes_on_close(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, clock, _), serving(build_app(auth, live, clock)) as url:
        async with (logged_in(url, auth, "lead", role=Role.LEAD) as (http, csrf),
                    http.stream("GET", "/monitor/events") as stream):
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            kind, board = await next_event(lines)
            assert kind == "board"
            assert (sorted(board["seats"]), board["at"]) == (["1001", "1002", "1003"], clock.now)
            assert [a["id"] for a in board["alerts"]] == ["sl:support"]
            assert board["decisions"][0]["key"] == "watcher.lend.service_level"
            assert len(live.subscribers) == 1

            live.push("queue", "support", {"id": "support", "waiting": 1, "longest_wait_s": 0.0})
            assert await next_event(lines) == ("queue", {"type": "queue", "id": "support", "data": {
                "id": "support", "waiting": 1, "longest_wait_s": 0.0}})

            moved = await http.post("/api/monitor/seats/1002/move", json={"target": "queue:support"},
                                    headers={"X-CSRF-Token": csrf})
            assert moved.status_code == 200
            kind, item = await next_event(lines)
            assert (kind, item["id"], item["data"]["queues"]) == ("seat", "1002", ["support"])
        await until_unsubscribed(live)


async def test_a_team_leads_stream_leaves_out_other_teams_seats(tmp_path: Path) -> None:
    live = BoardFloor()
    async with floor(tmp_path) as (auth, clock, _), serving(build_app(auth, live, clock)) as url:
        async with (logged_in(url, auth, "north", role=Role.LEAD, team="north") as (http, _),
                    http.stream("GET", "/monitor/events") as stream):
            lines = stream.aiter_lines()
            kind, board = await next_event(lines)
            assert (kind, sorted(board["seats"])) == ("board", ["1001", "1003"])
            live.push("seat", "1002", live.seats["1002"])   # south: not sent
            live.push("seat", "1001", live.seats["1001"])
            kind, item = await next_event(lines)
            assert (kind, item["id"]) == ("seat", "1001")
        await until_unsubscribed(live)


async def test_a_quiet_stream_sends_a_heartbeat_comment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor, "HEARTBEAT", 0.05)
    live = BoardFloor()
    async with floor(tmp_path) as (auth, clock, _), serving(build_app(auth, live, clock)) as url:
        async with (logged_in(url, auth, "lead", role=Role.LEAD) as (http, _),
                    http.stream("GET", "/monitor/events") as stream):
            lines = stream.aiter_lines()
            assert (await next_event(lines))[0] == "board"
            assert await next_event(lines) == ("comment", "keepalive")
            live.push("campaign", "demo", {"id": "demo", "dials": 3})
            assert await next_event(lines) == ("campaign", {"type": "campaign", "id": "demo",
                                                            "data": {"id": "demo", "dials": 3}})
        await until_unsubscribed(live)
