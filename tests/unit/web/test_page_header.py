"""The header every page shares: its title, and links to exactly the pages this user may open
on this service (mounted ones only), the current one marked."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from callfloor.web.auth import Role
from callfloor.web.i18n import catalog
from callfloor.web.monitor import NAV, STATIC
from tests.unit.web.authkit import PASSWORD, add_user, floor
from tests.unit.web.monitorkit import BoardFloor, build_app, client


async def _campaigns(request: Request) -> Response:
    return PlainTextResponse("mounted")  # only its path matters here: the header links mounted pages


def links(html: str) -> dict[str, bool]:
    """test id -> whether it is marked as the current page, for each header link."""
    bar = re.search(r'<header class="bar">(.*?)</header>', html, re.S)
    assert bar is not None and html.count('<header class="bar">') == 1
    return {m[1]: bool(m[2]) for m in re.finditer(r'<a href="[^"]+" data-testid="([a-z-]+)"[^>]*?( aria-current="page")?>',
                                                 bar[1])}


async def page_as(tmp_path: Path, role: Role, path: str, seat: str | None = None) -> str:
    async with floor(tmp_path) as (auth, clock, _):
        http = client(build_app(auth, BoardFloor(), clock, extra=[Route("/campaigns", _campaigns)]))
        await add_user(auth, "someone", role, seat=seat)
        answer = await http.post("/login", json={"username": "someone", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        response = await http.get(path)
    assert response.status_code == 200, response.text
    return response.text


async def test_a_lead_gets_the_monitor_and_campaigns_not_pages_that_are_not_mounted(tmp_path: Path) -> None:
    html = await page_as(tmp_path, Role.LEAD, "/monitor")
    assert links(html) == {"nav-monitor": True, "nav-campaigns": False}  # no QA, complaints here
    assert '<h1 data-i18n="monitor.title"></h1>' in html and 'data-state="connecting"' in html
    assert 'data-testid="logout"' in html and "{{HEADER" not in html


async def test_a_seat_user_gets_its_own_page_only(tmp_path: Path) -> None:
    html = await page_as(tmp_path, Role.SEAT, "/seat", seat="1001")
    assert links(html) == {"nav-seat": True}
    assert '<h1 data-i18n="seatpage.title"></h1>' in html


async def test_an_admin_with_a_seat_gets_every_mounted_page(tmp_path: Path) -> None:
    html = await page_as(tmp_path, Role.ADMIN, "/seat", seat="1001")
    assert links(html) == {"nav-monitor": False, "nav-campaigns": False, "nav-seat": True}


def test_every_page_file_asks_for_the_header_and_every_link_has_words() -> None:
    for name in ("campaigns.html", "complaints.html", "monitor.html", "qa.html", "seat.html"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert re.search(r"\{\{HEADER [a-z_.]+ (live|connecting|none)\}\}", text), name
        assert "<header" not in text, name
    en, zh = catalog("en"), catalog("zh")
    for _, _, key, _ in NAV:
        assert key in en and zh[key] != en[key], key  # zh falls back to English: it must have its own
