"""The seat page works the dialer in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright), on the whole service with a real dialer: a SIPp carrier answers, the seat's baresip
picks up by auto-answer, the campaign and its leads come over the HTTP API.

(a) A progressive call pops on the page; the agent books a callback for tomorrow 10:30 in the
    browser's own time zone, to itself: the ``callbacks`` row has that exact time. A time in the
    past is refused on the page and writes nothing.
(b) A preview campaign: "Next lead" shows the lead, "Skip" dials nothing, "Next lead" again (a
    reload shows the held lead again) and "Dial": the carrier gets one INVITE and the call pops
    on the page.
(c) A previewed lead dialled and not reached (busy): the page says so and is free for the next.
(d) A page reloaded while its previewed lead rings still says "Dialling", and then "Not reached"
    when the ring time runs out.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from callfloor.app import Running
from callfloor.web.auth import Auth, Role
from tests.integration.peers.waits import until
from tests.integration.test_api_campaigns import SEAT, attempts, seat_floor
from tests.integration.test_dialer_campaign import api, carrier, invited
from tests.integration.test_monitor_browser import chromium, sign_in
from tests.unit.web.authkit import PASSWORD, add_user

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ZONE = "Asia/Shanghai"  # the browser's zone: the agent types local times in it
NUMBER = "+442079460105"  # the carrier answers (last digit 5-9) and talks 3 s
WINDOWS = {"hours": ["mon-sun 00:00-24:00"], "holidays": "weekday"}
DISPOSITIONS = [{"code": "sale", "label": "Sale", "kind": "conversion"},
                {"code": "later", "label": "Call back", "kind": "callback"}]
POP_MS = 20000  # a dial, the carrier's answer and the seat's auto-answer


def campaign(ident: str, mode: str) -> dict[str, Any]:
    """An API campaign for the test's one seat."""
    return {"id": ident, "name": ident.title(), "caller_id": "+12125550100", "mode": mode, "max_attempts": 1,
            "ring_timeout": 3, "wrap_up": 1, "seats": [SEAT], "windows": WINDOWS,
            "script": "Hello {name}, about your {plan} plan.", "dispositions": DISPOSITIONS}


async def setup(service: Running, browser: Browser, body: dict[str, Any], name: str, *,
                number: str = NUMBER) -> Page:
    """The campaign and its one lead over the API, then the seat user's page, signed in."""
    async with api(service) as client:
        created = await client.post("/api/campaigns", json=body)
        assert created.status_code == 201, created.text
        csv = f"number,name,plan\n{number},{name},gold\n"
        leads = await client.post(f"/api/campaigns/{body['id']}/leads", content=csv,
                                  headers={"Content-Type": "text/csv"})
        assert (leads.status_code, leads.json()["inserted"]) == (200, 1), leads.text
    await add_user(Auth(service.store, service.settings.auth), "agent1", Role.SEAT, seat=SEAT)
    assert service.http_address is not None
    host, port = service.http_address
    page = await (await browser.new_context(timezone_id=ZONE)).new_page()
    await sign_in(page, f"http://{host}:{port}", "agent1", PASSWORD, "seat")
    return page


def rows(service: Running, sql: str) -> list[tuple[Any, ...]]:
    """A query on the database file."""
    with sqlite3.connect(service.settings.storage.db_path) as conn:
        return conn.execute(sql).fetchall()


def at_local(day: date, hour: int, minute: int) -> tuple[str, float]:
    """What the agent types into the datetime-local field, and the unix time it means."""
    moment = datetime.combine(day, clock_time(hour, minute), ZoneInfo(ZONE))
    return moment.strftime("%Y-%m-%dT%H:%M"), moment.timestamp()


