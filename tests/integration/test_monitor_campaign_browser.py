"""A team lead stops and starts a campaign from the live monitor, in headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright), on the whole service in this process: a campaign file
in a tmp campaigns directory, a trunk on a port nobody answers (it has no leads: nothing is
dialled). A second monitor, open in another browser, sees each change without a click.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from callfloor.settings import Settings
from callfloor.store.audit import AuditLog
from callfloor.web.auth import Auth, Role
from tests.integration.harness import CARRIER_HOST, floor, floor_settings, free_port
from tests.integration.test_monitor_browser import chromium, sign_in
from tests.unit.web.authkit import PASSWORD, add_user

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CAMPAIGN = """\
name = "Spring"
caller_id = "+12125550100"
mode = "predictive"
teams = ["north"]
"""


def settings_for(tmp_path: Path) -> Settings:
    """Seats 1001-1002 in team north, 1003-1004 in south; ``config/campaigns/spring.toml``."""
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "spring.toml").write_text(CAMPAIGN, encoding="utf-8")
    seats = [{"id": f"100{i}", "password": f"secret100{i}", "team": "north" if i < 3 else "south"}
             for i in range(1, 5)]
    return floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)}, seats=seats,
                          teams=[{"id": "north"}, {"id": "south"}],
                          dialer={"campaigns": str(campaigns)})


async def state_is(page: Page, state: str, text: str) -> None:
    tile = page.get_by_test_id("campaign-spring-state")
    await expect(tile).to_have_attribute("data-state", state)
    await expect(tile).to_have_text(text)


async def test_a_lead_stops_and_starts_a_campaign_from_the_monitor(tmp_path: Path) -> None:
    async with floor(settings_for(tmp_path), http=True) as service, chromium() as browser:
        assert service.http_address is not None
        host, port = service.http_address
        url = f"http://{host}:{port}"
        auth = Auth(service.store, service.settings.auth)
        await add_user(auth, "amy", Role.LEAD, team="north")
        await add_user(auth, "boss", Role.LEAD, lang="zh")

        lead = await (await browser.new_context()).new_page()
        other = await (await browser.new_context()).new_page()
        await sign_in(lead, url, "amy", PASSWORD)
        await sign_in(other, url, "boss", PASSWORD)
        await state_is(lead, "dialling", "Dialling")
        await expect(lead.get_by_test_id("campaign-spring-mode")).to_have_text("Predictive")
        await state_is(other, "dialling", "拨号中")
        await expect(other.get_by_test_id("campaign-spring-mode")).to_have_text("预测式")

        toggle = lead.get_by_test_id("campaign-spring-toggle")
        await expect(toggle).to_have_text("Stop dialling")
        await toggle.click()
        await state_is(lead, "stopped", "Stopped")
        await expect(toggle).to_have_text("Start dialling")
        await state_is(other, "stopped", "已停止")  # pushed, not clicked
        found = await lead.request.get(f"{url}/api/campaigns/spring")
        assert found.ok, await found.text()
        assert (await found.json())["campaign"]["active"] is False
        assert service.dialer is not None and service.dialer.runs["spring"].campaign.active is False

        await toggle.click()
        await state_is(lead, "dialling", "Dialling")
        await state_is(other, "dialling", "拨号中")
        found = await lead.request.get(f"{url}/api/campaigns/spring")
        assert (await found.json())["campaign"]["active"] is True

        entries = await AuditLog(service.store).entries(action="campaign.active")
        assert [(e.actor, e.subject, e.detail) for e in entries] == [
            ("amy", "campaign:spring", {"active": True, "source": "file"}),
            ("amy", "campaign:spring", {"active": False, "source": "file"}),
        ]
