"""The queue-watcher in the running service: a SIPp caller waits in support with no seat there,
the watcher lends the campaign's ready seat to support, explains the move in the event log, the
audit log and the monitor's decisions, and gives the seat back once support has been healthy."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    SippResult,
    free_port,
    require_binary,
    run_sipp,
    start_service,
)
from tests.integration.peers.floor import DEMO_FLOWS
from tests.integration.test_monitor_browser import add_lead, chromium, sign_in, until_http

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

LEAD_PASSWORD = "lead-password-1"


def service_config(tmp_path: Path, sip_port: int, http_port: int, carrier_port: int) -> Path:
    """Seats 1001-1002 in support (logged out), 1003 in campaign "out" with the support skill."""
    rtp = 20000 + (os.getpid() % 50) * 200
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "out.toml").write_text('name = "Outbound"\ncaller_id = "+442079460000"\nseats = ["1003"]\n'
                                        'mode = "progressive"\n')
    policy = tmp_path / "watcher.toml"
    policy.write_text("""
mode = "rules"
min_dwell_s = 2
max_moves_per_minute = 6
[[queue]]
queue = "support"
lend_from = ["out"]
lend_step = 1
step_every_s = 1
trigger_sl = false
trigger_longest_wait_s = 3
recover_sl = 0.0
recover_longest_wait_s = 1
healthy_for_s = 3
""")
    seats = "".join(f'[[seats]]\nid = "100{i}"\npassword = "secret100{i}"\nqueues = ["support", "sales"]\n'
                    for i in (1, 2))
    path = tmp_path / "callfloor.toml"
    path.write_text(f"""
[sip]
listen = "127.0.0.1:{sip_port}"
auth_algorithms = ["MD5"]
{seats}
[[seats]]
id = "1003"
password = "secret1003"
skills = {{ support = 1 }}
[[queues]]
name = "support"
ring_timeout = 6
[[queues]]
name = "sales"
ring_timeout = 6
[[queues]]
name = "vip"
ring_timeout = 6
[ivr]
flows = "{DEMO_FLOWS}"
[trunk]
host = "{CARRIER_HOST}"
port = {carrier_port}
allow = ["{CARRIER_HOST}/32"]
did = ["+15550100"]
[dialer]
campaigns = "{campaigns}"
[monitor]
watcher = "{policy}"
watcher_every = 0.5
[storage]
data_dir = "{tmp_path / 'data'}"
[http]
listen = "127.0.0.1:{http_port}"
[rtp]
ports = "{rtp}-{rtp + 199}"
[bus]
embedded_listen = "127.0.0.1:{free_port()}"
""")
    return path


async def seat_queues(http: httpx.AsyncClient, seat: str) -> list[str]:
    rows = (await http.get("/api/seats")).json()
    return list(next(r for r in rows if r["id"] == seat)["queues"])


async def until_queues(http: httpx.AsyncClient, seat: str, wanted: list[str], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (queues := await seat_queues(http, seat)) != wanted:
        assert loop.time() < deadline, f"seat {seat} serves {queues}, not {wanted}"
        await asyncio.sleep(0.2)


def membership_events(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT data FROM events WHERE kind = 'seat.membership' ORDER BY id").fetchall()
    return [json.loads(r[0]) for r in rows]


def watcher_audit(db: Path) -> list[tuple[str, str, dict[str, Any]]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT actor, subject, detail FROM audit_log WHERE action = 'seat.move'"
                            " ORDER BY id").fetchall()
    return [(a, s, json.loads(d)) for a, s, d in rows]


async def test_the_watcher_lends_a_campaign_seat_to_a_queue_in_trouble_and_gives_it_back(tmp_path: Path) -> None:
    require_binary("sipp")
    sip_port, http_port, carrier_port = free_port(), free_port(), free_port(CARRIER_HOST)
    config = service_config(tmp_path, sip_port, http_port, carrier_port)
    await add_lead(config)
    service = await start_service(config, tmp_path / "callfloor.log")
    caller: asyncio.Task[SippResult] | None = None
    db = tmp_path / "data" / "callfloor.db"
    try:
        await until_http(f"http://127.0.0.1:{http_port}")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=5) as http:
            assert await seat_queues(http, "1003") == ["campaign-out"]
            ready = await http.post("/api/seats/1003/presence", json={"action": "ready"})
            assert ready.status_code == 200, ready.text
            # A customer presses 2 for support, where no seat is logged in: the wait grows.
            work = tmp_path / "caller"
            work.mkdir()
            caller = asyncio.create_task(run_sipp(
                ["-sf", str(SIPP_DIR / "floor_caller_2833.xml"), f"127.0.0.1:{sip_port}", "-s", "+15550100",
                 "-i", CARRIER_HOST, "-p", str(free_port(CARRIER_HOST)), "-m", "1",
                 "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True))], work, timeout=40))
            await until_queues(http, "1003", ["support"], timeout=12)
            lent = [e for e in membership_events(db) if e["by"] == "watcher"]
            assert [(e["seat"], e["queues"]) for e in lent] == [("1003", ["support"])]
            [(actor, subject, detail)] = watcher_audit(db)
            assert (actor, subject) == ("watcher", "seat:1003")
            assert (detail["source"], detail["target"], detail["kind"]) == ("campaign:out", "queue:support", "lend")
            assert detail["numbers"]["longest_wait_s"] > 3 and "longest wait" in detail["text"]

            login = await http.post("/login", json={"username": "lead", "password": LEAD_PASSWORD})
            assert login.status_code == 200, login.text
            decisions = (await http.get("/api/monitor/decisions")).json()
            assert any(d["seat"] == "1003" and d["kind"] == "lend" for d in decisions), decisions
            # The monitor explains it, in the lead's language.
            async with chromium() as browser:
                page = await browser.new_page()
                await sign_in(page, f"http://127.0.0.1:{http_port}", "lead", LEAD_PASSWORD)
                decision = page.get_by_test_id("decision-0")
                await expect(decision).to_contain_text("1003 campaign:out → queue:support")
                await expect(decision).to_contain_text("the longest wait in queue support is")
                await page.get_by_test_id("lang").select_option("zh")
                await expect(page.get_by_test_id("decision-0")).to_contain_text("队列 support 最长等待")

            # The caller hangs up; support is healthy again, and after healthy_for_s the seat goes home.
            result = await caller
            assert result.returncode == 0, result.explain()
            await until_queues(http, "1003", ["campaign-out"], timeout=20)
            moves = watcher_audit(db)
            assert [(d["target"], d["kind"]) for _, _, d in moves] == [("queue:support", "lend"),
                                                                       ("campaign:out", "return")]
    finally:
        if caller is not None and not caller.done():
            caller.cancel()
        service.send_signal(signal.SIGTERM)
        await asyncio.wait_for(service.wait(), 30)