async def test_the_seat_books_a_callback_for_the_time_it_types(tmp_path: Path) -> None:
    async with seat_floor(tmp_path) as f, chromium() as browser:
        service = f.service
        sipp = carrier(f, 1, timeout=60)
        page = await setup(service, browser, campaign("spring", "progressive"), "Li Lei")
        await page.get_by_test_id("seat-ready").click()             # progressive: one dial for the seat
        screen = page.get_by_test_id("screen")
        await expect(screen).to_have_attribute("data-kind", "call", timeout=POP_MS)
        await expect(page.get_by_test_id("screen-name")).to_have_text("Li Lei")
        await expect(page.get_by_test_id("screen-number")).to_have_text(NUMBER)
        await expect(page.get_by_test_id("screen-script")).to_have_text("Hello {name}, about your {plan} plan.")

        before = time.time()
        await page.get_by_test_id("disposition-later").click()      # a callback asks for its time first
        form = page.get_by_test_id("callback-form")
        await expect(form).to_be_visible()
        default = datetime.strptime(await page.get_by_test_id("callback-at").input_value(), "%Y-%m-%dT%H:%M")
        due_default = default.replace(tzinfo=ZoneInfo(ZONE)).timestamp()
        assert due_default % 900 == 0 and before + 3600 - 5 <= due_default <= time.time() + 3600 + 900
        assert await page.get_by_test_id("callback-to").input_value() == "seat"

        today = datetime.now(ZoneInfo(ZONE)).date()
        typed, _ = at_local(today - timedelta(days=1), 10, 30)
        await page.get_by_test_id("callback-at").fill(typed)
        await page.get_by_test_id("callback-save").click()
        toast = page.get_by_test_id("toast")
        await expect(toast).to_contain_text("is in the past: choose a later time for the callback.")
        await expect(toast).to_have_class("toast error")
        await expect(form).to_be_visible()
        assert rows(service, "SELECT count(*) FROM dispositions") == [(0,)]
        assert rows(service, "SELECT count(*) FROM callbacks") == [(0,)]

        typed, due = at_local(today + timedelta(days=1), 10, 30)
        await page.get_by_test_id("callback-at").fill(typed)
        await page.get_by_test_id("callback-to").select_option("seat")
        await page.get_by_test_id("disposition-note").fill("after the board meeting")
        await page.get_by_test_id("callback-save").click()
        await expect(toast).to_contain_text("Callback booked for")
        await expect(toast).to_contain_text("to you")
        await expect(form).to_be_hidden()

        result = await sipp                                          # the customer hangs up after 3 s
        assert result.returncode == 0, result.explain()
        await expect(page.get_by_test_id("screen-status")).to_have_text("Call ended")
        await until(lambda: attempts(service).get(NUMBER, ("",))[0] == "answered", "the attempt to close")
        assert invited(result) == [NUMBER]
        assert rows(service, "SELECT seat_id, due_at, state, created_by FROM callbacks") == [
            (SEAT, due, "pending", SEAT)]
        assert rows(service, "SELECT code, kind, note, seat_id FROM dispositions") == [
            ("later", "callback", "after the board meeting", SEAT)]
        # the call's end does not reschedule a lead its disposition decided
        assert rows(service, f"SELECT status, next_at, callback_seat FROM leads WHERE number = '{NUMBER}'") == [
            ("callback", due, SEAT)]


async def test_the_seat_previews_skips_and_dials_a_lead(tmp_path: Path) -> None:
    async with seat_floor(tmp_path) as f, chromium() as browser:
        service = f.service
        assert service.dialer is not None
        sipp = carrier(f, 1, timeout=60)
        page = await setup(service, browser, campaign("browse", "preview"), "Han Meimei")
        toast, screen = page.get_by_test_id("toast"), page.get_by_test_id("screen")
        await expect(screen).to_have_attribute("data-kind", "empty")

        await page.get_by_test_id("preview-next").click()            # logged out: refused, with the reason
        await expect(toast).to_contain_text(f"Refused: seat {SEAT} is not ready in a preview campaign")
        await page.get_by_test_id("seat-ready").click()
        await expect(page.get_by_test_id("my-seat")).to_have_attribute("data-state", "ready")

        await page.get_by_test_id("preview-next").click()
        await expect(screen).to_have_attribute("data-kind", "preview")
        await expect(page.get_by_test_id("screen-name")).to_have_text("Han Meimei")
        await expect(page.get_by_test_id("screen-number")).to_have_text(NUMBER)
        await expect(page.get_by_test_id("screen-attempts")).to_have_text("0")
        await expect(page.get_by_test_id("screen-script")).to_have_text("Hello {name}, about your {plan} plan.")
        await expect(screen).to_contain_text("plan: gold")
        await expect(page.get_by_test_id("disposition-sale")).to_have_count(0)  # no call to dispose of yet
        await expect(page.get_by_test_id("preview-next")).to_be_disabled()

        await page.get_by_test_id("preview-skip").click()
        await expect(screen).to_have_attribute("data-kind", "empty")
        await expect(toast).to_contain_text("Skipped: Han Meimei")
        await until(lambda: SEAT not in service.dialer.previews, "the seat to be given back")  # type: ignore[union-attr]
        assert attempts(service) == {}                                # nothing dialled

        await page.get_by_test_id("preview-next").click()             # the skipped lead is still due
        await expect(page.get_by_test_id("screen-name")).to_have_text("Han Meimei")
        await page.reload()                                           # a reload shows the held lead again
        await expect(screen).to_have_attribute("data-kind", "preview")
        await expect(page.get_by_test_id("screen-name")).to_have_text("Han Meimei")
        await page.get_by_test_id("preview-dial").click()
        await expect(page.get_by_test_id("screen-status")).to_have_text(
            f"Dialling {NUMBER}… your phone rings when the customer answers.")
        await expect(screen).to_have_attribute("data-kind", "call", timeout=POP_MS)
        await expect(page.get_by_test_id("screen-name")).to_have_text("Han Meimei")
        await expect(page.get_by_test_id("screen-attempts")).to_have_text("1")
        await expect(page.get_by_test_id("disposition-sale")).to_be_visible()

        result = await sipp
        assert result.returncode == 0, result.explain()
        assert invited(result) == [NUMBER]                            # one INVITE: the dial, not the skip
        await until(lambda: attempts(service).get(NUMBER, ("",))[0] == "answered", "the attempt to close")
        assert rows(service, "SELECT number, outcome, seat_id, mode FROM attempts") == [
            (NUMBER, "answered", SEAT, "preview")]


