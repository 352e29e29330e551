"""The monitor's listen action on the running service goes through the live floor to the call
engine, and its refusals come back as answers a lead can read: no such call (404), no seat of
its own to ring (409); a refused listen is not audited. The audio itself, with real phones, is
tests/integration/test_listen.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from callfloor.store.audit import AuditLog
from callfloor.store.users import UserStore
from callfloor.web.passwords import Passwords
from tests.integration.harness import CARRIER_HOST, floor, floor_settings, free_port
from tests.integration.peers.floor import DEMO_FLOWS

pytestmark = pytest.mark.integration

PASSWORD = "lead-password-1"


async def test_listen_refusals_through_the_service(tmp_path: Path) -> None:
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)}, routes={},
                              ivr={"flows": str(DEMO_FLOWS)},
                              queues=[{"name": "support"}, {"name": "sales"}, {"name": "vip"}])
    async with floor(settings, http=True) as service:
        assert service.http_address is not None
        users = UserStore(service.store)
        hashed = Passwords().hash(PASSWORD)
        now = service.sip.clock()
        await users.add("lead", role="lead", password_hash=hashed, now=now, by="test", seat="1004")
        await users.add("lead2", role="lead", password_hash=hashed, now=now, by="test")
        base = "http://{}:{}".format(*service.http_address)
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            token = (await http.post("/login", json={"username": "lead", "password": PASSWORD})).json()["csrf_token"]
            unknown = await http.post("/api/monitor/calls/no-such-call/listen", headers={"X-CSRF-Token": token})
            assert unknown.status_code == 404 and "no-such-call" in unknown.json()["error"], unknown.text
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            token = (await http.post("/login", json={"username": "lead2", "password": PASSWORD})).json()["csrf_token"]
            seatless = await http.post("/api/monitor/calls/any/listen", headers={"X-CSRF-Token": token})
            assert seatless.status_code == 409 and "no seat" in seatless.json()["error"]
        assert await AuditLog(service.store).entries(action="call.listen") == []
