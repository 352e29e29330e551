"""Login throttling: per username and per client address, 429 with Retry-After, lifted when the
counted failures age out of the window, audited."""

from __future__ import annotations

import re
from pathlib import Path

from callfloor.settings.auth import AuthSettings
from callfloor.web.auth import Role
from tests.unit.web.authkit import PASSWORD, T0, add_user, client, floor, login


async def test_five_failures_lock_the_username_for_the_window(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, clock, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        for i in range(5):
            clock.now = T0 + 60 * i
            assert (await login(http, "ann", "guess")).status_code == 401
        clock.now = T0 + 300
        r = await login(http, "ann")  # even the right password is not tried now
        assert (r.status_code, r.headers["retry-after"]) == (429, "600")
        assert r.json() == {"error": "Too many failed sign-ins. Try again in 10 min.", "retry_after": 600}
        clock.now = T0 + 899
        assert (await login(http, "ann")).headers["retry-after"] == "1"
        clock.now = T0 + 900  # the first failure has aged out: 4 counted
        assert (await login(http, "ann")).status_code == 200
        assert await auth.users.failure_times(since=0, username="ann") == []  # cleared by success
        throttled = await auth.audit.entries(action="login.throttled")
        assert [(e.at, e.detail) for e in throttled] == [
            (T0 + 899, {"address": "127.0.0.1", "retry_after": 1}),
            (T0 + 300, {"address": "127.0.0.1", "retry_after": 600})]


async def test_an_unknown_username_is_throttled_like_a_known_one(tmp_path: Path) -> None:
    async with floor(tmp_path) as (auth, _, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        for name in ("ann", "nobody"):
            for _ in range(5):
                await login(http, name, "guess")
        known, unknown = await login(http, "ann", "guess"), await login(http, "nobody", "guess")
        assert (known.status_code, known.text) == (unknown.status_code, unknown.text)
        assert known.status_code == 429


async def test_one_address_is_throttled_across_usernames(tmp_path: Path) -> None:
    settings = AuthSettings(address_failures=3)
    async with floor(tmp_path, settings) as (auth, clock, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        for i, name in enumerate(("a1", "a2", "a3")):
            clock.now = T0 + i
            await login(http, name, "guess")
        r = await login(http, "ann")
        assert (r.status_code, r.headers["retry-after"]) == (429, "898")
        assert await auth.users.failure_times(since=0, address="127.0.0.1") == [T0, T0 + 1, T0 + 2]


async def test_the_form_shows_the_lockout_in_the_users_language(tmp_path: Path) -> None:
    async with floor(tmp_path, AuthSettings(login_failures=1)) as (auth, _, _), client(auth) as http:
        await add_user(auth, "ann", Role.LEAD)
        page = await http.get("/login", headers={"accept-language": "zh"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        form = {"username": "ann", "password": "guess", "csrf_token": token.group(1)}
        first = await http.post("/login", data=form, headers={"accept-language": "zh"})
        assert first.status_code == 401 and "用户名或密码错误。" in first.text
        assert 'value="ann"' in first.text
        second = await http.post("/login", data={**form, "password": PASSWORD}, headers={"accept-language": "zh"})
        assert second.status_code == 429 and second.headers["retry-after"] == "900"
        assert "登录失败次数过多，请 15 分钟后再试。" in second.text
