"""A restart in the middle of a campaign loses and repeats nothing: callfloor (its own process, as
in production) is killed with SIGKILL while three dials ring at the carrier (SIPp), then started
again. The ledger holds every INVITE the carrier saw, exactly once; the three cut attempts are
closed as 'lost' and their leads are not dialled again as themselves; dialling goes on with the
next leads."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import traced
from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    SippResult,
    free_port,
    run_sipp,
    start_service,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SEATS = ("1001", "1002", "1003")
# All end in 4: the carrier rings them for ever (see dialer_carrier_mixed.xml).
LEADS = [f"+4420794601{i}4" for i in range(1, 7)]


def write_config(tmp_path: Path, sip_port: int, http_port: int, carrier_port: int) -> Path:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "leads.csv").write_text("number,name\n" + "".join(f"{n},Lead {i}\n" for i, n in enumerate(LEADS)))
    (campaigns / "restart.toml").write_text("""
leads = "leads.csv"
caller_id = "+12125550100"
mode = "progressive"
max_attempts = 3
ring_timeout = 90
seats = ["1001", "1002", "1003"]
[retry]
lost = "1h"
[windows]
hours = ["mon-sun 00:00-24:00"]
holidays = "weekday"
""")
    seats = "".join(f'[[seats]]\nid = "{s}"\npassword = "secret{s}"\n' for s in SEATS)
    rtp = 20000 + (os.getpid() % 50) * 200
    path = tmp_path / "callfloor.toml"
    path.write_text(f"""
[sip]
listen = "127.0.0.1:{sip_port}"
auth_algorithms = ["MD5"]
{seats}
[trunk]
host = "{CARRIER_HOST}"
port = {carrier_port}
allow = ["{CARRIER_HOST}/32"]
caller_id = "+12125550100"
[storage]
data_dir = "{tmp_path / 'data'}"
[http]
listen = "127.0.0.1:{http_port}"
[rtp]
ports = "{rtp}-{rtp + 199}"
[bus]
embedded_listen = "127.0.0.1:{free_port()}"
[dialer]
campaigns = "{campaigns}"
""")
    return path


async def seats_ready(tmp_path: Path, sip_port: int, http_port: int, run: int) -> None:
    """Register the seats (SIPp, Contact where nothing answers: no call reaches them) and make
    them ready through the HTTP API: progressive pacing then dials one lead per seat."""
    for seat in SEATS:
        work = tmp_path / f"register-{run}-{seat}"
        work.mkdir()
        result = await run_sipp(
            ["-sf", str(SIPP_DIR / "register.xml"), f"127.0.0.1:{sip_port}", "-i", "127.0.0.1",
             "-p", str(free_port()), "-m", "1", "-s", seat, "-au", seat, "-ap", f"secret{seat}",
             "-key", "contact_port", str(free_port()), "-key", "expires", "300"], work, timeout=20)
        assert result.returncode == 0, result.explain()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=10) as client:
        for seat in SEATS:
            r = await client.post(f"/api/seats/{seat}/presence", json={"action": "ready"})
            assert r.status_code == 200, r.text


def invites(workdir: Path) -> list[tuple[str, str]]:
    """(number, Call-ID) of each INVITE the carrier received, retransmissions left out."""
    text = "".join(p.read_text(errors="replace") for p in workdir.glob("*_messages.log"))
    out: list[tuple[str, str]] = []
    for m in traced(text):
        if not m.sent and m.start_line.startswith("INVITE"):
            key = (m.start_line.split()[1].split("@")[0].removeprefix("sip:"), m.headers["call-id"])
            if key not in out:
                out.append(key)
    return out


def attempts(db: Path) -> list[tuple[str, str, str | None, str | None]]:
    """(number, state, outcome, the call's SIP Call-ID) of each attempt, in order."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT a.number, a.state, a.outcome, c.sip_call_id FROM attempts a"
            " LEFT JOIN calls c ON c.uuid = a.call_uuid ORDER BY a.id").fetchall()


async def until_invites(workdir: Path, count: int, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if len(invites(workdir)) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the carrier saw {len(invites(workdir))} INVITEs, expected {count}")


async def test_a_restart_mid_campaign_loses_and_repeats_nothing(tmp_path: Path) -> None:
    sip_port, http_port, carrier_port = free_port(), free_port(), free_port(CARRIER_HOST)
    config = write_config(tmp_path, sip_port, http_port, carrier_port)
    db, log = tmp_path / "data" / "callfloor.db", tmp_path / "callfloor.log"
    carrier_dir = tmp_path / "carrier"
    carrier_dir.mkdir()
    carrier: asyncio.Task[SippResult] = asyncio.create_task(run_sipp(
        ["-sf", str(SIPP_DIR / "dialer_carrier_mixed.xml"), "-i", CARRIER_HOST, "-p", str(carrier_port),
         "-m", "6", "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True)),
         "-timeout", "60"], carrier_dir, timeout=65))
    service = await start_service(config, log)
    try:
        await seats_ready(tmp_path, sip_port, http_port, 1)
        await until_invites(carrier_dir, 3)
        await asyncio.sleep(0.5)                      # a fourth would have come by now: none may
        first = invites(carrier_dir)
        assert len(first) == 3
        service.send_signal(signal.SIGKILL)            # mid-campaign: three dials ringing
        await service.wait()
        cut = attempts(db)
        assert [(n, s) for n, s, _, _ in cut] == [(n, "dialing") for n, _ in first]

        service = await start_service(config, log)
        assert "3 attempts were cut by the last stop" in log.read_text()
        recovered = attempts(db)
        assert [(n, s, o) for n, s, o, _ in recovered] == [(n, "closed", "lost") for n, _ in first]
        await seats_ready(tmp_path, sip_port, http_port, 2)
        await until_invites(carrier_dir, 6)
        await asyncio.sleep(0.5)
    finally:
        service.send_signal(signal.SIGTERM)            # a clean stop cancels the ringing dials
        await asyncio.wait_for(service.wait(), 30)
    carrier.cancel()  # it rings the last dials for ever: stop it (run_sipp kills the process)
    with contextlib.suppress(asyncio.CancelledError):
        await carrier
    seen = invites(carrier_dir)
    ledger = attempts(db)
    # Every INVITE the carrier saw is one attempt in the ledger and the other way round: the
    # ledger's rows (joined to the calls' SIP Call-IDs) are exactly the carrier's INVITEs.
    assert sorted((n, cid) for n, _, _, cid in ledger) == sorted(seen)
    numbers = [n for n, _ in seen]
    assert sorted(numbers) == sorted(LEADS) and len(set(numbers)) == 6   # no lead dialled twice
    assert [o for _, _, o, _ in ledger[:3]] == ["lost"] * 3
    assert all(s == "closed" for _, s, _, _ in ledger)
    with sqlite3.connect(db) as conn:
        statuses = dict(conn.execute("SELECT number, status FROM leads"))
        lost_calls = conn.execute("SELECT COUNT(*) FROM calls WHERE status = 'lost'").fetchone()[0]
    assert {statuses[n] for n, _ in first} == {"retry"}   # due again only after retry.lost (1 h)
    assert lost_calls == 3
