"""A campaign end to end: the dialer calls a lead list through a SIPp carrier that answers some
calls, refuses others (486, 480, 503) and never answers one; baresip seats take the answered
calls by auto-answer; a blacklisted number and a lead outside its calling window never get an
INVITE; every attempt lands in the ledger with its outcome; the seat sees the lead and sets a
disposition; a call no seat takes within the grace time is abandoned with the recorded message.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest
import soundfile as sf

from callfloor.app import Running
from callfloor.store.audit import AuditLog
from recordings.wav import read_stereo
from telephony.rtp.tone import tone
from tests.integration.conftest import SippFloor, traced
from tests.integration.harness import CARRIER_HOST, SippResult, floor, floor_settings, free_port
from tests.integration.peers.baresip import Baresip, BaresipAccount, baresip
from tests.integration.peers.waits import registered, until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
# The carrier's scenario decides by the last digit: 1 busy, 2 480, 3 503, 4 rings for ever,
# anything else answers and talks for 3 s.
BUSY, UNAVAILABLE, FAILING, NO_ANSWER = "+442079460101", "+442079460102", "+442079460103", "+442079460104"
ANSWERING = ("+442079460105", "+442079460106", "+442079460107")
BLACKLISTED = "+442079460108"
OUT_OF_HOURS = "+8613800138005"  # would answer, but China's window is closed in the test


def closed_hours_now() -> str:
    """A one-hour window in Shanghai twelve hours away from now: closed whenever the test runs."""
    hour = (datetime.now(ZoneInfo("Asia/Shanghai")).hour + 12) % 24
    return f"mon-sun {hour:02d}:00-{hour:02d}:59"


def write_campaign(directory: Path, numbers: list[str], *, mode: str = "progressive",
                   seats: tuple[str, ...] = ("1001", "1002"), extra: str = "", ring_timeout: float = 3) -> Path:
    """A campaign file and its leads; open round the clock except China."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(f"{n},Customer {n[-3:]},{'gold' if i % 2 else 'silver'}" for i, n in enumerate(numbers))
    (directory / "it-leads.csv").write_text(f"number,name,plan\n{rows}\n")
    (directory / "it.toml").write_text(f"""
name = "integration"
leads = "it-leads.csv"
caller_id = "+12125550100"
mode = "{mode}"
max_attempts = 1
ring_timeout = {ring_timeout}
wrap_up = 1
seats = {json.dumps(list(seats))}
script = "Hello {{name}}, about your {{plan}} plan."
{extra}
[windows]
hours = ["mon-sun 00:00-24:00"]
holidays = "weekday"

[windows.countries.CN]
hours = ["{closed_hours_now()}"]

[[dispositions]]
code = "sale"
label = "Sale"
kind = "conversion"

[[dispositions]]
code = "no"
label = "Not interested"
kind = "refusal"

[[dispositions]]
code = "later"
label = "Call back"
kind = "callback"
""")
    return directory


def microphone(path: Path) -> Path:
    sf.write(path, tone(700.0, 60.0), 8000, subtype="PCM_16")
    return path


@asynccontextmanager
async def campaign_floor(tmp_path: Path, numbers: list[str], *, answermode: str = "auto",
                         seats: tuple[str, ...] = ("1001", "1002"), mode: str = "progressive",
                         extra: str = "", ring_timeout: float = 3) -> AsyncIterator[tuple[SippFloor, list[Baresip]]]:
    """callfloor with the campaign, its seats on baresip (registered, not yet ready)."""
    campaigns = write_campaign(tmp_path / "campaigns", numbers, mode=mode, seats=seats, extra=extra,
                               ring_timeout=ring_timeout)
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)},
                              sip={"auth_algorithms": ["MD5"]},  # baresip 1.0 knows only MD5
                              dialer={"campaigns": str(campaigns),
                                      "prompts": str(ROOT / "config" / "ivr" / "prompts")})
    async with floor(settings, http=True) as service, AsyncExitStack() as stack:
        phones = []
        for seat in seats:
            account = BaresipAccount(seat, f"secret{seat}", service.sip_address, answermode=answermode)
            phones.append(await stack.enter_async_context(
                baresip(tmp_path / f"baresip-{seat}", account, microphone(tmp_path / f"mic-{seat}.wav"),
                        lifetime=100)))
        for seat in seats:
            await until(lambda s=seat: registered(service, s), f"seat {seat} to register")  # type: ignore[misc]
        yield SippFloor(service, tmp_path / "sipp"), phones


