"""The monitor in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

First against the LiveFloor contract over a dict board (the page on its own: live updates, the
seat menu, the reconnect after the server went away, the language switch); then against the
whole service, as issue 5 asks: a team lead logs in, sees a SIPp caller arrive in a queue on the
monitor, moves a seat, and sees the move take effect in the grid and in ``/api/seats``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from callfloor.store.audit import AuditEntry
from callfloor.web.auth import Role
from callfloor.web.dialer import dialer_routes
from callfloor.web.seat import own_seat_only
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
from tests.unit.web.authkit import PASSWORD, add_user, floor
from tests.unit.web.monitorkit import BoardFloor, build_app, idle_dialer, serving

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CHROMIUM = "/usr/bin/chromium"
LEAD_PASSWORD = "lead-password-1"


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian (Playwright's own browsers are not downloaded)."""
    require_binary("chromium")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, url: str, username: str, password: str, where: str = "monitor") -> None:
    """The login form, then the page (its event stream open)."""
    await page.goto(f"{url}/{where}")
    await expect(page).to_have_url(f"{url}/login?next=%2F{where}")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{url}/{where}")
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")


async def test_the_page_follows_the_floor_moves_a_seat_and_comes_back_after_a_drop(tmp_path: Path) -> None:
    live = BoardFloor()
    port = free_port()
    async with floor(tmp_path) as (auth, clock, _), chromium() as browser:
        await add_user(auth, "lead", Role.LEAD)
        app = build_app(auth, live, clock)
        page = await browser.new_page()
        async with serving(app, port=port) as url:
            await sign_in(page, url, "lead", PASSWORD)
            seat = page.get_by_test_id("seat-1003")
            await expect(seat).to_have_attribute("data-state", "talking")
            await expect(page.get_by_test_id("alerts")).to_contain_text("queue:support")
            await expect(page.get_by_test_id("decision-0")).to_contain_text(
                "the service level of queue support over 15 min is 62%, under 80%")
            clock_text = await page.get_by_test_id("seat-1001-clock").text_content()
            await expect(page.get_by_test_id("seat-1001-clock")).not_to_have_text(clock_text or "")  # it ticks

            live.push("seat", "1003", {**live.seats["1003"], "call_state": "idle", "presence": "wrap-up"})
            await expect(seat).to_have_attribute("data-state", "wrap-up")
            live.push("queue", "support", {**live.queues["support"], "waiting": 2, "longest_wait_s": 12.0,
                                           "at": clock.now})
            await expect(page.get_by_test_id("queue-support-waiting")).to_have_text("2")

            await page.get_by_test_id("seat-1001").click()
            await page.get_by_test_id("menu-move-target").select_option("campaign:demo")
            await page.get_by_test_id("menu-move").click()
            await expect(page.get_by_test_id("seat-1001-queues")).to_have_text("Campaign demo")
            await page.get_by_test_id("seat-1002").click()
            await page.get_by_test_id("menu-pause-reason").select_option("lunch")
            await page.get_by_test_id("menu-pause").click()
            await expect(page.get_by_test_id("seat-1002")).to_have_attribute("data-state", "paused")
            await expect(page.get_by_test_id("seat-1002-state")).to_have_text("Paused · Lunch")
        await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "lost")
        async with serving(app, port=port):  # the server is back: the page reconnects by itself
            await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
            live.push("seat", "1001", {**live.seats["1001"], "call_state": "ringing"})
            await expect(page.get_by_test_id("seat-1001")).to_have_attribute("data-state", "ringing")
            await page.get_by_test_id("lang").select_option("zh")
            await expect(page.get_by_test_id("seat-1002-state")).to_have_text("小休/示忙 · 午餐")
    moves = [(e.actor, e.subject, e.detail) for e in await auth_entries(tmp_path)]
    assert moves == [("lead", "seat:1001", {"target": "campaign:demo"}),
                     ("lead", "seat:1002", {"action": "pause", "reason": "lunch"})]


async def auth_entries(tmp_path: Path) -> list[AuditEntry]:
    """The seat actions in the audit log of the test's database."""
    async with floor(tmp_path) as (auth, _, _):
        entries = await auth.audit.entries()
    return [e for e in reversed(entries) if e.action.startswith("seat.")]


