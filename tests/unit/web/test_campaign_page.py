"""The campaigns page (``callfloor/web/campaignpage.py``) in the service's own app (``build_app``
on the real dialer wiring, no sockets): who gets the page and what its boot data says, the
example it starts a new campaign from, the lead counts and the import report it shows, and the
words and controls of its HTML and JavaScript."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from callfloor.campaignadmin import CampaignAdmin
from callfloor.web.auth import Auth, Role
from callfloor.web.campaignpage import example_campaign
from callfloor.web.i18n import load_catalogs
from callfloor.web.monitor import NAV, STATIC
from callfloor.web.passwords import Passwords
from callfloor.web.server import build_app
from dialer.campaign import Campaign, parse_campaign
from tests.unit.web.authkit import FAST, add_user, login
from tests.unit.web.monitorkit import DialerFloor, dialer_floor, dialer_settings

CALLER = "+12125550100"
CSV = b"number,name\n+442079460105,Ann\n12,Bob\n+442079460106,Cy\n+44 20 7946 0105,Ann again\n"
BAD_ROW = {"line": 3, "reason": "bad number '12': too short for US"}  # [dialer] default_region US
HTML = {"Accept": "text/html"}


def app_of(f: DialerFloor, campaigns: CampaignAdmin | None) -> Starlette:
    return build_app(f.settings, f.store, f.runtime.server, f.board, f.runtime, live=f.live, campaigns=campaigns)


def remote(app: Starlette) -> httpx.AsyncClient:
    """A client from another machine: it has to log in."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.0.0.9", 40000)),
                             base_url="http://testserver")


async def signed_in(app: Starlette, auth: Auth, name: str, role: Role, seat: str | None = None) -> httpx.AsyncClient:
    await add_user(auth, name, role, seat=seat)
    http = remote(app)
    answer = await login(http, name)
    assert answer.status_code == 200, answer.text
    http.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return http


def boot_of(page: httpx.Response) -> dict[str, Any]:
    found = re.search(r'<script id="boot" type="application/json">(.*?)</script>', page.text, re.S)
    assert found is not None, page.text[:200]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


async def test_leads_and_admins_may_change_qa_only_looks_a_seat_and_a_stranger_are_refused(tmp_path: Path) -> None:
    async with dialer_floor(dialer_settings(tmp_path)) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        app = app_of(f, f.admin)
        users = {"lead": Role.LEAD, "root": Role.ADMIN, "qa": Role.QA}
        pages = {name: await (await signed_in(app, auth, name, role)).get("/campaigns", headers=HTML)
                 for name, role in users.items()}
        seat = await (await signed_in(app, auth, "s1", Role.SEAT, seat="1001")).get("/campaigns", headers=HTML)
        async with remote(app) as stranger:
            browser = await stranger.get("/campaigns", headers=HTML)
            script = await stranger.get("/campaigns")
        assets = [(await remote(app).get(p)).headers["content-type"].split(";")[0]
                  for p in ("/campaigns/campaigns.js", "/campaigns/pages.js", "/campaigns/campaigns.css")]
    assert {name: (p.status_code, boot_of(p)["may_change"], boot_of(p)["user"]["role"]) for name, p in pages.items()} == {
        "lead": (200, True, "lead"), "root": (200, True, "admin"), "qa": (200, False, "qa")}
    boot = boot_of(pages["lead"])
    assert (boot["seats"], boot["teams"], boot["catalog"]["campaigns.title"]) == (
        ["1001", "1002", "1003"], ["north", "south"], "Campaigns")
    assert boot["csrf"] and "/campaigns/campaigns.js" in pages["lead"].text
    assert seat.status_code == 403
    assert (browser.status_code, browser.headers["location"]) == (303, "/login?next=%2Fcampaigns")
    assert (script.status_code, script.json()["code"]) == (401, "login_required")
    assert assets == ["text/javascript", "text/javascript", "text/css"]


async def test_there_is_no_page_without_the_campaign_admin(tmp_path: Path) -> None:
    async with dialer_floor(dialer_settings(tmp_path)) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        lead = await signed_in(app_of(f, None), auth, "lead", Role.LEAD)
        assert (await lead.get("/campaigns", headers=HTML)).status_code == 404


async def test_the_example_is_a_valid_stopped_campaign_of_this_floor(tmp_path: Path) -> None:
    settings = dialer_settings(tmp_path)
    example = example_campaign(settings)
    campaign = parse_campaign(example, "body", seats=[s.id for s in settings.seats], teams=[t.id for t in settings.teams])
    assert (campaign.id, campaign.active, campaign.teams, campaign.caller_id) == ("new-campaign", False, ("north",), CALLER)
    assert [d.code for d in campaign.dispositions] == ["sale", "refused", "callback"]
    seats_only = dialer_settings(tmp_path, teams=[], seats=[{"id": "2001", "password": "p"}])
    assert example_campaign(seats_only)["seats"] == ["2001"] and "teams" not in example_campaign(seats_only)
    async with dialer_floor(settings) as f:
        lead = await signed_in(app_of(f, f.admin), Auth(f.store, passwords=Passwords(FAST)), "lead", Role.LEAD)
        created = await lead.post("/api/campaigns", json=example)
        assert created.status_code == 201, created.text
        assert f.runtime.runs["new-campaign"].campaign.active is False


