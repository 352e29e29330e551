"""Deleting a campaign made over the API: ``CampaignAdmin.delete`` on the service's real dialer
wiring (ACD, board, runtime, store; no sockets) and ``DELETE /api/campaigns/<id>``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from callfloor.campaignadmin import CampaignConflict
from callfloor.store.dialer import DialerStore
from callfloor.web.auth import Auth, Role
from callfloor.web.passwords import Passwords
from floor.states import PresenceAction
from tests.unit.web.authkit import FAST, add_user, login
from tests.unit.web.test_api_campaigns import CALLER, NOW, client, routed, spring, stack


async def test_a_stopped_campaign_is_deleted_everywhere_and_its_history_kept(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        await f.admin.put(spring(), NOW, by="ann")
        with pytest.raises(CampaignConflict, match="'spring' is dialling: stop it first"):
            await f.admin.delete("spring", NOW + 1, by="ann")
        assert "spring" in f.runtime.runs  # refused: nothing changed
        await f.admin.set_active("spring", False, NOW + 2, by="ann")
        page = f.live.subscribe()
        await f.admin.delete("spring", NOW + 3, by="ann")
        assert "spring" not in f.runtime.runs
        assert "campaign-spring" not in f.board.acd.snapshot(time.time()).queues
        assert (f.queues_of("1001"), f.queues_of("1003")) == ((), ("campaign-renewals", "support"))
        board = f.live.board(time.time())
        assert (list(board["campaigns"]), "campaign-spring" in board["queues"]) == (["renewals"], False)
        assert board["seats"]["1001"]["queues"] == []
        pushed = []
        while not page.empty():
            pushed.append(page.get_nowait())
        assert {(i["type"], i["id"]) for i in pushed if i["data"] is None} == {
            ("campaign", "spring"), ("queue", "campaign-spring")}
        ledger = DialerStore(f.store)
        assert (await ledger.api_campaigns(), await ledger.campaign_source("spring")) == ([], None)
        assert [(v.change, v.changed_by, v.config["active"]) for v in await ledger.versions("spring")] == [
            ("created", "ann", True), ("stopped", "ann", False), ("deleted", "ann", False)]
        [entry] = await f.audit.entries(action="campaign.deleted")
        assert (entry.actor, entry.subject, entry.detail) == ("ann", "campaign:spring", {"source": "api"})
        with pytest.raises(LookupError, match="no campaign 'spring'"):
            await f.admin.delete("spring", NOW + 4, by="ann")
        with pytest.raises(LookupError, match="no campaign 'spring'"):
            await f.admin.definition("spring")


async def test_a_deleted_id_posted_again_is_a_new_campaign_on_the_floor(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        await f.admin.put(spring(active=False), NOW, by="ann")
        await f.admin.delete("spring", NOW + 1, by="ann")
        campaign, created = await f.admin.put(spring(), NOW + 2, by="ann")
        assert created and f.runtime.runs["spring"].campaign == campaign
        assert "campaign-spring" in f.board.acd.snapshot(time.time()).queues
        assert f.queues_of("1001") == ("campaign-spring",)
        assert "spring" in f.live.board(time.time())["campaigns"]
        changes = [v.change for v in await DialerStore(f.store).versions("spring")]
        assert changes == ["created", "deleted", "created"]


async def test_a_file_campaign_and_a_call_in_progress_are_refused(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        with pytest.raises(CampaignConflict, match="defined in a campaign file: remove the file"):
            await f.admin.delete("renewals", NOW, by="ann")
        await f.admin.put(spring(active=False), NOW, by="ann")
        acd, at = f.board.acd, time.time()
        # A seat of spring is logged in, so an answered call waits in the queue for it (the seat's
        # phone is not registered here: the offer fails and the call waits on).
        f.board.run(acd.seat_reachable("1001", True, at), at)
        f.board.run(acd.set_presence("1001", PresenceAction.READY, at), at)
        f.board.run(acd.caller_joined("d1", "campaign-spring", at), at)
        assert [c.call for c in acd.snapshot(at).queues["campaign-spring"].callers] == ["d1"]
        with pytest.raises(CampaignConflict, match="queue campaign-spring has 1 call"):
            await f.admin.delete("spring", NOW + 1, by="ann")
        assert "spring" in f.runtime.runs and "spring" in f.live.board(time.time())["campaigns"]
        assert await DialerStore(f.store).campaign_source("spring") == "api"


async def test_the_route_deletes_for_leads_and_admins_only(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        for name, role in (("lead", Role.LEAD), ("qa", Role.QA)):
            await add_user(auth, name, role)
        app = routed(f, auth)
        async with client(app, "127.0.0.1") as local:
            assert (await local.post("/api/campaigns", json=spring())).status_code == 201
            busy = await local.delete("/api/campaigns/spring")
            assert busy.status_code == 409 and "stop it first (PATCH active=false)" in busy.json()["error"]
            assert (await local.patch("/api/campaigns/spring", json={"active": False})).status_code == 200
            filed = await local.delete("/api/campaigns/renewals")
            assert filed.status_code == 409 and "campaign file" in filed.json()["error"]
            assert (await local.delete("/api/campaigns/autumn")).status_code == 404
        results = {}
        for name in ("qa", "lead"):
            async with client(app, "10.0.0.9") as remote:
                headers = {"X-CSRF-Token": (await login(remote, name)).json()["csrf_token"]}
                results[name] = (await remote.delete("/api/campaigns/spring", headers=headers)).status_code
        assert results == {"qa": 403, "lead": 200}
        async with client(app, "127.0.0.1") as local:
            assert (await local.get("/api/campaigns/spring")).status_code == 404
            assert [c["id"] for c in (await local.get("/api/campaigns")).json()] == ["renewals"]
            history = (await local.get("/api/campaigns/spring/versions")).json()["versions"]
            assert [(v["change"], v["by"]) for v in history][:2] == [("deleted", "lead"), ("stopped", "api:127.0.0.1")]


async def test_a_lead_with_a_team_changes_only_its_team_s_campaigns(tmp_path: Path) -> None:
    async with stack(tmp_path) as f:
        auth = Auth(f.store, passwords=Passwords(FAST))
        await add_user(auth, "nora", Role.LEAD, team="north")
        await add_user(auth, "sam", Role.LEAD, team="south")
        app = routed(f, auth)
        await f.admin.put(spring(), NOW, by="ann")  # teams: north
        await f.admin.put({"id": "autumn", "caller_id": CALLER, "seats": ["1003"], "active": False}, NOW,
                          by="ann")  # seat 1003 has no team
        async with client(app, "10.0.0.9") as north:
            h = {"X-CSRF-Token": (await login(north, "nora")).json()["csrf_token"]}
            mine = await north.patch("/api/campaigns/spring", json={"active": False}, headers=h)
            other = await north.patch("/api/campaigns/autumn", json={"active": True}, headers=h)
            filed = await north.patch("/api/campaigns/renewals", json={"active": False}, headers=h)
            gone = await north.delete("/api/campaigns/autumn", headers=h)
            grab = await north.post("/api/campaigns", json=spring(id="winter", teams=["north", "south"]), headers=h)
            named = await north.post("/api/campaigns", json=spring(id="winter", teams=[], seats=["1001", "1003"]),
                                     headers=h)
            own = await north.post("/api/campaigns", json=spring(id="winter", teams=[], seats=["1002"]), headers=h)
            steal = await north.post("/api/campaigns", json={"id": "autumn", "caller_id": CALLER, "teams": ["north"]},
                                     headers=h)
            csv = {**h, "Content-Type": "text/csv"}
            leads_other = await north.post("/api/campaigns/autumn/leads", content=b"number\n+442079460105\n",
                                           headers=csv)
            leads_mine = await north.post("/api/campaigns/spring/leads", content=b"number\n+442079460105\n",
                                          headers=csv)
        async with client(app, "10.0.0.9") as south:
            h = {"X-CSRF-Token": (await login(south, "sam")).json()["csrf_token"]}
            theirs = await south.patch("/api/campaigns/spring", json={"active": True}, headers=h)
        assert (mine.status_code, other.status_code, filed.status_code, gone.status_code) == (200, 403, 403, 403)
        assert other.json() == {"error": "campaign autumn assigns no seat of your team 'north'"}
        assert (grab.status_code, named.status_code, own.status_code, steal.status_code) == (403, 403, 201, 403)
        assert grab.json()["error"] == ("campaign 'winter' would assign south, outside your team 'north':"
                                        " a team's lead assigns its own seats only")
        assert named.json()["error"].startswith("campaign 'winter' would assign 1003, outside")
        assert theirs.status_code == 403
        assert (leads_other.status_code, leads_mine.status_code, leads_mine.json()["inserted"]) == (403, 200, 1)
        assert (f.runtime.runs["spring"].campaign.active, f.runtime.runs["autumn"].campaign.active) == (False, False)
        assert f.runtime.runs["autumn"].campaign.seats == ("1003",)  # not taken over
