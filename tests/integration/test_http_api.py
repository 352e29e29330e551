"""The HTTP API over a running floor: seats with their ACD state, queues, presence changes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from callfloor.store.audit import AuditLog
from tests.integration.harness import floor, floor_settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


async def test_presence_by_api_and_the_queue_view(tmp_path: Path) -> None:
    seats = [{"id": "1001", "password": "secret1001", "queues": ["support"]},
             {"id": "1002", "password": "secret1002", "queues": ["sales"]}]
    settings = floor_settings(tmp_path, seats=seats, ivr={"flows": str(ROOT / "config" / "ivr")},
                              queues=[{"name": "support"}, {"name": "sales"}, {"name": "vip"}])
    async with floor(settings, http=True) as service:
        assert service.http_address is not None
        base = "http://{}:{}".format(*service.http_address)
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            before = {s["id"]: s for s in (await client.get("/api/seats")).json()}
            assert before["1001"]["presence"] == "logged-out" and not before["1001"]["registered"]
            paused = await client.post("/api/seats/1001/presence", json={"action": "pause", "reason": "training"})
            assert paused.status_code == 200, paused.text
            assert (paused.json()["presence"], paused.json()["reason"]) == ("paused", "training")
            ready = await client.post("/api/seats/1001/presence", json={"action": "ready"})
            assert ready.json()["presence"] == "ready"
            assert (await client.post("/api/seats/9999/presence", json={"action": "ready"})).status_code == 404
            assert (await client.post("/api/seats/1001/presence", json={"action": "dance"})).status_code == 400
            queues = {q["name"]: q for q in (await client.get("/api/queues")).json()}
            assert queues["support"]["waiting"] == 0 and queues["support"]["strategy"] == "longest-idle"
            # Ready but not registered: staffed needs a registered phone too.
            assert queues["support"]["staffed"] == 0
        await service.executor.close()
        service.executor.start()
        states = [e.data for e in reversed(await service.store.events(kind="seat.state"))]
        audit = list(reversed(await AuditLog(service.store).entries(action="seat.presence")))
    assert [(e["presence"], e["by"]) for e in states] == [("paused", "api"), ("ready", "api")]
    # Every presence change is audited with who asked (no login here: the API and its client).
    assert [(a.actor, a.subject, a.detail["action"], a.detail["client"]) for a in audit] == [
        ("api", "seat:1001", "pause", "127.0.0.1"), ("api", "seat:1001", "ready", "127.0.0.1")]