def api(service: Running) -> httpx.AsyncClient:
    assert service.http_address is not None
    host, port = service.http_address
    return httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=10.0)


async def make_ready(service: Running, seats: tuple[str, ...]) -> None:
    async with api(service) as client:
        for seat in seats:
            r = await client.post(f"/api/seats/{seat}/presence", json={"action": "ready"})
            assert r.status_code == 200, r.text


def carrier(f: SippFloor, calls: int, timeout: float) -> asyncio.Task[SippResult]:
    """The carrier's SIPp UAS on the trunk port, for ``calls`` calls (its exit ends the test)."""
    args = ["-i", CARRIER_HOST, "-p", str(f.trunk_port), "-m", str(calls),
            "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True)), "-rtp_echo",
            "-timeout", str(int(timeout))]
    return asyncio.create_task(f.run("carrier", "dialer_carrier_mixed.xml", args, timeout=timeout + 5))


def ledger(service: Running) -> dict[str, tuple[str, str | None, str | None, str]]:
    """number -> (outcome, seat, amd, call uuid) of every attempt (read from the file)."""
    with sqlite3.connect(service.settings.storage.db_path) as conn:
        rows = conn.execute("SELECT number, coalesce(outcome, state), seat_id, amd, call_uuid"
                            " FROM attempts ORDER BY id").fetchall()
    return {n: (o, s, a, u) for n, o, s, a, u in rows}


def invited(result: SippResult) -> list[str]:
    """The numbers the carrier received an INVITE for (in its own message trace)."""
    return [m.start_line.split()[1].split("@")[0].removeprefix("sip:")
            for m in traced(result.messages) if not m.sent and m.start_line.startswith("INVITE")]


async def sse_events(client: httpx.AsyncClient, seat: str, into: list[dict[str, Any]]) -> None:
    """Collect the seat's screen-pop stream until cancelled."""
    async with client.stream("GET", f"/api/seats/{seat}/events") as response:
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event is not None:
                into.append(json.loads(line.removeprefix("data: ")))


async def test_a_campaign_dials_through_the_carrier_to_baresip_seats(tmp_path: Path) -> None:
    numbers = [BUSY, UNAVAILABLE, FAILING, NO_ANSWER, *ANSWERING, BLACKLISTED, OUT_OF_HOURS]
    seats = ("1001", "1002")
    async with campaign_floor(tmp_path, numbers, seats=seats) as (f, phones):
        service = f.service
        async with api(service) as client:
            r = await client.post("/api/dnc", json={"number": BLACKLISTED, "reason": "complaint"})
            assert r.json() == {"number": BLACKLISTED, "added": True}
            [entry] = await AuditLog(service.store).entries(action="dnc.add")  # every change is audited
            assert (entry.actor, entry.subject, entry.detail["reason"]) == ("api", f"number:{BLACKLISTED}", "complaint")
            pops: dict[str, list[dict[str, Any]]] = {seat: [] for seat in seats}
            streams = [asyncio.create_task(sse_events(client, seat, pops[seat])) for seat in seats]
            sipp = carrier(f, 7, timeout=60)
            await asyncio.sleep(0.3)
            await make_ready(service, seats)                      # progressive: one dial per ready seat
            result = await sipp
            assert result.returncode == 0, result.explain()
            await until(lambda: len([o for o, *_ in ledger(service).values() if o != "dialing"]) == 7,
                        "every attempt to close", timeout=20)
            for task in streams:
                task.cancel()
        attempts = ledger(service)
        assert sorted(invited(result)) == sorted([BUSY, UNAVAILABLE, FAILING, NO_ANSWER, *ANSWERING])
        assert BLACKLISTED not in attempts and OUT_OF_HOURS not in attempts
        assert {n: attempts[n][0] for n in (BUSY, UNAVAILABLE, FAILING, NO_ANSWER)} == {
            BUSY: "busy", UNAVAILABLE: "no_answer", FAILING: "network_error", NO_ANSWER: "no_answer"}
        for number in ANSWERING:
            outcome, seat, _, call = attempts[number]
            assert outcome == "answered" and seat in seats, attempts[number]
        calls = {c.uuid: c for c in await service.store.calls()}
        for number in ANSWERING:
            row = calls[attempts[number][3]]
            assert (row.direction, row.callee, row.seat_id) == ("outbound", number, attempts[number][1])
            assert row.recording_path and (service.settings.storage.recordings_dir / row.recording_path).exists()
        # The seat saw each of its calls with the lead's data, then its end.
        popped = [e for seat in seats for e in pops[seat] if e["event"] == "call"]
        assert sorted(e["lead"]["number"] for e in popped) == sorted(ANSWERING)
        first = popped[0]
        assert first["script"] == "Hello {name}, about your {plan} plan."
        assert first["lead"]["data"]["plan"] in ("gold", "silver")
        assert {d["code"] for d in first["dispositions"]} == {"sale", "no", "later"}
        seat = attempts[ANSWERING[0]][1]
        assert seat is not None
        async with api(service) as client:
            r = await client.post(f"/api/seats/{seat}/disposition", json={"code": "sale", "note": "renewed"})
            assert r.status_code == 200, r.text
            campaigns = (await client.get("/api/campaigns")).json()
            await service.executor.close()            # the ledger's last writes land first
            service.executor.start()
            today = datetime.now().strftime("%Y-%m-%d")
            report = (await client.get(f"/api/reports/outbound?day={today}&by=seat")).json()
        assert campaigns[0]["id"] == "it" and campaigns[0]["launched"] == 7
        assert campaigns[0]["abandon_24h"] == 0.0
        # The day's report reconciles with the ledger and the call records.
        total = report["total"]
        assert (total["dials"], total["connects"], total["conversions"], total["abandoned"]) == (7, 3, 1, 0)
        by_seat = {r["key"]: r for r in report["rows"]}
        for seat_id in seats:
            mine = [calls[a[3]] for a in attempts.values() if a[1] == seat_id]
            if mine:
                assert by_seat[seat_id]["connects"] == len(mine)
                assert by_seat[seat_id]["talk_s"] == pytest.approx(sum(c.duration or 0 for c in mine), abs=0.01)


