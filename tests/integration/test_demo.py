"""``callfloor demo`` end to end, as a user runs it: the service, the simulated seats and the
simulated carrier with its customers, for a bounded time, then stopped by Ctrl-C.

The demo's campaign must have dialled (attempts in the ledger, each closed with an outcome),
at least one call must have reached a campaign seat, which set a disposition through the HTTP
API, and nothing may crash. A second run on the same data directory still has leads to dial and
never dials again a lead the first run finished. The narration's lines are checked on their own.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callfloor.sim.narration import Narrator
from tests.integration.harness import CARRIER_HOST, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN_SEATS = ("1003", "1004")


def demo(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    """``callfloor demo`` on free ports (the module's own entry point: the same options)."""
    command = [sys.executable, "-m", "callfloor.demo", "--data-dir", str(data_dir),
               "--sip-port", "0", "--http-port", "0",
               "--carrier-port", str(free_port(CARRIER_HOST)), *args]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def finished(process: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def rows(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "callfloor.db") as db:
        return db.execute(sql).fetchall()


def assert_clean(code: int, err: str) -> None:
    assert code == 0, err
    for sign in ("Traceback", "ERROR", "Task exception", "was never retrieved"):
        assert sign not in err, err


def test_the_demo_dials_its_campaign_and_seats_set_dispositions(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    started = time.time()
    code, out, err = finished(demo(data, "--duration", "40", "--seed", "11"), timeout=120)
    assert_clean(code, err)
    assert "callfloor demo floor is up" in out
    assert "campaign       demo: config/demo-campaigns/demo.toml, predictive, seats 1003, 1004" in out
    assert "customers      35% live, 20% busy, 25% no answer, 15% machine, 5% error" in out
    assert "fresh leads imported (POST /api/campaigns/demo/leads)" in out
    assert "dialer demo: attempt" in out and "set disposition" in out

    attempts = rows(data, "SELECT id, outcome, state, seat_id, created_at FROM attempts")
    assert len(attempts) >= 4, out
    assert all(state == "closed" and outcome for _, outcome, state, _, _ in attempts), attempts
    assert all(float(at) >= started for *_, at in attempts)  # type: ignore[arg-type]
    answered = [a for a in attempts if a[1] == "answered"]
    assert answered and {a[3] for a in answered} <= set(CAMPAIGN_SEATS), attempts
    outcomes = {a[1] for a in attempts}
    assert outcomes <= {"answered", "abandoned", "busy", "no_answer", "machine", "network_error",
                        "cancelled"}, outcomes
    assert len(outcomes) >= 2, outcomes          # the customers do not all behave alike
    dispositions = rows(data, "SELECT d.seat_id, d.code, a.outcome FROM dispositions d"
                              " JOIN attempts a ON a.id = d.attempt_id")
    assert dispositions, out
    assert all(seat in CAMPAIGN_SEATS and outcome == "answered" for seat, _, outcome in dispositions)
    assert {code for _, code, _ in dispositions} <= {"renewed", "declined", "callback", "dnc",
                                                     "wrong_person"}
    # The campaign's calls are recorded like any other.
    recorded = rows(data, "SELECT count(*) FROM calls c JOIN attempts a ON a.call_uuid = c.uuid"
                          " WHERE a.outcome = 'answered' AND c.recording_path IS NOT NULL")
    assert recorded[0][0] == len(answered)
    # The summary at the end agrees with the ledger.
    assert f"the dialer closed {len(attempts)} attempts" in out, out[-800:]
    assert "customers called the demo line" in out

    # A second run on the same data: fresh leads to dial, nothing the first run finished again,
    # stopped with Ctrl-C.
    done = {lead for (lead,) in rows(data, "SELECT lead_id FROM attempts WHERE outcome = 'answered'")}
    first = max(int(str(a[0])) for a in attempts)
    process = demo(data, "--seed", "12", "--calls-per-minute", "0")
    time.sleep(20)
    process.send_signal(signal.SIGINT)
    code, out, err = finished(process, timeout=60)
    assert_clean(code, err)
    assert "stopping: no new dials, hanging up calls" in out
    again = rows(data, f"SELECT lead_id, state FROM attempts WHERE id > {first}")
    assert again, out
    assert not done & {lead for lead, _ in again}
    assert {state for _, state in again} == {"closed"}


def test_inbound_only_without_the_campaign(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    code, out, err = finished(demo(data, "--duration", "12", "--no-campaign", "--seed", "3",
                                   "--calls-per-minute", "20"), timeout=60)
    assert_clean(code, err)
    assert "campaign       " not in out and "dialer " not in out
    assert "IVR            +15550100: config/ivr/demo.toml -> queues sales, support, vip " \
           "(seats 1001, 1002, 1003, 1004)" in out
    assert rows(data, "SELECT count(*) FROM attempts") == [(0,)]


def test_the_narration_of_the_dialer() -> None:
    n = Narrator()
    call = "3f2a9c1e0b7d4e5f"
    assert n.line("dialer.attempt", {"campaign": "demo", "call": call, "lead": 7, "attempt": 12,
                                     "outcome": "busy", "seat": None, "amd": None}) == \
        "call 3f2a9c1e  dialer demo: attempt 12 (lead 7) busy"
    assert n.line("call.ended", {"call": call, "reason": "busy", "talk_seconds": 0.0}) is None
    assert n.line("dialer.connected", {"campaign": "demo", "call": call, "lead": 8, "seat": "1003",
                                       "after_s": 0.004}) == \
        "call 3f2a9c1e  dialer demo: lead 8 connected to seat 1003 0.00 s after the answer"
    assert n.line("dialer.abandoned", {"campaign": "demo", "call": call, "lead": 9,
                                       "number": "+442079460123", "waited_s": 2.0}) == \
        ("call 3f2a9c1e  dialer demo: ABANDONED +442079460123: no seat within the grace time "
         "(2.0 s), the message plays")
    assert n.line("dialer.disposition", {"campaign": "demo", "call": call, "seat": "1003",
                                         "code": "callback", "callback_at": 1.0}) == \
        "call 3f2a9c1e  dialer demo: seat 1003 set disposition callback (callback booked)"
    assert n.line("dialer.attempt", {"campaign": "demo", "call": "x", "lead": 8, "attempt": 13,
                                     "outcome": "answered", "seat": "1003", "amd": "human"}) == \
        "call x  dialer demo: attempt 13 (lead 8) answered, seat 1003, AMD human"
    assert n.line("queue.joined", {"call": call, "queue": "campaign-demo"}) is None
    assert n.line("queue.joined", {"call": call, "queue": "sales"}) == "call 3f2a9c1e  joined queue sales"
    assert n.line("call.progress", {"call": call}) is None
    stats = {"id": "demo", "launched": 5, "abandon_24h": 0.0312, "target_abandon": 0.03,
             "pacing_now": "progressive", "mode": "predictive", "dialing": 2,
             "seats": {"ready": 1, "talking": 1, "wrap_up": 0}}
    assert n.campaign_line(stats) == (
        "campaign demo: 5 dials this run (1 answered, 1 busy); 1 connected, 1 abandoned; abandon "
        "rate 3.1% over 24 h (target 3%); pacing now progressive (mode predictive); seats 1 ready, "
        "1 talking, 0 in wrap-up; 2 ringing")
    assert n.summary() == ("the dialer closed 2 attempts (1 answered, 1 busy); 1 connected to a "
                           "seat, 1 abandoned; 1 dispositions set (1 callback)")
