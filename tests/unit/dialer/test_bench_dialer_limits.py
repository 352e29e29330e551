"""bench/dialer_limits.py: its exact pricing convolves the right distribution, and it runs at a
trivial size printing the JSON it promises (marked ``integration`` like the other benchmarks: no
figure is judged)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from dialer.pacing import Mode, PacingSnapshot

BENCH = Path(__file__).resolve().parents[3] / "bench" / "dialer_limits.py"


@pytest.fixture
def limits() -> Iterator[ModuleType]:
    # The script puts bench/ on sys.path (for its ``common``): undo that after the import.
    path, modules = list(sys.path), set(sys.modules)
    spec = importlib.util.spec_from_file_location("bench_dialer_limits", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        del sys.modules[name]


def test_exact_distribution_has_the_mean_and_variance_of_the_shortfall(limits: ModuleType) -> None:
    pacer = limits.ExactPacer(Mode.PREDICTIVE, min_ring=15.0)
    snapshot = PacingSnapshot(100.0, ready=1, talking=(30.0, 200.0, 5.0), wrapping=(3.0, 12.0),
                              dialing=(0.0, 6.0, 11.0, 17.5), waiting=(0.5,))
    pmf, low = pacer.distribution(snapshot, extra=3)
    assert low == 1 - 1 - 5  # one waiting, one ready, five seats that may free
    x = pacer.lookahead.shortfall(snapshot.now, snapshot.ready, snapshot.talking, snapshot.wrapping,
                                  snapshot.dialing, len(snapshot.waiting))
    values = low + np.arange(pmf.shape[1])
    mean = pmf @ values
    var = pmf @ values ** 2 - mean ** 2
    assert np.allclose(pmf.sum(axis=1), 1.0)
    assert np.allclose(pmf[:, -3:], 0.0)  # the room left for new dials is still empty
    # The normal approximation's mean and variance are those of the exact sum (float32 rows).
    assert np.allclose(mean, x.mean, atol=1e-5)
    assert np.allclose(var, x.var, atol=1e-5)


@pytest.mark.integration
def test_the_benchmark_reports_every_variant() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["benchmark"] == "dialer_limits" and result["seeds"] == 1
    (cell,) = result["cells"]
    assert (cell["agents"], cell["answer_rate"], cell["talk"]) == (4, 0.3, 60.0)
    keys = {"occupancy", "abandon_rate", "worst_abandon", "worst_max_abandon_24h", "cancelled_share",
            "points_over_progressive"}
    for variant in ("progressive", "predictive", "seat_oracle", "exact_pricing"):
        assert set(cell[variant]) == keys and 0.0 < cell[variant]["occupancy"] < 1.0
    assert cell["progressive"]["worst_abandon"] == 0.0
    assert cell["progressive"]["points_over_progressive"] == 0.0
    (budget,) = cell["budget"]
    assert budget["target_abandon"] == 0.05 and set(budget) == keys | {"target_abandon"}
    gain = (cell["predictive"]["occupancy"] - cell["progressive"]["occupancy"]) * 100
    assert cell["predictive"]["points_over_progressive"] == pytest.approx(gain, abs=0.02)
