"""bench/dialer.py runs at a trivial size and prints the JSON it promises.

Marked ``integration`` like tests/unit/test_bench_smoke.py: no figure is judged here (benchmarks
print figures; tests never time anything), only the shape of the result and its bookkeeping.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[3] / "bench" / "dialer.py"


def test_dialer_benchmark_reports_a_cell() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["benchmark"] == "dialer"
    assert set(result) >= {"question", "machine", "settings", "cells", "summary", "cpu_s", "elapsed_s"}
    (cell,) = result["cells"]
    assert (cell["agents"], cell["answer_rate"], cell["talk_mean"], cell["seeds"]) == (5, 0.3, 60.0, [1])
    assert set(cell["modes"]) == {"predictive", "progressive", "preview"}
    for mode in cell["modes"].values():
        assert set(mode) >= {"occupancy", "occupancy_at_target", "talk_share", "abandon_rate",
                             "abandon_rate_max", "max_abandon_24h", "dials_per_agent_hour", "runs"}
        (run,) = mode["runs"]
        assert run["seed"] == 1 and 0.0 < run["occupancy"] < 1.0
        assert run["abandon_rate"] <= mode["abandon_rate_max"]
    assert cell["modes"]["progressive"]["abandon_rate_max"] == 0.0
    assert cell["modes"]["preview"]["abandon_rate_max"] == 0.0
    checks = cell["checks"]
    assert checks["occupancy_target"] is None and checks["gain_ok"] is None  # 5 agents: no target
    gain = cell["modes"]["predictive"]["occupancy"] - cell["modes"]["progressive"]["occupancy"]
    assert checks["gain_over_progressive"] == pytest.approx(gain, abs=1e-4)
    summary = result["summary"]
    assert summary["cells"] == 1 and set(summary["by_agents"]) == {"5"}
    assert summary["abandon_ok_in_every_run"] == checks["abandon_ok"]
