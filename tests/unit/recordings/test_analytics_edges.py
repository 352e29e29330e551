"""Edge cases of the call analytics: empty and tiny input, refused input, the settings, purity."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from recordings.analytics import AnalyticsConfig, analyze_call, flags
from recordings.analytics_frames import sliding_min
from recordings.analytics_runs import close_gaps, drop_short, runs
from tests.unit.recordings.analytics_kit import RATE
from tests.unit.test_layering import IO_MODULES

ROOT = Path(__file__).resolve().parents[3]


def test_empty_recording_has_zero_figures() -> None:
    a = analyze_call(np.zeros((0, 2), dtype=np.int16), RATE)
    assert (a.duration_s, a.silence_s, a.silence_share, a.hold_s, a.overtalk_s) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert (a.longest_dead_air_s, a.longest_dead_air_start, a.agent_talk_ratio) == (0.0, None, None)
    assert a.segments == ()
    assert (a.customer.rms_dbfs, a.customer.loudness_lufs, a.customer.clipped_share) == (-96.0, None, 0.0)
    assert flags(a) == ()


def test_less_than_a_frame() -> None:
    a = analyze_call(np.full((100, 2), 32767, dtype=np.int16), RATE)
    assert a.duration_s == 0.0125 and a.segments == ()
    assert (a.customer.clipped_samples, a.customer.clip_runs) == (100, 1)


@pytest.mark.parametrize("shape", [(8000,), (8000, 1)])
def test_mono_is_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"two channels \(0 customer, 1 agent\); got mono"):
        analyze_call(np.zeros(shape, dtype=np.int16), RATE)


def test_other_shapes_and_types_are_refused() -> None:
    with pytest.raises(ValueError, match=r"got shape \(8000, 3\)"):
        analyze_call(np.zeros((8000, 3), dtype=np.int16), RATE)
    with pytest.raises(ValueError, match="int16 or float audio, not int32"):
        analyze_call(np.zeros((8000, 2), dtype=np.int32), RATE)
    bad = np.zeros((8000, 2))
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        analyze_call(bad, RATE)
    for rate in (0, -8000, 8000.0, True):
        with pytest.raises(ValueError, match="rate must be a positive integer"):
            analyze_call(np.zeros((8000, 2), dtype=np.int16), rate)  # type: ignore[arg-type]


def test_other_rates_keep_times_in_seconds() -> None:
    rate = 16000
    x = np.zeros((rate * 12, 2), dtype=np.int16)
    a = analyze_call(x, rate)
    assert a.duration_s == 12.0 and a.longest_dead_air_s == 12.0 and a.rate == rate


def test_config_is_validated_and_frozen() -> None:
    with pytest.raises(ValueError, match="analytics.hangover_s must be positive"):
        AnalyticsConfig(hangover_s=0)
    with pytest.raises(ValueError, match="analytics.clip_level must be at most 1"):
        AnalyticsConfig(clip_level=1.5)
    with pytest.raises(ValueError, match="clip_min_run must be an integer"):
        AnalyticsConfig(clip_min_run=2.5)  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        AnalyticsConfig().hold_min_s = 1.0  # type: ignore[misc]


def test_config_from_a_toml_table_names_the_key() -> None:
    assert AnalyticsConfig.from_mapping({"hold_min_s": 30.0}).hold_min_s == 30.0
    with pytest.raises(ValueError, match=r"qa.analytics.hold_min: unknown key \(known: "):
        AnalyticsConfig.from_mapping({"hold_min": 30.0}, where="qa.analytics")
    with pytest.raises(ValueError, match="qa.analytics.flag_dead_air_s must be a number, not 'x'"):
        AnalyticsConfig.from_mapping({"flag_dead_air_s": "x"}, where="qa.analytics")


def test_run_helpers() -> None:
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0], dtype=bool)
    starts, ends = runs(mask)
    assert starts.tolist() == [1, 5, 7] and ends.tolist() == [3, 6, 10]
    assert close_gaps(mask, 1).astype(int).tolist() == [0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0]
    assert close_gaps(mask, 2).astype(int).tolist() == [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    assert drop_short(mask, 2).astype(int).tolist() == [0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0]
    assert runs(np.zeros(0, dtype=bool))[0].tolist() == []


def test_sliding_min_matches_the_plain_definition() -> None:
    values = np.random.default_rng(3).normal(size=1000)
    for width in (1, 2, 7, 64, 999, 1000):
        expected = [values[i : i + width].min() for i in range(len(values) - width + 1)]
        assert sliding_min(values, width).tolist() == expected


ANALYTICS = ["analytics", "analytics_config", "analytics_frames", "analytics_level", "analytics_runs"]


@pytest.mark.parametrize("module", ANALYTICS)
def test_analytics_cores_are_pure(module: str) -> None:
    tree = ast.parse((ROOT / "recordings" / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in IO_MODULES | {"soundfile", "time", "os", "pathlib"}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open"
