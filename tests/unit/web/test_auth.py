"""Login, sessions (idle and absolute expiry on an injected clock), cookies, CSRF, roles and
``may_see_seat``, against a real Store and the auth routes on a small Starlette app."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from callfloor.settings.auth import AuthSettings
from callfloor.web.auth import Role, User, may_see_seat, safe_next
from callfloor.web.authcore import token_digest
from callfloor.web.passwords import Passwords
from tests.unit.web.authkit import PASSWORD, T0, add_user, client, floor, login

HOUR = 3600.0


def cookie_of(response_headers: list[str], name: str) -> str:
    found = [h for h in response_headers if h.startswith(f"{name}=")]
    assert len(found) == 1, response_headers
    return found[0]


async def test_json_login_sets_a_strict_cookie_and_me_answers(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, store), client(auth) as http:
        await add_user(auth, "Ann", Role.LEAD, team="north")
        r = await login(http, "ANN ")  # usernames are stored and matched in lower case
        assert r.status_code == 200
        me = r.json()
        token = me.pop("csrf_token")
        assert me == {"id": 1, "username": "ann", "name": "Ann", "role": "lead", "seat": None,
                      "team": "north", "lang": "en", "expires_at": T0 + 12 * HOUR,
                      "idle_expires_at": T0 + 8 * HOUR}
        cookie = cookie_of(r.headers.get_list("set-cookie"), "callfloor_session")
        attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
        assert attrs == {"httponly", "max-age=43200", "path=/", "samesite=strict"}
        value = cookie.split(";")[0].split("=", 1)[1]
        assert len(value) >= 43 and len(token) >= 43
        r = await http.get("/api/me")
        assert r.status_code == 200 and r.json()["csrf_token"] == token
    with sqlite3.connect(tmp_path / "callfloor.db") as db:
        rows = db.execute("SELECT token_sha256, user_id, created_at, last_seen, expires_at FROM sessions").fetchall()
    assert rows == [(token_digest(value), 1, T0, T0, T0 + 12 * HOUR)]
    assert value not in repr(rows)


async def test_the_cookie_is_secure_over_https(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth, "https://testserver") as http:
        await add_user(auth, "ann", Role.LEAD)
        r = await login(http, "ann")
        cookie = cookie_of(r.headers.get_list("set-cookie"), "callfloor_session")
        assert "secure" in {a.strip().lower() for a in cookie.split(";")}
        assert (await http.get("/api/me")).status_code == 200


async def test_form_login_with_the_login_token_redirects_to_next(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        page = await http.get("/login?next=/lead-page")
        assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None and 'name="next" value="/lead-page"' in page.text
        form = {"username": "ann", "password": PASSWORD, "next": "/lead-page"}
        forged = await http.post("/login", data={**form, "csrf_token": "forged"})
        assert forged.status_code == 403 and "The form has expired" in forged.text
        assert "callfloor_session=" not in " ".join(forged.headers.get_list("set-cookie"))
        page = await http.get("/login?next=/lead-page")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        r = await http.post("/login", data={**form, "csrf_token": token.group(1)})
        assert (r.status_code, r.headers["location"]) == (303, "/lead-page")
        r = await http.get("/lead-page", headers={"accept": "text/html"})
        assert (r.status_code, r.text) == (200, "<p>lead page</p>")
        again = await http.get("/login")  # logged in already: straight to the landing page
        assert (again.status_code, again.headers["location"]) == (303, "/monitor")


async def test_the_login_page_speaks_the_browsers_language_and_switches(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        zh = await http.get("/login", headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"})
        assert '<html lang="zh-Hans">' in zh.text and "<h1>登录 callfloor</h1>" in zh.text
        en = await http.get("/login", headers={"accept-language": "en-US,en;q=0.9"})
        assert "<h1>Sign in to callfloor</h1>" in en.text
        switched = await http.get("/login?lang=zh", headers={"accept-language": "en"})
        assert "<h1>登录 callfloor</h1>" in switched.text
        assert 'href="/login?lang=en&amp;next=" lang="en"' in switched.text
        sticky = await http.get("/login", headers={"accept-language": "en"})  # the lang cookie
        assert "<h1>登录 callfloor</h1>" in sticky.text


async def test_unknown_user_and_wrong_password_get_the_same_answer(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        await add_user(auth, "bob", Role.LEAD)
        await auth.users.set_disabled("bob", True, now=T0, by="test")
        answers = [await login(http, "ann", "wrong password"), await login(http, "nobody"),
                   await login(http, "bob"), await login(http, "bad name!")]
        assert {(r.status_code, r.text) for r in answers} == {(401, '{"error":"Wrong username or password."}')}
        entries = await auth.audit.entries(action="login.failed")
        assert [(e.actor, e.detail["reason"]) for e in reversed(entries)] == [
            ("ann", "bad_password"), ("nobody", "unknown_user"), ("bob", "disabled"),
            ("bad name!", "unknown_user")]
        assert (await http.get("/api/me")).status_code == 401


async def test_a_session_ends_after_8_hours_idle(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, clock, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        await login(http, "ann")
        clock.now = T0 + 8 * HOUR - 1
        assert (await http.get("/api/any")).status_code == 200  # activity: idle clock restarts
        clock.now = T0 + 16 * HOUR - 2
        assert (await http.get("/api/any")).status_code == 401  # past the 12 h absolute limit
        await login(http, "ann")
        start = clock.now
        clock.now = start + 8 * HOUR
        r = await http.get("/api/any")
        assert (r.status_code, r.json()["code"]) == (401, "login_required")
        logouts = await auth.audit.entries(action="logout")
        assert [e.detail["reason"] for e in logouts] == ["idle", "expired"]


async def test_a_session_ends_12_hours_after_login_however_busy(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, clock, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        await login(http, "ann")
        for hour in range(1, 12):
            clock.now = T0 + hour * HOUR
            assert (await http.get("/api/any")).status_code == 200, hour
        clock.now = T0 + 12 * HOUR
        assert (await http.get("/api/any")).status_code == 401
        assert [e.detail["reason"] for e in await auth.audit.entries(action="logout")] == ["expired"]
        assert await auth.users.sessions_of("ann") == []


async def test_idle_and_absolute_limits_come_from_the_settings(tmp_path: Path) -> None:
    settings = AuthSettings(session_idle=600, session_max=1800, cookie_name="floor")
    async with floor(tmp_path, settings) as (auth, clock, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        r = await login(http, "ann")
        assert "floor=" in r.headers["set-cookie"] and "Max-Age=1800" in r.headers["set-cookie"]
        clock.now = T0 + 599
        assert (await http.get("/api/any")).status_code == 200
        clock.now = T0 + 599 + 600
        assert (await http.get("/api/any")).status_code == 401


async def test_non_get_requests_need_the_csrf_token(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        token = (await login(http, "ann")).json()["csrf_token"]
        missing = await http.post("/api/lead/act", json={"seat": "1001"})
        assert (missing.status_code, missing.json()["code"]) == (403, "csrf")
        wrong = await http.post("/api/lead/act", json={}, headers={"x-csrf-token": token[:-1] + "x"})
        assert wrong.status_code == 403
        header = await http.post("/api/lead/act", json={"seat": "1001"}, headers={"x-csrf-token": token})
        assert (header.status_code, header.json()) == (200, {"done": True, "got": {"seat": "1001"}})
        field = await http.post("/api/lead/act", data={"seat": "1002", "csrf_token": token})
        assert field.json() == {"done": True, "got": {"seat": "1002", "csrf_token": token}}
        other = await client(auth).__aenter__()
        try:
            await login(other, "ann")  # a second session has its own token
            assert (await other.post("/api/lead/act", json={}, headers={"x-csrf-token": token})).status_code == 403
        finally:
            await other.aclose()


async def test_roles_admin_passes_everything(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _):
        await add_user(auth, "sam", Role.SEAT, seat="1001")
        await add_user(auth, "ann", Role.LEAD)
        await add_user(auth, "quinn", Role.QA)
        await add_user(auth, "root", Role.ADMIN)
        codes = {}
        for name in ("sam", "ann", "quinn", "root"):
            async with client(auth) as http:
                await login(http, name)
                codes[name] = ((await http.get("/api/lead")).status_code, (await http.get("/api/any")).status_code)
        assert codes == {"sam": (403, 200), "ann": (200, 200), "quinn": (403, 200), "root": (200, 200)}
        async with client(auth) as http:
            await login(http, "sam")
            r = await http.get("/lead-page", headers={"accept": "text/html"})
            assert r.status_code == 403 and "You may not do this." in r.text


async def test_without_a_session_pages_redirect_and_apis_answer_401(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        page = await http.get("/lead-page?x=1", headers={"accept": "text/html,*/*"})
        assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Flead-page%3Fx%3D1")
        api = await http.get("/api/lead", headers={"accept-language": "zh"})
        assert (api.status_code, api.json()) == (401, {"error": "请先登录。", "code": "login_required"})
        post = await http.post("/api/lead/act", json={})
        assert post.status_code == 401


async def test_logout_needs_the_token_and_ends_the_session(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        token = (await login(http, "ann")).json()["csrf_token"]
        assert (await http.post("/logout")).status_code == 403
        assert (await http.get("/api/me")).status_code == 200
        r = await http.post("/logout", data={"csrf_token": token})
        assert (r.status_code, r.headers["location"]) == (303, "/login?m=signed_out")
        assert 'callfloor_session=""' in r.headers["set-cookie"]
        assert (await http.get("/api/me")).status_code == 401
        actions = [(e.actor, e.action, e.detail.get("reason")) for e in await auth.audit.entries(actor="ann")]
        assert actions == [("ann", "logout", "logout"), ("ann", "login", None)]


async def test_login_rehashes_a_password_hashed_with_old_parameters(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        old = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, salt_len=8))
        await auth.users.add("ann", role=Role.LEAD, password_hash=old.hash(PASSWORD), now=T0, by="test")
        auth.passwords = Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
        assert (await login(http, "ann")).status_code == 200
        row = await auth.users.get("ann")
        assert row is not None and row.password_hash.startswith("$argon2id$v=19$m=16,t=2,p=1$")
        assert (await login(http, "ann")).status_code == 200  # the new hash verifies
        logins = await auth.audit.entries(action="login")
        assert [e.detail["rehashed"] for e in logins] == [False, True]


async def test_a_role_change_applies_to_open_sessions_and_is_audited(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, clock, _), client(auth) as http:
        await add_user(auth, "sam", Role.SEAT, seat="1001")
        await login(http, "sam")
        assert (await http.get("/api/lead")).status_code == 403
        clock.now = T0 + 60
        await auth.users.update("sam", {"role": "lead", "team": "north"}, now=clock.now, by="root")
        assert (await http.get("/api/lead")).status_code == 200
        [entry] = await auth.audit.entries(action="user.role")
        assert (entry.at, entry.actor, entry.subject, entry.detail) == (
            T0 + 60, "root", "user:sam", {"role": ["seat", "lead"], "team": [None, "north"]})


async def test_a_user_sets_its_language(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        token = (await login(http, "ann")).json()["csrf_token"]
        bad = await http.post("/api/me/lang", json={"lang": "fr"}, headers={"x-csrf-token": token})
        assert (bad.status_code, bad.json()["code"]) == (400, "bad_request")
        r = await http.post("/api/me/lang", json={"lang": "zh-CN"}, headers={"x-csrf-token": token})
        assert r.json() == {"lang": "zh"}
        assert (await http.get("/api/me")).json()["lang"] == "zh"
        forbidden = await http.get("/api/lead/act")  # GET on a POST route: Starlette's 405
        assert forbidden.status_code == 405
        form = await http.post("/api/me/lang", data={"lang": "en", "next": "/lead-page", "csrf_token": token})
        assert (form.status_code, form.headers["location"]) == (303, "/lead-page")


async def test_seat_users_see_only_their_own_seat(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        await add_user(auth, "sam", Role.SEAT, seat="1001")
        await login(http, "sam")
        assert (await http.get("/api/seats/1001")).status_code == 200
        assert (await http.get("/api/seats/1002")).status_code == 403


@pytest.mark.parametrize(
    ("role", "seat", "team", "visible"),
    [
        (Role.SEAT, "1001", None, {"1001"}),
        (Role.LEAD, None, "north", {"1001", "1003"}),
        (Role.LEAD, "1002", "north", {"1001", "1002", "1003"}),
        (Role.LEAD, None, None, {"1001", "1002", "1003", "1004"}),
        (Role.QA, None, "north", {"1001", "1002", "1003", "1004"}),
        (Role.ADMIN, None, None, {"1001", "1002", "1003", "1004"}),
    ],
)
def test_may_see_seat(role: Role, seat: str | None, team: str | None, visible: set[str]) -> None:
    teams = {"1001": "north", "1002": "south", "1003": "north", "1004": None}
    user = User(1, "u", "U", role, seat, team, "en")
    assert {s for s, t in teams.items() if may_see_seat(user, s, t)} == visible


@pytest.mark.parametrize(
    ("value", "safe"),
    [("/monitor", "/monitor"), ("/seat?x=1", "/seat?x=1"), ("//evil.example/", None),
     ("https://evil.example/", None), ("/\\evil", None), ("/a\r\nSet-Cookie: x", None), ("", None),
     (None, None)],
)
def test_next_is_never_an_open_redirect(value: str | None, safe: str | None) -> None:
    assert safe_next(value) == safe


def test_idle_may_not_exceed_the_absolute_limit() -> None:
    with pytest.raises(ValueError, match=r"session_idle \(50000.0\) must not exceed session_max"):
        AuthSettings(session_idle=50000)


def test_auth_defaults() -> None:
    s = AuthSettings()
    assert (s.session_idle, s.session_max, s.login_failures, s.address_failures, s.lockout_window,
            s.cookie_name) == (28800.0, 43200.0, 5, 20, 900.0, "callfloor_session")