async def test_a_previewed_lead_not_reached_frees_the_seat_s_screen(tmp_path: Path) -> None:
    busy = "+442079460101"  # the carrier answers it 486 Busy Here
    async with seat_floor(tmp_path) as f, chromium() as browser:
        service = f.service
        assert service.dialer is not None
        sipp = carrier(f, 1, timeout=60)
        body = campaign("busy", "preview")
        page = await setup(service, browser, body, "Li Lei", number=busy)
        screen = page.get_by_test_id("screen")
        await page.get_by_test_id("seat-ready").click()
        await expect(page.get_by_test_id("my-seat")).to_have_attribute("data-state", "ready")
        await page.get_by_test_id("preview-next").click()
        await expect(page.get_by_test_id("screen-name")).to_have_text("Li Lei")
        await page.get_by_test_id("preview-dial").click()
        await expect(page.get_by_test_id("toast")).to_have_text("Not reached (busy): Li Lei", timeout=POP_MS)
        await expect(screen).to_have_attribute("data-kind", "empty")
        await expect(page.get_by_test_id("preview-next")).to_be_enabled()
        result = await sipp
        assert result.returncode == 0, result.explain()
        assert invited(result) == [busy]
        assert rows(service, "SELECT number, outcome, seat_id, mode FROM attempts") == [
            (busy, "busy", None, "preview")]


async def test_a_page_reloaded_while_its_preview_rings_still_shows_the_dial(tmp_path: Path) -> None:
    ringing = "+442079460104"  # the carrier rings it until callfloor gives up (CANCEL)
    async with seat_floor(tmp_path) as f, chromium() as browser:
        service = f.service
        assert service.dialer is not None
        sipp = carrier(f, 1, timeout=60)
        body = {**campaign("ringing", "preview"), "ring_timeout": 8}
        page = await setup(service, browser, body, "Wang Fang", number=ringing)
        screen, status = page.get_by_test_id("screen"), page.get_by_test_id("screen-status")
        await page.get_by_test_id("seat-ready").click()
        await expect(page.get_by_test_id("my-seat")).to_have_attribute("data-state", "ready")
        await page.get_by_test_id("preview-next").click()
        await page.get_by_test_id("preview-dial").click()
        dialling = f"Dialling {ringing}… your phone rings when the customer answers."
        await expect(status).to_have_text(dialling)
        await until(lambda: attempts(service).get(ringing, ("",))[0] == "dialing", "the dial to go out")
        await page.reload()                                           # while the customer's phone rings
        await expect(screen).to_have_attribute("data-kind", "preview")
        await expect(status).to_have_text(dialling)
        await expect(page.get_by_test_id("preview-dial")).to_be_disabled()
        await expect(page.get_by_test_id("preview-skip")).to_be_disabled()
        await expect(page.get_by_test_id("toast")).to_have_text("Not reached (no answer): Wang Fang",
                                                                timeout=POP_MS)
        await expect(screen).to_have_attribute("data-kind", "empty")
        result = await sipp
        assert result.returncode == 0, result.explain()
        assert invited(result) == [ringing]
        assert rows(service, "SELECT number, outcome, seat_id, mode FROM attempts") == [
            (ringing, "no_answer", None, "preview")]