async def test_a_call_no_seat_takes_within_two_seconds_is_abandoned_with_the_message(tmp_path: Path) -> None:
    # The seat's phone rings but nobody picks up: the customer hears the abandon message.
    number = ANSWERING[0]
    async with campaign_floor(tmp_path, [number], answermode="manual", seats=("1001",),
                              mode="predictive") as (f, _):
        service = f.service
        sipp = carrier(f, 1, timeout=30)
        await asyncio.sleep(0.3)
        await make_ready(service, ("1001",))
        result = await sipp
        assert result.returncode == 0, result.explain()
        await until(lambda: ledger(service).get(number, ("dialing",))[0] != "dialing", "the attempt to close")
        outcome, seat, _, call = ledger(service)[number]
        assert (outcome, seat) == ("abandoned", None)
        row = next(c for c in await service.store.calls() if c.uuid == call)
        assert row.seat_id is None and row.recording_path
        # The call is recorded from the answer: the customer's echo on one side, and from the
        # 2-second mark on, the message callfloor played on the other.
        frames, _ = read_stereo(service.settings.storage.recordings_dir / row.recording_path)
        left, right = frames[:, 0], frames[:, 1]
        played = right if np.abs(right).mean() > np.abs(left).mean() else left
        quiet, spoken = played[: int(1.8 * 8000)], played[int(2.2 * 8000): int(2.9 * 8000)]
        assert np.sqrt(np.mean(spoken.astype(float) ** 2)) > 10 * max(1.0, np.sqrt(np.mean(quiet.astype(float) ** 2)))
        async with api(service) as client:
            (stats,) = (await client.get("/api/campaigns")).json()
        assert stats["abandon_24h"] == 1.0 and stats["predictive_allowed"] is False
        assert stats["mode"] == "predictive" and stats["pacing_now"] == "progressive"