async def test_the_import_report_names_bad_and_merged_rows_and_the_counts_follow(tmp_path: Path) -> None:
    async with dialer_floor(dialer_settings(tmp_path), [Campaign(id="spring", caller_id=CALLER, seats=("1001",))]) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        app = app_of(f, f.admin)
        lead, qa = await signed_in(app, auth, "lead", Role.LEAD), await signed_in(app, auth, "qa", Role.QA)
        seat = await signed_in(app, auth, "s1", Role.SEAT, seat="1001")
        csv = {"Content-Type": "text/csv"}
        checked = await lead.post("/api/campaigns/spring/leads?dry_run=1", content=CSV, headers=csv)
        before = (await qa.get("/api/campaigns/spring/leads")).json()
        imported = await lead.post("/api/campaigns/spring/leads", content=CSV, headers=csv)
        again = await lead.post("/api/campaigns/spring/leads?dry_run=1", content=b"number\n+442079460106\n", headers=csv)
        after = (await qa.get("/api/campaigns/spring/leads")).json()
        refused = {"qa": (await qa.post("/api/campaigns/spring/leads", content=CSV, headers=csv)).status_code,
                   "seat": (await seat.get("/api/campaigns/spring/leads")).status_code,
                   "unknown": (await lead.get("/api/campaigns/nope/leads")).status_code,
                   "unknown import": (await lead.post("/api/campaigns/nope/leads", content=CSV, headers=csv)).status_code,
                   "not utf-8": (await lead.post("/api/campaigns/spring/leads", content="number\n\u4e2d".encode("gb18030"),
                                                 headers=csv)).status_code,
                   "forged": (await remote(app).post("/api/campaigns/spring/leads", content=CSV, headers=csv)).status_code}
        [entry] = await f.audit.entries(action="campaign.leads")
    report = {"rows": 4, "leads": 2, "inserted": 2, "held": 0, "on_dnc": 0, "refused": False, "existing": [],
              "merged": [{"line": 5, "into": 2, "number": "+442079460105"}], "errors": [BAD_ROW]}
    assert checked.json() == {"dry_run": True, **report}
    assert before == {"campaign": "spring", "leads": {}, "total": 0}
    assert imported.json() == {"dry_run": False, **report}
    assert again.json()["existing"] == [{"line": 2, "number": "+442079460106"}] and again.json()["inserted"] == 0
    assert after == {"campaign": "spring", "leads": {"new": 2}, "total": 2}
    assert refused == {"qa": 403, "seat": 403, "unknown": 404, "unknown import": 404, "not utf-8": 400, "forged": 401}
    assert (entry.actor, entry.subject, entry.detail) == (
        "lead", "campaign:spring", {"rows": 4, "inserted": 2, "bad": 1, "refused": False})


async def test_the_import_route_is_open_on_loopback_as_the_rest_of_the_api(tmp_path: Path) -> None:
    async with dialer_floor(dialer_settings(tmp_path), [Campaign(id="spring", caller_id=CALLER, seats=("1001",))]) as f:
        app = app_of(f, f.admin)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)),
                                     base_url="http://testserver") as local:
            imported = await local.post("/api/campaigns/spring/leads", content=CSV, headers={"Content-Type": "text/csv"})
            cross_site = await local.post("/api/campaigns/spring/leads", content=CSV, headers={"Content-Type": "text/plain"})
            counts = await local.get("/api/campaigns/spring/leads")
        [entry] = await f.audit.entries(action="campaign.leads")
    assert (imported.status_code, imported.json()["inserted"], cross_site.status_code) == (200, 2, 415)
    assert counts.json()["total"] == 2
    assert entry.actor == "api:127.0.0.1"


def test_every_word_and_control_the_page_uses_exists() -> None:
    script, html = (STATIC / "campaigns.js").read_text(encoding="utf-8"), (STATIC / "campaigns.html").read_text(encoding="utf-8")
    used = set(re.findall(r'"((?:campaigns|monitor|action|nav)\.[a-z_.-]+)"', script + html))
    families = {"campaigns.status": ["new", "retry", "callback", "held", "done", "dnc"],
                "campaigns.source": ["file", "api"], "campaigns.state": ["dialling", "stopped"],
                "monitor.mode": ["preview", "progressive", "predictive"],
                "campaigns.change": ["created", "updated", "stopped", "started", "deleted", "file-took-over",
                                     "file-removed", "existing"]}
    # word(family, value) names a family; each of its values must be there
    used = (used - set(families)) | {f"{family}.{value}" for family, values in families.items() for value in values}
    found = load_catalogs()
    assert {lang: sorted(used - set(found[lang])) for lang in ("en", "zh")} == {"en": [], "zh": []}
    assert {"campaigns.report.bad_row", "campaigns.confirm_delete", "campaigns.action.delete"} <= used
    testids = (set(re.findall(r'data-testid="([a-z-]+)"', html)) | set(re.findall(r'`\$\{tid\}-([a-z-]+)`', script))
               | set(re.findall(r'button\("([a-z-]+)"', script)))  # a row's buttons: campaign-<id>-<name>
    assert {"new-campaign", "editor-json", "editor-errors", "editor-save", "import-file", "import-check",
            "import-run", "import-report", "versions", "read-only", "toggle", "edit", "delete", "import",
            "history", "file-note"} <= testids
    assert "innerHTML" not in script  # everything inserted goes through el() and textContent
    # every page's header links here for leads and QA (test_page_header.py checks the header)
    assert ("/campaigns", "nav-campaigns", "nav.campaigns", frozenset({Role.LEAD, Role.QA})) in NAV
