"""The complaints API and page with the real auth, the real store and dialer tables: roles, CSRF,
a case from complaint to blacklist, and one audit row per playback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware

from callfloor.settings import SeatSettings, Settings, StorageSettings
from callfloor.settings.floor import TeamSettings
from callfloor.store.audit import AuditLog
from callfloor.store.complaints import ComplaintStore
from callfloor.store.db import CallStart
from callfloor.store.dialer import DialerStore
from callfloor.web.auth import Auth, AuthMiddleware, Role, auth_routes
from callfloor.web.complaints import complaint_routes
from dialer.campaign import Campaign
from dialer.leads import parse_leads
from tests.unit.web.authkit import T0, add_user, floor, login

NUMBER = "+12125550101"
WAV = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(28)


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Auth, ComplaintStore]]:
    async with floor(tmp_path) as (auth, clock, store):
        settings = Settings(storage=StorageSettings(data_dir=tmp_path),
                            teams=(TeamSettings(id="north"), TeamSettings(id="south")),
                            seats=(SeatSettings(id="1001", password="pw", team="north"),
                                   SeatSettings(id="1002", password="pw", team="south")))
        (tmp_path / "recordings").mkdir()
        (tmp_path / "recordings" / "c-in.wav").write_bytes(WAV)
        await store.call_started(CallStart("c-in", "s1", "inbound", NUMBER, "+12125550100", None, "1001",
                                           T0 - 3700, "c-in.wav"))
        await store.call_ended("c-in", T0 - 3500, "bye")
        dialer = DialerStore(store)
        await dialer.sync_campaigns([Campaign(id="renewals", caller_id="+12125550100")], T0)
        await dialer.import_leads("renewals", parse_leads("number\n(212) 555-0101\n", region="US", now=T0), T0)
        cs = ComplaintStore(store)
        for name, role, seat, team in (("qa1", Role.QA, None, None), ("lead1", Role.LEAD, None, None),
                                       ("south", Role.LEAD, None, "south"), ("s1001", Role.SEAT, "1001", None),
                                       ("s1002", Role.SEAT, "1002", None)):
            await add_user(auth, name, role, seat=seat, team=team)
        app = Starlette(routes=[*auth_routes(auth), *complaint_routes(cs, AuditLog(store), settings, clock)],
                        middleware=[Middleware(AuthMiddleware, auth=auth)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield client, auth, cs


async def as_user(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    http.cookies.clear()
    answer = await login(http, name)
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


async def test_roles_and_csrf(http: tuple[httpx.AsyncClient, Auth, ComplaintStore]) -> None:
    client, _, _ = http
    assert (await client.get("/api/complaints")).status_code == 401
    page = await client.get("/complaints", headers={"Accept": "text/html"})
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Fcomplaints")
    await as_user(client, "s1001")
    assert (await client.get("/api/complaints")).status_code == 403
    assert (await client.get("/complaints", headers={"Accept": "text/html"})).status_code == 403
    csrf = await as_user(client, "qa1")
    body = {"number": "(212) 555-0101", "approx_at": T0 - 3600, "channel": "phone", "description": "rude"}
    refused = await client.post("/api/complaints", json=body)
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf")
    made = await client.post("/api/complaints", json=body, headers=csrf)
    assert made.status_code == 201
    assert (made.json()["case"]["number"], made.json()["case"]["tolerance_s"]) == (NUMBER, 1800.0)
    page = await client.get("/complaints", headers={"Accept": "text/html"})
    assert page.status_code == 200 and '"outcomes": ["upheld", "partly_upheld", "groundless", "withdrawn"]' in page.text
    assert (await client.get("/complaints/complaints.js")).status_code == 200
    bad = await client.post("/api/complaints", json={**body, "number": "12"}, headers=csrf)
    assert (bad.status_code, bad.json()) == (422, {"error": "number '12': too short for US"})
    assert (await client.get("/api/complaints/99")).status_code == 404


async def test_from_complaint_to_an_approved_blacklist_record(http: tuple[httpx.AsyncClient, Auth, ComplaintStore]) -> None:
    client, auth, cs = http
    csrf = await as_user(client, "qa1")
    case = (await client.post("/api/complaints", headers=csrf, json={
        "number": NUMBER, "approx_at": "2026-02-25T05:13:20+00:00", "tolerance_s": 600, "channel": "email",
        "description": "says the agent shouted"})).json()["case"]
    found = (await client.get(f"/api/complaints/{case['id']}/candidates")).json()
    assert [(c["call"], c["distance_s"], c["recording"]) for c in found] == [("c-in", 0.0, True)]
    searched = (await client.get("/api/complaints/search", params={"number": "2125550101", "at": str(T0 - 3000),
                                                                    "tolerance_s": "600"})).json()
    assert [(c["call"], c["distance_s"]) for c in searched] == [("c-in", 500.0)]
    assert (await client.post(f"/api/complaints/{case['id']}/calls", json={"call": "c-in"}, headers=csrf)).json() == {
        "linked": True, "call": "c-in"}
    step = await client.post(f"/api/complaints/{case['id']}/steps", json={"text": "call back", "due_at": T0 + 60},
                             headers=csrf)
    assert (step.status_code, step.json()["status"]) == (201, "pending")
    early = await client.post("/api/blacklist", headers=csrf, json={"number": NUMBER, "reason": "groundless",
                                                                     "complaint": case["id"]})
    assert (early.status_code, early.json()["error"]) == (
        422, "complaint 1 is open: only a groundless complaint (groundless) may blacklist its number")
    closed = await client.post(f"/api/complaints/{case['id']}/actions", headers=csrf,
                               json={"action": "close", "outcome": "groundless", "note": "recording is polite"})
    assert (closed.json()["case"]["state"], closed.json()["may_blacklist"]) == ("closed", True)
    preview = (await client.get("/api/blacklist/preview", params={"number": NUMBER})).json()
    assert (preview["leads"], preview["total"], preview["listed"]) == ({"renewals": 1}, 1, False)
    made = await client.post("/api/blacklist", headers=csrf, json={
        "number": NUMBER, "reason": "groundless complaint", "complaint": case["id"], "call": "c-in", "days": 90})
    assert made.status_code == 201
    record = made.json()["record"]
    assert (record["state"], record["expires_at"], made.json()["preview"]["total"]) == ("proposed", T0 + 90 * 86400, 1)
    self_approval = await client.post(f"/api/blacklist/{record['id']}/approve", headers=csrf)
    assert (self_approval.status_code, self_approval.json()["error"]) == (422, "a qa may not approve a blacklist record (lead, admin)")
    csrf = await as_user(client, "lead1")
    approved = await client.post(f"/api/blacklist/{record['id']}/approve", headers=csrf)
    assert (approved.status_code, approved.json()["state"], approved.json()["approved_by"]) == (200, "active", "lead1")
    assert [e.source for e in await DialerStore(cs._db).dnc_check(NUMBER)] == ["blacklist"]
    listed = (await client.get("/api/blacklist", params={"number": "212 555 0101"})).json()
    assert [(r["id"], r["state"]) for r in listed] == [(1, "active")]
    revoked = await client.post(f"/api/blacklist/{record['id']}/revoke", headers=csrf, json={"reason": "court order"})
    assert (revoked.json()["state"], revoked.json()["end_reason"]) == ("revoked", "court order")
    assert await DialerStore(cs._db).dnc_check(NUMBER) == []
    actions = [e.action for e in reversed(await auth.audit.entries(limit=50)) if e.action.startswith(("complaint", "blacklist"))]
    assert actions == ["complaint.open", "complaint.link", "complaint.step", "complaint.close", "blacklist.propose",
                       "blacklist.approve", "blacklist.revoke"]


async def test_every_playback_is_audited_and_only_allowed_users_play(
        http: tuple[httpx.AsyncClient, Auth, ComplaintStore]) -> None:
    client, auth, _ = http
    url = "/api/complaints/calls/c-in/recording"
    for name, status in (("s1002", 403), ("south", 403), ("s1001", 200), ("lead1", 200), ("qa1", 200)):
        await as_user(client, name)
        answer = await client.get(url, params={"case": "7"})
        assert answer.status_code == status, name
        if status == 200:
            assert (answer.content, answer.headers["content-type"]) == (WAV, "audio/wav")
    seek = await client.get(url, headers={"Range": "bytes=10-"})
    assert (seek.status_code, seek.content) == (206, WAV[10:])
    plays = [(e.actor, e.subject, e.detail, e.at) for e in reversed(await auth.audit.entries(action="recording.play"))]
    detail = {"via": "complaints", "case": 7, "seat": "1001"}
    assert plays == [("s1001", "call:c-in", detail, T0), ("lead1", "call:c-in", detail, T0), ("qa1", "call:c-in", detail, T0)]
    assert (await client.get("/api/complaints/calls/nope/recording")).status_code == 404