async def test_preview_the_seat_dials_its_lead_and_gets_the_callback_it_booked(tmp_path: Path) -> None:
    number = ANSWERING[1]
    async with campaign_floor(tmp_path, [number], seats=("1001",), mode="preview") as (f, _):
        service = f.service
        sipp = carrier(f, 2, timeout=40)
        await asyncio.sleep(0.3)
        await make_ready(service, ("1001",))
        await asyncio.sleep(1.5)
        assert ledger(service) == {}                      # preview: nothing is dialled by itself
        async with api(service) as client:
            shown = (await client.post("/api/seats/1001/preview", json={})).json()
            assert shown["lead"]["number"] == number and shown["campaign"] == "it"
            dialled = (await client.post("/api/seats/1001/preview/dial", json={})).json()
            await until(lambda: ledger(service).get(number, ("dialing",))[0] != "dialing",
                        "the previewed call to end", timeout=15)
            assert ledger(service)[number][:2] == ("answered", "1001")
            past = await client.post("/api/seats/1001/disposition",
                                     json={"code": "later", "callback_at": "2020-01-01T10:00:00+08:00"})
            assert (past.status_code, past.json()["error"].split(": ")[-1]) == (
                400, "callback_at 2020-01-01T10:00:00+08:00 is in the past")
            due = time.time() + 2
            r = await client.post("/api/seats/1001/disposition",
                                  json={"code": "later", "callback_at": due, "callback_to": "seat"})
            assert r.status_code == 200, r.text
            await asyncio.sleep(max(0.0, due - time.time()) + 1.5)   # the callback is due; wrap-up over
            again = (await client.post("/api/seats/1001/preview", json={})).json()
            assert again["lead"]["number"] == number and again["lead"]["last_outcome"] == "answered"
            second = (await client.post("/api/seats/1001/preview/dial", json={})).json()
            assert second["call"] != dialled["call"]
        result = await sipp
        assert result.returncode == 0, result.explain()
        with sqlite3.connect(service.settings.storage.db_path) as conn:
            rows = conn.execute("SELECT outcome, seat_id, mode FROM attempts ORDER BY id").fetchall()
            booked = conn.execute("SELECT seat_id, state FROM callbacks").fetchall()
        assert rows == [("answered", "1001", "preview"), ("answered", "1001", "preview")]
        assert booked == [("1001", "done")]


async def test_an_answering_machine_is_detected_and_hung_up_on(tmp_path: Path) -> None:
    number = ANSWERING[2]
    async with campaign_floor(tmp_path, [number], seats=("1001",),
                              extra='[amd]\naction = "hangup"\n') as (f, phones):
        service = f.service
        args = ["-i", CARRIER_HOST, "-p", str(f.trunk_port), "-m", "1",
                "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST, pair=True)), "-timeout", "20"]
        sipp = asyncio.create_task(f.run("machine", "dialer_machine.xml", args, timeout=25))
        await asyncio.sleep(0.3)
        await make_ready(service, ("1001",))
        result = await sipp
        assert result.returncode == 0, result.explain()
        await until(lambda: ledger(service).get(number, ("dialing",))[0] != "dialing", "the attempt to close")
        outcome, seat, amd, call = ledger(service)[number]
        assert (outcome, seat, amd) == ("machine", None, "machine")
        assert not [e for e in phones[0].seen if e.get("type") == "CALL_ESTABLISHED"]  # no seat was rung
        row = next(c for c in await service.store.calls() if c.uuid == call)
        assert row.seat_id is None and row.hangup_by == "callfloor"


async def test_predictive_pacing_cancels_a_dial_no_seat_can_take_after_its_minimum_ring(tmp_path: Path) -> None:
    # A predictive campaign dials a number that rings for ever; then its only seat pauses. An
    # answer would now be abandoned, so pacing cancels the dial once it has rung 15 s, long
    # before the 40 s ring timeout, and the ledger records a no-answer.
    async with campaign_floor(tmp_path, [NO_ANSWER], seats=("1001",), mode="predictive",
                              extra="min_ring = 15\n", ring_timeout=40) as (f, _):
        service = f.service
        sipp = carrier(f, 1, timeout=60)
        await asyncio.sleep(0.3)
        await make_ready(service, ("1001",))
        await until(lambda: NO_ANSWER in ledger(service), "the dial", timeout=10)
        async with api(service) as client:
            r = await client.post("/api/seats/1001/presence", json={"action": "pause", "reason": "break"})
            assert r.status_code == 200, r.text
            result = await sipp
            assert result.returncode == 0, result.explain()
            await until(lambda: ledger(service)[NO_ANSWER][0] != "dialing", "the attempt to close")
            (stats,) = (await client.get("/api/campaigns")).json()
        with sqlite3.connect(service.settings.storage.db_path) as conn:
            [(outcome, status, created, closed)] = conn.execute(
                "SELECT outcome, sip_status, created_at, closed_at FROM attempts").fetchall()
        assert (outcome, status) == ("no_answer", 487)
        # Cancelled at its minimum ring (counted from the 180), not at the 40 s ring timeout.
        assert 15.0 <= closed - created < 25.0, closed - created
        assert (stats["paced_out"], stats["launched"]) == (1, 1)
        received = [m.start_line.split()[0] for m in traced(result.messages) if not m.sent]
        assert received[:2] == ["INVITE", "CANCEL"], received
