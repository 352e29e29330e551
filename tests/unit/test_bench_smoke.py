"""The benchmarks run end to end at a trivial size and print the JSON they promise.

No figure is judged here (benchmarks print figures; tests never time anything): only that each
script starts callfloor, drives it and reports every field, with the exact packet and call counts
that the load it was asked for implies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import require_binary

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(script: str, *args: str, timeout: float = 50.0) -> dict[str, Any]:
    """Run ``bench/<script>`` and parse the one JSON object it prints on stdout."""
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_relay_benchmark_reports_a_level() -> None:
    result = run_bench("relay.py", "--calls", "5", "--seconds", "3", "--warmup", "1",
                       "--baseline-seconds", "1")
    assert result["benchmark"] == "relay"
    assert set(result) >= {"question", "machine", "settings", "max_calls", "levels", "elapsed_s"}
    (level,) = result["levels"]
    assert level["calls"] == 5
    assert level["setup"]["registered"] == 5 and level["setup"]["answered"] == 5
    relay = level["relay"]
    # 5 calls x 2 directions x 50 packets/s x 3 s, every one of them counted.
    assert relay["sent"] == 1500
    assert 0 <= relay["received"] <= 1500 and relay["lost"] == 1500 - relay["received"]
    assert set(level["added_latency_ms"]) == {"p50", "p99", "max"}
    assert set(level["baseline"]["latency_ms"]) == {"p50", "p99", "max"}
    assert level["baseline"]["sent"] == 500  # the loop-back: 5 calls x 2 x 50/s x 1 s
    assert isinstance(level["floor_cpu_pct"], float)
    assert level["byes"] == {"200": 5}
    assert result["max_calls"] in (0, 5)


def test_cps_benchmark_reports_two_steps() -> None:
    require_binary("sipp")
    result = run_bench("cps.py", "--rates", "10,20", "--step-seconds", "2", "--seats", "60",
                       "--pause", "0.5", "--confirm", "0")
    assert result["benchmark"] == "cps"
    assert result["registered"] == {"200": 60}
    steps = result["steps"]
    assert [s["rate"] for s in steps][:1] == [10]
    first = steps[0]
    assert first["calls"] == 20
    assert first["uac"]["successful"] == 20 and first["uas"]["successful"] == 20
    assert set(first["uac"]) >= {"failed", "retransmissions", "setup_ms_avg", "max_concurrent"}
    assert isinstance(first["floor_cpu_pct"], float)
    assert result["max_clean_cps"] in (0, 10, 20)


def test_ivr_benchmark_reports_a_level() -> None:
    result = run_bench("ivr.py", "--rates", "2", "--seconds", "2", "--seats", "4", "--talk", "0.5",
                       "--dtmf-after", "0.3", "--patience", "5", "--confirm", "0", "--pause", "0",
                       "--timeout", "45")
    assert result["benchmark"] == "ivr"
    assert set(result) >= {"question", "machine", "settings", "max_clean_cps", "levels", "elapsed_s"}
    (level,) = result["levels"]
    assert level["rate"] == 2 and level["callers"] == 4  # 2 callers/s for 2 s
    assert level["registered"] == {"200": level["seats"]} and level["seats"] >= 4
    assert set(level) >= {"answered_by_ivr", "heard_prompt", "pressed_1", "reached_seat", "completed",
                          "failures", "time_to_seat_ms", "key_to_seat_ms", "retransmissions",
                          "floor_cpu_pct", "load_cpu_pct", "event_log", "checks", "ok", "disturbed"}
    assert 0 <= level["completed"] <= level["reached_seat"] <= level["callers"]
    assert set(level["retransmissions"]) == {"from_floor", "to_floor"}
    assert set(level["checks"]) == {"all_reached_a_seat", "no_retransmissions", "event_log_agrees",
                                    "rate_kept", "seats_heard_callers", "setup"}
    assert set(level["event_log"]) >= {"queue_events", "callers_answered", "queue_wait_ms"}
    if level["time_to_seat_ms"] is not None:
        assert set(level["time_to_seat_ms"]) == {"p50", "p90", "p99", "max"}
    assert isinstance(level["floor_cpu_pct"], float)
    assert result["max_clean_cps"] in (0, 2)


def test_watcher_benchmark_reports_every_mode() -> None:
    result = run_bench("watcher.py", "--quick")
    assert result["benchmark"] == "watcher"
    (name,) = result["scenarios"]
    modes = result["scenarios"][name]["modes"]
    assert set(modes) == {"off", "rules", "erlang", "optimal"}
    for mode in ("off", "rules", "erlang"):
        assert set(modes[mode]) >= {"queues", "outbound_seat_hours", "outbound_abandon_rate", "seat_moves"}
        assert modes[mode]["outbound_abandon_rate_max"] <= 0.03
    assert modes["off"]["seat_moves"] == 0


def test_analytics_benchmark_reports_speed_and_accuracy() -> None:
    result = run_bench("analytics.py", "--calls", "2", "--seconds", "30")
    assert set(result) >= {"x_realtime", "per_call_ms", "accuracy"}
    assert result["x_realtime"] > 0


def test_archive_benchmark_reports_hours_per_minute() -> None:
    result = run_bench("archive.py", "--calls", "2", "--minutes", "0.2")
    assert result["benchmark"] == "archive" and result["settings"]["calls"] == 2
    assert result["hours_per_minute"] > 0 and 0 < result["flac_to_wav"] < 1
