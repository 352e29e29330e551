"""Campaigns over the HTTP API: ``CampaignAdmin`` on the service's real dialer wiring (ACD,
engine, board, runtime, store; no sockets) and its routes behind the real login."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware

from callfloor.app import api_campaigns_for
from callfloor.campaignadmin import CampaignAdmin, CampaignConflict
from callfloor.floorwatch import WatcherLoop
from callfloor.store import Store
from callfloor.store.dialer import DialerStore
from callfloor.web.auth import Auth, AuthMiddleware, Role, auth_routes
from callfloor.web.dialer import campaign_admin_routes, dialer_routes
from callfloor.web.machineapi import machine_api
from callfloor.web.passwords import Passwords
from callfloor.web.server import build_app
from dialer.campaign import Campaign, CampaignError
from dialer.pacing import Mode
from floor.watcher_policy import parse_policy
from tests.unit.web.authkit import FAST, add_user, login
from tests.unit.web.monitorkit import DialerFloor, dialer_floor, dialer_settings

NOW = 1_772_000_000.0
CALLER = "+12125550100"


def spring(**changes: Any) -> dict[str, Any]:
    return {"id": "spring", "caller_id": CALLER, "mode": "predictive", "teams": ["north"], **changes}


def file_campaign() -> Campaign:
    return Campaign(id="renewals", caller_id=CALLER, seats=("1003",))


@asynccontextmanager
async def stack(tmp_path: Path, **overrides: Any) -> AsyncIterator[DialerFloor]:
    async with dialer_floor(dialer_settings(tmp_path, **overrides), [file_campaign()]) as f:
        yield f


# -- CampaignAdmin ------------------------------------------------------------------------------


async def test_a_new_campaign_gets_its_queue_seats_board_tile_and_run(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        campaign, created = await f.admin.put(spring(name="Spring"), NOW, by="ann")
        assert created and campaign.teams == ("north",)
        assert "campaign-spring" in f.board.acd.snapshot(time.time()).queues
        assert (f.queues_of("1001"), f.queues_of("1002"), f.queues_of("1003")) == (
            ("campaign-spring",), ("campaign-spring",), ("campaign-renewals", "support"))
        board = f.live.board(time.time())
        assert board["campaigns"]["spring"]["id"] == "spring"
        assert "campaign-spring" in board["queues"]
        assert sorted(board["seats"]["1001"]["queues"]) == ["campaign-spring"]
        run = f.runtime.runs["spring"]
        assert (run.campaign, run.pacer.mode, run.queue) == (campaign, Mode.PREDICTIVE, "campaign-spring")
        assert run.warmed is not None and run.warmed.attempts == 0  # warmed from the (empty) ledger
        assert [c.id for c in await DialerStore(f.store).api_campaigns()] == ["spring"]
        [entry] = await f.audit.entries(action="campaign.created")
        assert (entry.actor, entry.subject, entry.detail) == (
            "ann", "campaign:spring", {"mode": "predictive", "active": True, "warnings": []})


async def test_a_replaced_campaign_keeps_its_run_and_moves_its_seats(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        await f.admin.put(spring(), NOW, by="ann")
        run = f.runtime.runs["spring"]
        pacer, tracker = run.pacer, run.tracker
        run.launched, run.paced_out = 7, 2
        campaign, created = await f.admin.put(
            spring(mode="progressive", teams=[], seats=["1003"], target_abandon=0.02, grace=1.5,
                   wrap_up=45, windows={"hours": ["mon-fri 09:00-17:00"]}), NOW + 60, by="ann")
        assert not created
        assert f.runtime.runs["spring"] is run and (run.pacer, run.tracker) == (pacer, tracker)
        assert (run.launched, run.paced_out, run.campaign) == (7, 2, campaign)
        assert (run.pacer.mode, run.tracker.target) == (Mode.PROGRESSIVE, 0.02)
        assert run.pacer.lookahead.config.grace == 1.5  # answers are priced with the new grace
        seats = run.pacer.seats  # and seats free after the new wrap-up, from the next decision
        assert (seats.wrap_free_within(0.0, 44.0), seats.wrap_free_within(0.0, 45.25)) == (0.0, 1.0)
        monday = run.windows.countries["GB"].weekly[0]
        assert [(r.start, r.end) for r in monday] == [(9 * 3600, 17 * 3600)]  # the new hours
        assert (f.queues_of("1001"), f.queues_of("1003")) == ((), ("campaign-renewals", "campaign-spring", "support"))
        assert f.live.board(time.time())["campaigns"]["spring"]["target_abandon"] == 0.02
        assert [e.action for e in await f.audit.entries(subject="campaign:spring")] == [
            "campaign.updated", "campaign.created"]


async def test_bad_keys_and_a_file_campaign_are_refused_and_nothing_changes(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        with pytest.raises(CampaignError) as bad:
            await f.admin.put(spring(seats=["9999"], grace=5), NOW, by="ann")
        assert bad.value.problems == ("body: grace: at most 2 s (the 2-second rule), got 5.0",)
        with pytest.raises(CampaignError) as unknown:
            await f.admin.put(spring(seats=["9999"]), NOW, by="ann")
        assert unknown.value.problems == ("body: seats: unknown seat '9999'",)
        with pytest.raises(CampaignConflict, match="'renewals' is defined in a campaign file"):
            await f.admin.put(spring(id="renewals"), NOW, by="ann")
        assert sorted(f.runtime.runs) == ["renewals"]
        assert f.runtime.runs["renewals"].campaign == file_campaign()
        assert await f.audit.entries(action="campaign.created") == []


async def test_active_stops_and_starts_api_and_file_campaigns(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        await f.admin.put(spring(), NOW, by="ann")
        stopped = await f.admin.set_active("spring", False, NOW + 1, by="ann")
        assert stopped.active is False and f.runtime.runs["spring"].campaign.active is False
        assert (await f.admin.set_active("renewals", False, NOW + 2, by="bob")).active is False
        assert f.runtime.runs["renewals"].campaign.active is False
        assert [c.active for c in await DialerStore(f.store).api_campaigns()] == [False]
        assert (await f.admin.set_active("spring", True, NOW + 3, by="ann")).active is True
        assert f.runtime.runs["spring"].campaign.active is True
        with pytest.raises(LookupError, match="no campaign 'autumn'"):
            await f.admin.set_active("autumn", True, NOW, by="ann")
        entries = await f.audit.entries(action="campaign.active")
        assert [(e.actor, e.subject, e.detail) for e in entries] == [
            ("ann", "campaign:spring", {"active": True, "source": "api"}),
            ("bob", "campaign:renewals", {"active": False, "source": "file"}),
            ("ann", "campaign:spring", {"active": False, "source": "api"}),
        ]


async def test_the_definition_says_where_a_campaign_comes_from(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        await f.admin.put(spring(ring_timeout=10), NOW, by="ann")
        found = await f.admin.definition("spring")
        assert (found["source"], found["running"], found["teams"]) == ("api", True, ["north"])
        assert found["campaign"]["ring_timeout"] == 10 and "leads" not in found["campaign"]
        assert found["warnings"] == ["ring_timeout 10 s is under the 15 s an unanswered call must ring"
                                     " (US 47 CFR 64.1200(a)(6), Ofcom)"]
        renewals = await f.admin.definition("renewals")  # seat 1003, of no team
        assert (renewals["source"], renewals["teams"]) == ("file", [])
        with pytest.raises(LookupError):
            await f.admin.definition("autumn")


async def test_without_a_trunk_or_a_dialer_nothing_is_created(tmp_path: Path) -> None:
    async with dialer_floor(dialer_settings(tmp_path, trunk=None)) as f:
        with pytest.raises(CampaignConflict, match=r"no \[trunk\] to dial through"):
            await f.admin.put(spring(), NOW, by="ann")
        idle = CampaignAdmin(f.settings, DialerStore(f.store), f.audit)
        with pytest.raises(CampaignConflict, match="the dialer is not running"):
            await idle.put(spring(), NOW, by="ann")


# -- the routes ------------------------------------------------------------------------------


def routed(f: DialerFloor, auth: Auth) -> Starlette:
    api = machine_api([*dialer_routes(f.runtime, time.time, f.audit),
                       *campaign_admin_routes(f.admin, time.time)], open_on_loopback=True)
    return Starlette(routes=[*auth_routes(auth), *api], middleware=[Middleware(AuthMiddleware, auth=auth)])


def client(app: Starlette, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 40000)),
                             base_url="http://testserver")


async def test_the_routes_create_read_replace_and_stop(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        async with client(routed(f, auth), "127.0.0.1") as local:
            created = await local.post("/api/campaigns", json=spring())
            assert created.status_code == 201, created.text
            assert (created.json()["created"], created.json()["campaign"]["mode"]) == (True, "predictive")
            replaced = await local.post("/api/campaigns", json=spring(mode="preview"))
            assert (replaced.status_code, replaced.json()["created"]) == (200, False)
            got = await local.get("/api/campaigns/spring")
            assert (got.status_code, got.json()["source"], got.json()["campaign"]["mode"]) == (200, "api", "preview")
            assert [c["id"] for c in (await local.get("/api/campaigns")).json()] == ["renewals", "spring"]
            stopped = await local.patch("/api/campaigns/spring", json={"active": False})
            assert (stopped.status_code, stopped.json()["campaign"]["active"]) == (200, False)
            leads = await local.post("/api/campaigns/spring/leads", content=b"number\n+442079460105\n",
                                     headers={"Content-Type": "text/csv"})
            assert (leads.status_code, leads.json()["inserted"]) == (200, 1)
        [entry] = await f.audit.entries(action="campaign.active")
        assert entry.actor == "api:127.0.0.1"


async def test_the_versions_route_gives_the_history_newest_first(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        await add_user(auth, "lead", Role.LEAD)
        await add_user(auth, "s1", Role.SEAT, seat="1001")
        app = routed(f, auth)
        async with client(app, "10.0.0.9") as remote:
            headers = {"X-CSRF-Token": (await login(remote, "lead")).json()["csrf_token"]}
            assert (await remote.post("/api/campaigns", json=spring(), headers=headers)).status_code == 201
            assert (await remote.post("/api/campaigns", json=spring(grace=1.5), headers=headers)).status_code == 200
        async with client(app, "127.0.0.1") as local:
            assert (await local.patch("/api/campaigns/spring", json={"active": False})).status_code == 200
            got = await local.get("/api/campaigns/spring/versions")
            assert got.status_code == 200
            rows = got.json()["versions"]
            assert [(r["change"], r["by"], r["source"], r["changed"], r["campaign"]["active"]) for r in rows] == [
                ("stopped", "api:127.0.0.1", "api", ["active"], False),
                ("updated", "lead", "api", ["grace"], True),
                ("created", "lead", "api", sorted(rows[2]["campaign"]), True)]
            assert rows[1]["campaign"]["grace"] == 1.5
            file_rows = (await local.get("/api/campaigns/renewals/versions")).json()["versions"]
            assert [(r["change"], r["source"], r["by"]) for r in file_rows] == [("created", "file", None)]
            missing = await local.get("/api/campaigns/autumn/versions")
            assert (missing.status_code, missing.json()) == (404, {"error": "no campaign 'autumn'"})
        async with client(app, "10.0.0.9") as seat:
            await login(seat, "s1")
            assert (await seat.get("/api/campaigns/spring/versions")).status_code == 403


async def test_the_results_file_is_for_editors_of_the_campaign_and_audited(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        await add_user(auth, "lead", Role.LEAD)
        await add_user(auth, "south", Role.LEAD, team="south")
        await add_user(auth, "qa", Role.QA)
        app = routed(f, auth)
        async with client(app, "127.0.0.1") as local:
            assert (await local.post("/api/campaigns", json=spring())).status_code == 201
            csv = "number,name,plan\n+442079460105,王芳,金卡\n+442079460106,=cmd,\n".encode()
            leads = await local.post("/api/campaigns/spring/leads", content=csv, headers={"Content-Type": "text/csv"})
            assert leads.json()["inserted"] == 2
            missing = await local.get("/api/campaigns/autumn/results.csv")
            assert (missing.status_code, missing.json()) == (404, {"error": "no campaign 'autumn'"})
        answers = {}
        for user in ("lead", "south", "qa"):
            async with client(app, "10.0.0.9") as remote:
                await login(remote, user)
                answers[user] = await remote.get("/api/campaigns/spring/results.csv")
        exported = await f.audit.entries(action="campaign.exported")
    got = answers["lead"]
    assert got.status_code == 200 and got.headers["content-type"] == "text/csv; charset=utf-8"
    assert got.headers["content-disposition"] == 'attachment; filename="spring-results.csv"'
    lines = got.content.decode("utf-8").splitlines()
    assert lines[0].startswith("\ufefflead_id,number,name,status,attempts,") and lines[0].endswith(",plan")
    assert lines[1].startswith("1,+442079460105,王芳,new,0,") and lines[1].endswith(",2,金卡")
    assert lines[2].startswith("2,+442079460106,'=cmd,new,0,")
    assert answers["south"].status_code == 403 and "no seat of your team 'south'" in answers["south"].json()["error"]
    assert answers["qa"].status_code == 403
    [entry] = exported  # the refused ones wrote nothing
    assert (entry.actor, entry.subject, entry.detail) == ("lead", "campaign:spring", {"leads": 2})


async def test_recycle_gives_unreached_leads_a_new_pass_for_editors_only(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        await add_user(auth, "qa", Role.QA)
        app = routed(f, auth)
        async with client(app, "127.0.0.1") as local:
            assert (await local.post("/api/campaigns", json=spring(max_attempts=1))).status_code == 201
            await local.post("/api/campaigns/spring/leads", content=b"number\n+442079460105\n+442079460106\n",
                             headers={"Content-Type": "text/csv"})
            for lead_id, outcome in ((1, "busy"), (2, "answered")):
                attempt = await f.admin.ledger.open_attempt(lead_id, f"c{lead_id}", "predictive", time.time())
                await f.admin.ledger.close_attempt(attempt, outcome, now=time.time(), seat_id="1001")
            url = "/api/campaigns/spring/recycle"
            dry = await local.post(url, json={"outcomes": ["busy"], "dry_run": True})
            assert dry.json() == {"campaign": "spring", "recycled": 1, "dry_run": True}
            bad = await local.post(url, json={"outcomes": ["answered"]})
            assert bad.status_code == 422 and "'answered': a person took the call" in bad.json()["errors"][0]
            assert (await local.post(url, json={"outcomes": "busy"})).status_code == 422
            strict = await local.post(url, json={"outcomes": ["busy"], "dry_run": "false"})
            assert strict.json() == {"errors": ["body: dry_run: expected true or false, got 'false'"]}
            late = await local.post(url, json={"outcomes": ["busy"], "not_before": "2030-01-01T09:00:00"})
            assert late.status_code == 422 and "not_before needs a UTC offset" in late.json()["errors"][0]
            assert (await local.post("/api/campaigns/autumn/recycle", json={"outcomes": ["busy"]})).status_code == 404
            done = await local.post(url, json={"outcomes": ["busy", "no_answer"]})
            assert done.json() == {"campaign": "spring", "recycled": 1, "dry_run": False}
            counts = (await local.get("/api/campaigns/spring/leads")).json()["leads"]
            assert counts == {"retry": 1, "done": 1}
        async with client(app, "10.0.0.9") as remote:
            await login(remote, "qa")
            assert (await remote.post(url, json={"outcomes": ["busy"]})).status_code == 403
        [entry] = await f.audit.entries(action="campaign.recycled")
        assert (entry.actor, entry.detail) == ("api:127.0.0.1", {"outcomes": ["busy", "no_answer"], "leads": 1,
                                                                 "not_before": None})


async def test_the_routes_answer_bad_requests_with_the_reasons(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        async with client(routed(f, auth), "127.0.0.1") as local:
            bad = await local.post("/api/campaigns", json=spring(mode="fast", leads="x.csv"))
            assert (bad.status_code, bad.json()) == (422, {"errors": [
                "body: leads: import leads with POST /api/campaigns/<id>/leads",
                "body: mode: Input should be 'preview', 'progressive' or 'predictive'"]})
            conflict = await local.post("/api/campaigns", json=spring(id="renewals"))
            assert conflict.status_code == 409 and "defined in a campaign file" in conflict.json()["error"]
            not_json = await local.post("/api/campaigns", content=b"{", headers={"Content-Type": "application/json"})
            assert not_json.status_code == 400
            form = await local.post("/api/campaigns", content=b"id=x",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert form.status_code == 415
            assert (await local.get("/api/campaigns/autumn")).status_code == 404
            assert (await local.patch("/api/campaigns/autumn", json={"active": True})).status_code == 404
            more = await local.patch("/api/campaigns/renewals", json={"active": "no", "mode": "preview"})
            assert (more.status_code, more.json()) == (422, {"errors": [
                "body: mode: only active can be changed here (POST /api/campaigns replaces an API campaign)",
                "body: active: expected true or false, got 'no'"]})
            assert (await local.patch("/api/campaigns/renewals", json=[True])).status_code == 422
            assert (await local.patch("/api/campaigns/renewals", content=b'{"active": false}',
                                      headers={"Content-Type": "text/plain"})).status_code == 415
        assert f.runtime.runs["renewals"].campaign.active is True


async def test_leads_and_admins_change_campaigns_qa_reads_a_seat_does_neither(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        app = routed(f, auth)
        for name, role, seat in (("lead", Role.LEAD, None), ("qa", Role.QA, None), ("s1", Role.SEAT, "1001")):
            await add_user(auth, name, role, seat=seat)
        async with client(app, "10.0.0.9") as stranger:
            assert (await stranger.post("/api/campaigns", json=spring())).status_code == 401
        results = {}
        for name in ("qa", "s1", "lead"):
            async with client(app, "10.0.0.9") as remote:
                token = (await login(remote, name)).json()["csrf_token"]
                headers = {"X-CSRF-Token": token}
                results[name] = ((await remote.post("/api/campaigns", json=spring(), headers=headers)).status_code,
                                 (await remote.patch("/api/campaigns/renewals", json={"active": False},
                                                     headers=headers)).status_code,
                                 (await remote.get("/api/campaigns/renewals")).status_code)
        assert results == {"qa": (403, 403, 200), "s1": (403, 403, 403), "lead": (201, 200, 200)}
        [entry] = await f.audit.entries(action="campaign.created")
        assert entry.actor == "lead"


async def test_the_service_app_wires_the_routes(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        app = build_app(f.settings, f.store, f.runtime.server, f.board, f.runtime, live=f.live, campaigns=f.admin)
        async with client(app, "127.0.0.1") as local:
            assert (await local.post("/api/campaigns", json=spring())).status_code == 201
            assert (await local.get("/api/campaigns/spring")).json()["running"] is True


async def test_at_start_a_file_wins_over_an_api_campaign_and_none_run_without_a_trunk(tmp_path: Path,
                                                                                      caplog: pytest.LogCaptureFixture) -> None:
    settings = dialer_settings(tmp_path)
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    async with await Store.open(settings.storage.db_path) as store:
        ledger = DialerStore(store)
        await ledger.save_api_campaign(Campaign(id="spring", caller_id=CALLER), NOW)
        await ledger.save_api_campaign(Campaign(id="renewals", caller_id=CALLER, name="api"), NOW)
        found = await api_campaigns_for(settings, store, [file_campaign()])
        assert [c.id for c in found] == ["spring"]
        assert "campaign renewals: the file campaign of this id wins" in caplog.text
        assert await api_campaigns_for(dialer_settings(tmp_path, trunk=None), store, []) == []
        assert "2 campaigns stored over the API do not run: there is no [trunk]" in caplog.text


async def test_the_watcher_takes_a_campaign_assignment_as_the_seat_s_new_home(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        watcher = WatcherLoop(f.live, parse_policy({"mode": "rules"}, "test"), 5.0)
        watcher.remember_homes(time.time())
        f.live.watcher = watcher
        before = dict(watcher.home_queues)
        campaign, _ = await f.admin.put(spring(), NOW, by="ann")
        north = f.admin.assigned(campaign)
        assert north == {"1001", "1002"}
        assert {s: watcher.home_queues[s] for s in north} == {
            s: tuple(sorted({*before[s], "campaign-spring"})) for s in north}
        assert watcher.home_queues["1003"] == before["1003"]
        await f.admin.put(spring(teams=[], seats=["1003"]), NOW + 60, by="ann")
        assert {s: watcher.home_queues[s] for s in north} == {s: before[s] for s in north}  # back home
        assert watcher.home_queues["1003"] == tuple(sorted({*before["1003"], "campaign-spring"}))
