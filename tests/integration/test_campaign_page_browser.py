"""The campaigns page in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) on
the whole service, its ``[dialer] campaigns`` an empty directory. A team lead creates a campaign
in the JSON editor (a bad key first: the 422's lines show under the editor), imports a lead CSV
with a bad row (checked first, then imported), edits it and sees the change in its history,
stops it and deletes it; a QA user sees the same table without the buttons that change things,
and a team's lead sees them only on the campaigns of its team.

The campaign is a preview campaign: a preview campaign dials only when a seat asks, so nothing is
dialled and no carrier (SIPp) is needed.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Dialog, FilePayload, Page, expect

from callfloor.app import Running
from callfloor.web.auth import Auth, Role
from tests.integration.harness import CARRIER_HOST, floor, floor_settings, free_port
from tests.integration.test_api_campaigns import settings_for
from tests.integration.test_dialer_campaign import api
from tests.integration.test_monitor_browser import chromium, sign_in
from tests.unit.web.authkit import PASSWORD, add_user

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

CAMPAIGN: dict[str, Any] = {
    "id": "autumn", "name": "Autumn", "caller_id": "+12125550100", "mode": "preview", "seats": ["1001"],
    "windows": {"hours": ["mon-sun 00:00-24:00"], "holidays": "weekday"},
    "dispositions": [{"code": "sale", "label": "Sale", "kind": "conversion"},
                     {"code": "refused", "label": "Refused", "kind": "refusal"}],
}
CSV = b"number,name\n+442079460105,Ann\n12,Bob\n+442079460106,Cy\n"


def lead_count(service: Running) -> int:
    """The campaign's leads in the database file."""
    with sqlite3.connect(service.settings.storage.db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM leads WHERE campaign_id = 'autumn'").fetchone()[0])


async def signed_in(browser: Browser, service: Running, username: str) -> Page:
    assert service.http_address is not None
    host, port = service.http_address
    page = await (await browser.new_context()).new_page()
    await sign_in(page, f"http://{host}:{port}", username, PASSWORD, "campaigns")
    return page


async def create(page: Page) -> None:
    """The editor: a bad key first (its 422 lines show), then the campaign."""
    await page.get_by_test_id("new-campaign").click()
    editor = page.get_by_test_id("editor-json")
    await expect(editor).to_have_value(re.compile(r'"id": "new-campaign"'))
    await editor.fill(json.dumps({**CAMPAIGN, "target_abandon": 0.05, "grace": 3}))
    await page.get_by_test_id("editor-save").click()
    await expect(page.get_by_test_id("editor-errors").locator("li")).to_have_text([
        "body: target_abandon: at most 0.03 (the hard ceiling), got 0.05",
        "body: grace: at most 2 s (the 2-second rule), got 3.0"])
    await editor.fill(json.dumps(CAMPAIGN))
    await page.get_by_test_id("editor-save").click()
    await expect(page.get_by_test_id("editor")).to_be_hidden()
    await expect(page.get_by_test_id("campaign-autumn-source")).to_have_text("API")
    await expect(page.get_by_test_id("campaign-autumn-state")).to_have_text("Dialling")
    await expect(page.get_by_test_id("campaign-autumn-leads")).to_have_text("0")


async def import_leads(page: Page, service: Running) -> None:
    """Check only, then import: the bad row by its line and reason both times."""
    await page.get_by_test_id("campaign-autumn-import").click()
    upload: FilePayload = {"name": "autumn.csv", "mimeType": "text/csv", "buffer": CSV}
    await page.get_by_test_id("import-file").set_input_files(files=[upload])
    await page.get_by_test_id("import-check").click()
    summary = page.get_by_test_id("import-summary")
    await expect(summary).to_have_text("Checked 3 rows: 2 would be imported, 0 merged, 1 bad, 0 already there."
                                       " Nothing was written.")
    await expect(page.get_by_test_id("import-error-0")).to_have_text("line 3: bad number '12': too short for US")
    assert lead_count(service) == 0
    await page.get_by_test_id("import-run").click()
    await expect(summary).to_have_text("Imported 2 of 3 rows: 0 merged, 1 bad, 0 already there.")
    await expect(page.get_by_test_id("import-error-0")).to_have_text("line 3: bad number '12': too short for US")
    await expect(page.get_by_test_id("campaign-autumn-leads")).to_have_text("New 2")
    assert lead_count(service) == 2


async def edit(page: Page) -> None:
    """grace 1.5 in the editor; the history's newest version names grace."""
    await page.get_by_test_id("campaign-autumn-edit").click()
    editor = page.get_by_test_id("editor-json")
    await expect(editor).to_have_value(re.compile(r'"grace": 2'))
    keys = json.loads(await editor.input_value())
    assert "leads" not in keys and keys["id"] == "autumn"
    await editor.fill(json.dumps({**keys, "grace": 1.5}, indent=2))
    await page.get_by_test_id("editor-save").click()
    await expect(page.get_by_test_id("toast")).to_have_text("Campaign autumn saved")
    await page.get_by_test_id("campaign-autumn-history").click()
    await expect(page.get_by_test_id("version-0-change")).to_have_text("updated")
    await expect(page.get_by_test_id("version-0-changed")).to_have_text("changed: grace")
    await expect(page.get_by_test_id("version-1-change")).to_have_text("created")
    settings = page.get_by_test_id("version-0-settings")
    await expect(settings).to_be_hidden()
    await page.get_by_test_id("version-0-summary").click()
    await expect(settings).to_contain_text('"grace": 1.5')


async def test_a_lead_creates_fills_edits_stops_and_deletes_a_campaign(tmp_path: Path) -> None:
    async with floor(settings_for(tmp_path), http=True) as service, chromium() as browser:
        auth = Auth(service.store, service.settings.auth)
        await add_user(auth, "lead", Role.LEAD)
        await add_user(auth, "qa", Role.QA)
        page = await signed_in(browser, service, "lead")
        await expect(page.get_by_test_id("empty")).to_be_visible()
        await create(page)
        await import_leads(page, service)
        async with page.expect_download() as info:                  # the results file, as a client gets it
            await page.get_by_test_id("campaign-autumn-export").click()
        download = await info.value
        assert download.suggested_filename == "autumn-results.csv"
        results = Path(await download.path()).read_text("utf-8-sig").splitlines()
        assert results[0].startswith("lead_id,number,name,status,") and len(results) == 3
        assert all(",new,0," in line for line in results[1:])

        qa = await signed_in(browser, service, "qa")
        await expect(qa.get_by_test_id("campaign-autumn-leads")).to_have_text("New 2")
        await expect(qa.get_by_test_id("read-only")).to_be_visible()
        await expect(qa.get_by_test_id("new-campaign")).to_be_hidden()
        # the header links the pages each may open: QA has no monitor, the lead goes there and back
        await expect(qa.locator("header nav a")).to_have_text(["Campaigns", "Quality", "Daily QA summary", "Complaints"])
        await expect(qa.get_by_test_id("nav-campaigns")).to_have_attribute("aria-current", "page")
        await page.get_by_test_id("nav-monitor").click()
        await expect(page).to_have_url(re.compile(r"/monitor$"))
        await expect(page.locator("header nav a")).to_have_text(
            ["Monitor", "Campaigns", "Quality", "Daily QA summary", "Complaints"])
        await page.get_by_test_id("nav-campaigns").click()
        await expect(page.get_by_test_id("campaign-autumn-leads")).to_have_text("New 2")
        for button in ("toggle", "import", "edit", "delete"):
            await expect(qa.get_by_test_id(f"campaign-autumn-{button}")).to_have_count(0)
        await expect(qa.get_by_test_id("campaign-autumn-history")).to_be_visible()

        await edit(page)
        delete = page.get_by_test_id("campaign-autumn-delete")
        await expect(delete).to_be_disabled()  # dialling: stop it first
        await page.get_by_test_id("campaign-autumn-toggle").click()
        await expect(page.get_by_test_id("campaign-autumn-state")).to_have_text("Stopped")
        await expect(page.get_by_test_id("campaign-autumn-toggle")).to_have_text("Start")
        asked: list[str] = []

        async def accept(dialog: Dialog) -> None:
            asked.append(dialog.message)
            await dialog.accept()

        page.once("dialog", accept)
        await delete.click()
        await expect(page.get_by_test_id("campaign-autumn")).to_have_count(0)
        await expect(page.get_by_test_id("empty")).to_be_visible()
        assert asked == ["Delete campaign autumn? It stops for good; its leads, attempts and history are kept."]
        async with api(service) as client:
            versions = await client.get("/api/campaigns/autumn/versions")
        assert versions.status_code == 200
        assert [v["change"] for v in versions.json()["versions"]] == ["deleted", "stopped", "updated", "created"]
        assert lead_count(service) == 2


async def test_a_team_s_lead_gets_the_change_buttons_of_its_team_s_campaigns_only(tmp_path: Path) -> None:
    (tmp_path / "campaigns").mkdir()
    settings = floor_settings(
        tmp_path, trunk={"port": free_port(CARRIER_HOST)}, dialer={"campaigns": str(tmp_path / "campaigns")},
        teams=[{"id": "north"}, {"id": "south"}],
        seats=[{"id": "1001", "password": "secret1001", "team": "north"},
               {"id": "1002", "password": "secret1002", "team": "south"}])
    async with floor(settings, http=True) as service, chromium() as browser:
        async with api(service) as client:
            for ident, seat in (("autumn", "1001"), ("winter", "1002")):
                made = await client.post("/api/campaigns", json={**CAMPAIGN, "id": ident, "seats": [seat]})
                assert made.status_code == 201, made.text
        await add_user(Auth(service.store, service.settings.auth), "nora", Role.LEAD, team="north")
        page = await signed_in(browser, service, "nora")
        await expect(page.get_by_test_id("campaign-autumn-toggle")).to_be_visible()
        await expect(page.get_by_test_id("campaign-autumn-edit")).to_be_visible()
        for button in ("toggle", "import", "edit", "delete"):  # winter assigns a south seat
            await expect(page.get_by_test_id(f"campaign-winter-{button}")).to_have_count(0)
        await expect(page.get_by_test_id("campaign-winter-history")).to_be_visible()
