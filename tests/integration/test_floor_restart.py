"""The live board across a kill -9: today's queue figures come back from the event log, the seat
the crash left logged in is logged out (in the board, as the ACD sees it, and in the event log so
the reports end its logged-in time there), and ``floor.started`` marks the restart."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    free_port,
    require_binary,
    run_sipp,
    start_service,
)
from tests.integration.test_monitor_browser import (
    LEAD_PASSWORD,
    add_lead,
    service_config,
    until_http,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def events(db: Path, kind: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT data FROM events WHERE kind = ? ORDER BY id", (kind,)).fetchall()
    return [json.loads(r[0]) for r in rows]


async def board(http: httpx.AsyncClient) -> dict[str, Any]:
    login = await http.post("/login", json={"username": "lead", "password": LEAD_PASSWORD})
    assert login.status_code == 200, login.text
    response = await http.get("/api/monitor/board")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_the_board_survives_a_kill_and_the_crash_logs_seats_out(tmp_path: Path) -> None:
    require_binary("sipp")
    sip_port, http_port, carrier_port = free_port(), free_port(), free_port(CARRIER_HOST)
    config = service_config(tmp_path, sip_port, http_port, carrier_port)
    url = f"http://127.0.0.1:{http_port}"
    db = tmp_path / "data" / "callfloor.db"
    await add_lead(config)
    service = await start_service(config, tmp_path / "callfloor.log")
    try:
        await until_http(url)
        async with httpx.AsyncClient(base_url=url, timeout=5) as http:
            ready = await http.post("/api/seats/1001/presence", json={"action": "pause", "reason": "training"})
            assert ready.status_code == 200, ready.text
            # A customer waits in support (no seat is ready there) and hangs up after ~14 s.
            work = tmp_path / "caller"
            work.mkdir()
            result = await run_sipp(
                ["-sf", str(SIPP_DIR / "floor_caller_2833.xml"), f"127.0.0.1:{sip_port}", "-s", "+15550100",
                 "-i", CARRIER_HOST, "-p", str(free_port(CARRIER_HOST)), "-m", "1",
                 "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True))], work, timeout=40)
            assert result.returncode == 0, result.explain()
            before = await board(http)
            assert before["seats"]["1001"]["presence"] == "paused"
            support = before["queues"]["support"]
            assert (support["offered"], support["abandoned"]) == (1, 1)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while not events(db, "queue.abandoned"):  # the event log is written behind the calls
                assert loop.time() < deadline, "queue.abandoned never reached the event log"
                await asyncio.sleep(0.1)
        service.kill()
        await service.wait()
        paused_at = events(db, "seat.state")[-1]
        assert paused_at["presence"] == "paused"

        service = await start_service(config, tmp_path / "callfloor.log")
        await until_http(url)
        async with httpx.AsyncClient(base_url=url, timeout=5) as http:
            after = await board(http)
        seat = after["seats"]["1001"]
        assert (seat["presence"], seat["reason"], seat["queues"]) == ("logged-out", None, ["sales", "support"])
        support = after["queues"]["support"]
        assert (support["offered"], support["abandoned"], support["waiting"]) == (1, 1, 0)
        restart = [e for e in events(db, "seat.state") if e["by"] == "restart"]
        assert [(e["seat"], e["previous_presence"], e["previous_reason"], e["since"]) for e in restart] == [
            ("1001", "paused", "training", paused_at["ts"])]
        first, started = events(db, "floor.started")  # one per start
        assert first["replayed"] == 0
        assert started["replayed"] >= 3 and started["ts"] >= restart[0]["ts"]
    finally:
        if service.returncode is None:
            service.send_signal(signal.SIGTERM)
            await asyncio.wait_for(service.wait(), 30)
