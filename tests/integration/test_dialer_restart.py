"""A restart in the middle of a campaign loses and repeats nothing: callfloor (its own process, as
in production) is killed with SIGKILL while three dials ring at the carrier (SIPp), then started
again. The ledger holds every INVITE the carrier saw, exactly once; the three cut attempts are
closed as 'lost' and their leads are not dialled again as themselves; dialling goes on with the
next leads. And a restarted campaign's pacer resumes from the ledger: its estimates are those the
last run's pacer had learnt from the same calls."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialer.pacing import Pacer
from dialer.pacing_history import estimates
from tests.integration.conftest import listening, traced
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


CAMPAIGN = """
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
"""


def write_config(tmp_path: Path, sip_port: int, http_port: int, carrier_port: int, *,
                 leads: list[str] = LEADS, campaign: str = CAMPAIGN) -> Path:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "leads.csv").write_text("number,name\n" + "".join(f"{n},Lead {i}\n" for i, n in enumerate(leads)))
    (campaigns / "restart.toml").write_text(campaign)
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


async def seats_ready(tmp_path: Path, sip_port: int, http_port: int, run: int,
                      phones: dict[str, int] | None = None) -> None:
    """Register the seats (SIPp; Contact at ``phones``' port, or where nothing answers: no call
    reaches them) and make them ready through the HTTP API: progressive pacing then dials one
    lead per seat."""
    for seat in SEATS:
        work = tmp_path / f"register-{run}-{seat}"
        work.mkdir()
        contact = (phones or {}).get(seat) or free_port()
        result = await run_sipp(
            ["-sf", str(SIPP_DIR / "register.xml"), f"127.0.0.1:{sip_port}", "-i", "127.0.0.1",
             "-p", str(free_port()), "-m", "1", "-s", seat, "-au", seat, "-ap", f"secret{seat}",
             "-key", "contact_port", str(contact), "-key", "expires", "300"], work, timeout=20)
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


# Last digits for the carrier (dialer_carrier_mixed.xml): 5-7 answer and talk 3 s, 1 busy, 2 480,
# 3 503.
MIXED = ["+442079460205", "+442079460201", "+442079460206", "+442079460202", "+442079460207",
         "+442079460203"]
ONCE = CAMPAIGN.replace("max_attempts = 3", "max_attempts = 1\nwrap_up = 1").replace(
    "ring_timeout = 90", "ring_timeout = 10")
# A seat's phone that answers every call at once and echoes (run with -rtp_echo).
SEAT_PHONE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="seat phone answering at once">
  <recv request="INVITE" crlf="true"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag07[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=seat 53655765 2353687637 IN IP[media_ip_type] [media_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <timewait milliseconds="200"/>
</scenario>
"""


def outcomes(db: Path) -> list[str | None]:
    """The closed attempts' outcomes, sorted."""
    with sqlite3.connect(db) as conn:
        return sorted(o for (o,) in conn.execute("SELECT outcome FROM attempts WHERE state = 'closed'"))


async def campaign_stats(http_port: int, timeout: float = 20.0) -> dict[str, Any]:
    """The campaign's entry of GET /api/campaigns, once the API answers."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=5) as client:
        for _ in range(int(timeout / 0.1)):
            with contextlib.suppress(httpx.TransportError):
                r = await client.get("/api/campaigns")
                if r.status_code == 200:
                    (stats,) = r.json()
                    return dict(stats)
            await asyncio.sleep(0.1)
    raise AssertionError("GET /api/campaigns did not answer")


async def start_phones(tmp_path: Path) -> tuple[dict[str, int], list[asyncio.Task[SippResult]]]:
    """A SIPp phone per seat that answers every call; its port by seat."""
    scenario = tmp_path / "seat_phone.xml"
    scenario.write_text(SEAT_PHONE)
    ports, tasks = {}, []
    for seat in SEATS:
        ports[seat] = port = free_port()
        work = tmp_path / f"phone-{seat}"
        work.mkdir()
        task = asyncio.create_task(run_sipp(
            ["-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1",
             "-mp", str(free_port(pair=True)), "-rtp_echo"], work, timeout=100))
        tasks.append(task)
        await listening("127.0.0.1", port, task)
    return ports, tasks


async def test_a_restarted_campaign_paces_from_its_ledger(tmp_path: Path) -> None:
    sip_port, http_port, carrier_port = free_port(), free_port(), free_port(CARRIER_HOST)
    config = write_config(tmp_path, sip_port, http_port, carrier_port, leads=MIXED, campaign=ONCE)
    db, log = tmp_path / "data" / "callfloor.db", tmp_path / "callfloor.log"
    carrier_dir = tmp_path / "carrier"
    carrier_dir.mkdir()
    peers: list[asyncio.Task[SippResult]] = [asyncio.create_task(run_sipp(
        ["-sf", str(SIPP_DIR / "dialer_carrier_mixed.xml"), "-i", CARRIER_HOST, "-p", str(carrier_port),
         "-m", str(len(MIXED)), "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True)),
         "-rtp_echo", "-timeout", "90"], carrier_dir, timeout=95))]
    service = await start_service(config, log)
    try:
        phones, tasks = await start_phones(tmp_path)
        peers += tasks
        await seats_ready(tmp_path, sip_port, http_port, 1, phones)
        for _ in range(400):
            if len(outcomes(db)) == len(MIXED):
                break
            await asyncio.sleep(0.1)
        # Each call reached its end: three talked to a seat, three failed at the carrier.
        assert outcomes(db) == ["answered"] * 3 + ["busy", "network_error", "no_answer"]
        before = await campaign_stats(http_port)
        service.send_signal(signal.SIGKILL)
        await service.wait()

        service = await start_service(config, log)
        after = await campaign_stats(http_port)
    finally:
        service.send_signal(signal.SIGTERM)
        await asyncio.wait_for(service.wait(), 30)
        for peer in peers:
            peer.cancel()
        for peer in peers:
            with contextlib.suppress(asyncio.CancelledError):
                await peer
    assert before["launched"] == 6 and before["pacer"]["warmed_from"] == 0  # the first run: cold
    assert after["launched"] == 0                                           # nothing due any more
    # The restarted pacer knows what the last run's had learnt from these six calls, exactly.
    assert after["pacer"] == {**before["pacer"], "warmed_from": 6}
    learnt, cold = before["pacer"], estimates(Pacer())
    assert learnt["answer_rate"] != cold["answer_rate"] and learnt["talk_mean"] != cold["talk_mean"]
    # Three connected answers, each a step of 0.25 (three seats) x the setpoint 0.85 x 3 %.
    step = 0.25 * (0.85 * 0.03)
    assert learnt["theta"] == math.exp(math.log(0.02) + step + step + step)
    assert ("campaign restart: pacer resumed from the ledger: 6 attempts replayed, 3 live answers"
            in log.read_text())
