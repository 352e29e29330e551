"""A campaign created over the HTTP API on a floor whose campaign directory is empty: its leads
imported over the API, the SIPp carrier gets an INVITE for each and a baresip seat takes the
answered calls; stopped with PATCH, it dials no more; after a restart it is still there, stopped.
Deleted, it leaves the floor; after another restart it does not come back, not even as a tile
rebuilt from its dialer events, and its calls are still in the day's report.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from callfloor.app import Running
from callfloor.settings import Settings
from tests.integration.conftest import SippFloor
from tests.integration.harness import CARRIER_HOST, floor, floor_settings, free_port
from tests.integration.peers.baresip import BaresipAccount, baresip
from tests.integration.peers.waits import registered, until
from tests.integration.test_dialer_campaign import (
    ROOT,
    api,
    carrier,
    invited,
    make_ready,
    microphone,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SEAT = "1001"
ANSWERING = ("+442079460105", "+442079460106")  # the carrier answers (last digit 5-9) and talks 3 s
LATER = "+442079460107"  # imported after the campaign is stopped: never dialled
CAMPAIGN = {
    "id": "spring", "name": "Spring", "caller_id": "+12125550100", "mode": "progressive",
    "max_attempts": 1, "ring_timeout": 3, "wrap_up": 1, "seats": [SEAT],
    "windows": {"hours": ["mon-sun 00:00-24:00"], "holidays": "weekday"},
}


def settings_for(tmp_path: Path) -> Settings:
    """The floor with ``[dialer] campaigns`` an empty directory (same database on every start)."""
    (tmp_path / "campaigns").mkdir(exist_ok=True)
    return floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)},
                          sip={"auth_algorithms": ["MD5"]},  # baresip 1.0 knows only MD5
                          dialer={"campaigns": str(tmp_path / "campaigns"),
                                  "prompts": str(ROOT / "config" / "ivr" / "prompts")})


@asynccontextmanager
async def seat_floor(tmp_path: Path) -> AsyncIterator[SippFloor]:
    """callfloor and the seat's baresip (auto-answer), registered."""
    async with floor(settings_for(tmp_path), http=True) as service, AsyncExitStack() as stack:
        account = BaresipAccount(SEAT, f"secret{SEAT}", service.sip_address, answermode="auto")
        await stack.enter_async_context(baresip(tmp_path / "baresip", account, microphone(tmp_path / "mic.wav"),
                                                lifetime=100))
        await until(lambda: registered(service, SEAT), "the seat to register")
        yield SippFloor(service, tmp_path / "sipp")


def attempts(service: Running) -> dict[str, tuple[str, str | None]]:
    """number -> (outcome or state, seat) of every attempt, read from the database file."""
    with sqlite3.connect(service.settings.storage.db_path) as conn:
        rows = conn.execute("SELECT number, coalesce(outcome, state), seat_id FROM attempts").fetchall()
    return {n: (o, s) for n, o, s in rows}


async def test_a_campaign_made_over_the_api_dials_stops_and_survives_a_restart(tmp_path: Path) -> None:
    async with seat_floor(tmp_path) as f:
        service = f.service
        assert service.dialer is not None and service.dialer.runs == {}  # nothing in the directory
        async with api(service) as client:
            created = await client.post("/api/campaigns", json=CAMPAIGN)
            assert created.status_code == 201, created.text
            assert created.json()["source"] == "api"
            sipp = carrier(f, len(ANSWERING), timeout=40)
            csv = "number,name\n" + "".join(f"{n},Customer {n[-3:]}\n" for n in ANSWERING)
            leads = await client.post("/api/campaigns/spring/leads", content=csv.encode(),
                                      headers={"Content-Type": "text/csv"})
            assert (leads.status_code, leads.json()["inserted"]) == (200, 2), leads.text
            await make_ready(service, (SEAT,))
            result = await sipp
            assert result.returncode == 0, result.explain()
            await until(lambda: all(attempts(service).get(n, ("",))[0] == "answered" for n in ANSWERING),
                        "both calls to be answered and closed", timeout=20)
            assert sorted(invited(result)) == sorted(ANSWERING)
            assert {n: attempts(service)[n] for n in ANSWERING} == {n: ("answered", SEAT) for n in ANSWERING}
            calls = [c for c in await service.store.calls() if c.direction == "outbound"]
            assert sorted((c.callee, c.seat_id) for c in calls) == [(n, SEAT) for n in ANSWERING]
            day = time.strftime("%Y-%m-%d", time.localtime())  # of the calls, in the machine's zone

            stopped = await client.patch("/api/campaigns/spring", json={"active": False})
            assert (stopped.status_code, stopped.json()["campaign"]["active"]) == (200, False)
            more = await client.post("/api/campaigns/spring/leads", content=f"number\n{LATER}\n".encode(),
                                     headers={"Content-Type": "text/csv"})
            assert more.json()["inserted"] == 1
            # Absence needs a window: a ready seat and a due lead would be dialled within one
            # pacing tick (0.5 s) of an active campaign; four ticks pass without an attempt.
            with pytest.raises(TimeoutError):
                await until(lambda: LATER in attempts(service), "no attempt for the stopped campaign", timeout=2)

    async with floor(settings_for(tmp_path), http=True) as service, api(service) as client:
        found = await client.get("/api/campaigns/spring")
        assert found.status_code == 200, found.text
        body = found.json()
        assert (body["source"], body["running"], body["campaign"]["active"]) == ("api", True, False)
        assert body["campaign"]["seats"] == [SEAT]
        assert [c["id"] for c in (await client.get("/api/campaigns")).json()] == ["spring"]
        assert LATER not in attempts(service)
        deleted = await client.delete("/api/campaigns/spring")
        assert (deleted.status_code, deleted.json()) == (200, {"id": "spring", "deleted": True})
        assert (await client.get("/api/campaigns/spring")).status_code == 404
        assert service.live is not None and "spring" not in service.live.board(time.time())["campaigns"]

    async with floor(settings_for(tmp_path), http=True) as service, api(service) as client:
        assert service.dialer is not None and service.dialer.runs == {}
        assert (await client.get("/api/campaigns")).json() == []
        assert service.live is not None
        board = service.live.board(time.time())  # 30 days of spring's dialer events replayed
        assert "spring" not in board["campaigns"] and "campaign-spring" not in board["queues"]
        versions = (await client.get("/api/campaigns/spring/versions")).json()["versions"]
        assert [v["change"] for v in versions] == ["deleted", "stopped", "created"]
        report = (await client.get(f"/api/reports/outbound?day={day}&by=seat")).json()
        [row] = report["campaigns"]  # its leads and attempts stay: the day's figures do not change
        assert (row["key"], row["dials"], row["connects"]) == ("spring", 2, 2)