async def test_the_seat_page_shows_its_state_and_pops_the_dialers_screen(tmp_path: Path) -> None:
    live, dialer = BoardFloor(), idle_dialer()
    async with floor(tmp_path) as (auth, clock, _), chromium() as browser:
        await add_user(auth, "agent1", Role.SEAT, seat="1001", lang="zh")
        app = build_app(auth, live, clock, extra=own_seat_only(dialer_routes(dialer, clock)), dialer=dialer)
        page = await browser.new_page()
        async with serving(app) as url:
            await sign_in(page, url, "agent1", PASSWORD, "seat")
            await expect(page.get_by_test_id("my-seat")).to_have_attribute("data-state", "ready")
            await page.get_by_test_id("seat-pause-reason").select_option("training")
            await page.get_by_test_id("seat-pause").click()
            await expect(page.get_by_test_id("my-seat")).to_have_attribute("data-state", "paused")
            await expect(page.get_by_test_id("my-seat-state")).to_have_text("小休/示忙 · 培训")
            dialer.notify("1001", {"event": "call", "call": "c-1", "campaign": "demo", "campaign_name": "Renewals",
                                   "script": "您好，我是……", "lead": {"name": "李雷", "number": "+8613800000000",
                                                                    "attempts": 1, "data": {"plan": "gold"}},
                                   "dispositions": [{"code": "sale", "label": "成交", "kind": "success"}]})
            await expect(page.get_by_test_id("screen-name")).to_have_text("李雷")
            await expect(page.get_by_test_id("screen-script")).to_have_text("您好，我是……")
            # The idle dialer has no attempt to dispose of: its refusal reaches the seat's screen.
            await page.get_by_test_id("disposition-sale").click()
            await expect(page.get_by_test_id("toast")).to_contain_text("seat 1001 has no dialer call to dispose of")
    assert live.seats["1001"]["presence"] == "paused" and live.seats["1001"]["reason"] == "training"


# -- the whole service ---------------------------------------------------------------------------
def service_config(tmp_path: Path, sip_port: int, http_port: int, carrier_port: int) -> Path:
    """The demo IVR floor: seats 1001-1004 in support and sales, logged out at start."""
    rtp = 20000 + (os.getpid() % 50) * 200
    seats = "".join(f'[[seats]]\nid = "100{i}"\npassword = "secret100{i}"\nqueues = ["support", "sales"]\n'
                    f'team = "{"north" if i < 3 else "south"}"\n' for i in range(1, 5))
    path = tmp_path / "callfloor.toml"
    path.write_text(f"""
[sip]
listen = "127.0.0.1:{sip_port}"
auth_algorithms = ["MD5"]
[[teams]]
id = "north"
[[teams]]
id = "south"
{seats}
[[queues]]
name = "support"
ring_timeout = 6
wrap_up = 1
[[queues]]
name = "sales"
ring_timeout = 6
wrap_up = 1
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


async def add_lead(config: Path) -> None:
    """``callfloor user add lead --role lead --password-stdin``, as an admin would."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callfloor.cli", "user", "add", "lead", "--role", "lead", "--name", "Lead",
        "--password-stdin", "--config", str(config), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(f"{LEAD_PASSWORD}\n".encode()), 30)
    assert proc.returncode == 0, out.decode()


async def until_http(url: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/health")).status_code == 200:
                    return
            assert loop.time() < deadline, "the HTTP server did not come up"
            await asyncio.sleep(0.1)


async def test_a_lead_sees_a_call_arrive_and_moves_a_seat_on_the_running_service(tmp_path: Path) -> None:
    require_binary("sipp")
    sip_port, http_port, carrier_port = free_port(), free_port(), free_port(CARRIER_HOST)
    config = service_config(tmp_path, sip_port, http_port, carrier_port)
    url = f"http://127.0.0.1:{http_port}"
    await add_lead(config)
    service = await start_service(config, tmp_path / "callfloor.log")
    caller: asyncio.Task[SippResult] | None = None
    try:
        await until_http(url)
        async with chromium() as browser:
            page = await browser.new_page()
            await sign_in(page, url, "lead", LEAD_PASSWORD)
            await expect(page.get_by_test_id("seat-1002")).to_have_attribute("data-state", "logged-out")
            await expect(page.get_by_test_id("queue-support-waiting")).to_have_text("0")
            # A customer calls the demo line and presses 2: no seat is ready, so it waits in support.
            work = tmp_path / "caller"
            work.mkdir()
            caller = asyncio.create_task(run_sipp(
                ["-sf", str(SIPP_DIR / "floor_caller_2833.xml"), f"127.0.0.1:{sip_port}", "-s", "+15550100",
                 "-i", CARRIER_HOST, "-p", str(free_port(CARRIER_HOST)), "-m", "1",
                 "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True))], work, timeout=40))
            await expect(page.get_by_test_id("queue-support-waiting")).to_have_text("1", timeout=15000)

            await page.get_by_test_id("seat-1002").click()
            await page.get_by_test_id("menu-move-target").select_option("queue:sales")
            await page.get_by_test_id("menu-move").click()
            await expect(page.get_by_test_id("seat-1002-queues")).to_have_text("sales")
            seats = await page.request.get(f"{url}/api/seats")
            assert seats.ok, await seats.text()
            row = next(s for s in await seats.json() if s["id"] == "1002")
            assert row["queues"] == ["sales"]
            # The caller gives up (its scenario hangs up): the queue is empty again, one abandoned.
            result = await caller
            assert result.returncode == 0, result.explain()
            await expect(page.get_by_test_id("queue-support-waiting")).to_have_text("0")
    finally:
        if caller is not None and not caller.done():
            caller.cancel()
        service.send_signal(signal.SIGTERM)
        await asyncio.wait_for(service.wait(), 30)
