"""Analytics of every archived call: the archive job writes the call's row (figures as columns,
flags, the full JSON) with its archive row; a corrupt recording gets none; a re-run fills rows
that are missing, from the FLAC once the WAV is gone; a recording that cannot be analysed is
tried once per process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from callfloor.archivejob import Archiver
from callfloor.settings.archive import ArchiveSettings
from callfloor.settings.sections import StorageSettings
from callfloor.store import CallStart, Store
from callfloor.store.analytics import FIGURES, config_version
from recordings.analytics import AnalyticsConfig, analyze_call
from recordings.wav import StereoWavWriter
from tests.unit.recordings.analytics_kit import RATE, Call, scenario

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
LATER = T0 + 86400


async def _recorded(store: Store, storage: StorageSettings, uuid: str,
                    audio: npt.NDArray[np.int16]) -> Path:
    """An ended call whose recording the relay's writer made from ``audio``."""
    path = f"2026/01/01/{uuid}.wav"
    await store.call_started(CallStart(uuid, f"sip-{uuid}", "inbound", "+15551230000", "+15550100",
                                       "+15550100", "1001", T0, path))
    await store.call_answered(uuid, T0 + 1, "1001")
    wav = storage.recordings_dir / path
    with StereoWavWriter(wav, RATE) as writer:
        for start in range(0, len(audio), 1600):
            writer.write(audio[start: start + 1600])
            writer.flush()
    await store.call_ended(uuid, T0 + 1 + len(audio) / RATE, "bye")
    return wav


@pytest.fixture
async def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    storage = StorageSettings(data_dir=tmp_path / "data")
    store = await Store.open(storage.db_path)
    yield store, storage, Archiver(store, ArchiveSettings(after=60.0), storage)
    await store.close()


def _dead_air_call() -> Call:
    """30 s: the agent greets, 24 s of dead air, the customer answers (over the 20 s flag)."""
    return Call(30.0).talk(1, 0.0, 2.0).talk(0, 26.0, 28.0)


async def test_an_archived_call_has_its_analytics_row(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    audio = scenario().int16()
    wav = await _recorded(store, storage, "ref", audio)
    [outcome] = (await archiver.run_once(LATER)).outcomes
    assert (outcome.status, outcome.flags) == ("archived", ())
    assert not wav.exists()
    row = await archiver.analytics.get("ref")
    assert row is not None
    assert (row.source_path, row.analysed_at, row.config_version, row.flags) == (
        "2026/01/01/ref.wav", LATER, config_version(AnalyticsConfig()), ())
    # The reference call's figures (tests/unit/recordings/test_analytics.py derives each one).
    assert {k: row.figures[k] for k in (
        "duration_s", "customer_talk_s", "agent_talk_s", "customer_turns", "agent_turns",
        "agent_talk_ratio", "silence_s", "silence_share", "dead_air_s", "longest_dead_air_s",
        "longest_dead_air_start", "overtalk_s", "overtalk_count", "overtalk_share",
        "agent_interruptions", "hold_s", "hold_count", "customer_clipped_share",
        "agent_clipped_share", "customer_clip_runs", "agent_clip_runs")} == {
        "duration_s": 60.0, "customer_talk_s": 13.7, "agent_talk_s": 12.5, "customer_turns": 4,
        "agent_turns": 3, "agent_talk_ratio": round(12.5 / 26.2, 6), "silence_s": 16.0,
        "silence_share": round(16 / 60, 6), "dead_air_s": 13.0, "longest_dead_air_s": 8.0,
        "longest_dead_air_start": 14.0, "overtalk_s": 2.0, "overtalk_count": 1,
        "overtalk_share": round(2 / 24, 6), "agent_interruptions": 1, "hold_s": 20.0, "hold_count": 1,
        "customer_clipped_share": 0.0, "agent_clipped_share": 0.0, "customer_clip_runs": 0,
        "agent_clip_runs": 0}
    direct = analyze_call(audio, RATE)
    assert row.analytics_json == direct.to_json()  # segments included: the player's markers
    assert row.data()["segments"][0] == {"start": 1.0, "end": 6.0, "kind": "agent_talk"}
    assert (row.figures["customer_loudness_lufs"], row.figures["agent_rms_dbfs"]) == (
        direct.customer.loudness_lufs, direct.agent.rms_dbfs)
    # The figures are columns, for queries.
    columns = await store._db.execute_fetchall(
        "SELECT hold_s, overtalk_count, flags FROM call_analytics WHERE call_uuid = 'ref'")
    assert list(columns) == [(20.0, 1, "[]")]
    assert len(FIGURES) == 25


async def test_a_flagged_call_and_a_corrupt_one(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    await _recorded(store, storage, "quiet", _dead_air_call().int16())
    bad = await _recorded(store, storage, "bad", Call(2.0).int16())
    bad.write_bytes(bad.read_bytes()[:1000])
    report = await archiver.run_once(LATER)
    assert [(o.call, o.status, o.flags) for o in report.outcomes] == [
        ("quiet", "archived", ("long_dead_air",)), ("bad", "problem", ())]
    quiet = await archiver.analytics.get("quiet")
    assert quiet is not None and quiet.flags == ("long_dead_air",)
    assert (quiet.figures["longest_dead_air_s"], quiet.figures["longest_dead_air_start"]) == (24.0, 2.0)
    assert await archiver.analytics.get("bad") is None  # reported, left, no row
    assert [p.call_uuid for p in await archiver.index.problems()] == ["bad"]
    assert await archiver.analytics.archived(missing=True) == []


async def test_a_rerun_fills_missing_rows_from_the_flac(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    await _recorded(store, storage, "ref", scenario().int16())
    await _recorded(store, storage, "quiet", _dead_air_call().int16())
    await archiver.run_once(LATER)
    before = await archiver.analytics.get("ref")
    await store._db.execute("DELETE FROM call_analytics")  # as an archive made before migration 009
    assert await archiver.analytics.archived(missing=True) == [
        ("ref", "2026/01/01/ref.wav"), ("quiet", "2026/01/01/quiet.wav")]
    fresh = Archiver(store, ArchiveSettings(after=60.0), storage)  # the next run of the job
    report = await fresh.run_once(LATER + 60)
    assert [(o.call, o.status, o.flags) for o in report.outcomes] == [
        ("ref", "analysed", ()), ("quiet", "analysed", ("long_dead_air",))]
    after = await fresh.analytics.get("ref")
    assert before is not None and after is not None
    assert after.analytics_json == before.analytics_json and after.figures == before.figures
    assert after.analysed_at == LATER + 60
    assert (await fresh.run_once(LATER + 120)).outcomes == ()


async def test_an_unreadable_flac_is_tried_once_per_process(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    await _recorded(store, storage, "ref", Call(3.0).talk(0, 0.5, 2.5).int16())
    await archiver.run_once(LATER)
    await store._db.execute("DELETE FROM call_analytics")
    flac = storage.data_dir / "archive" / "2026/01/01/ref.flac"
    flac.write_bytes(flac.read_bytes()[:-10] + b"\x00" * 10)
    fresh = Archiver(store, ArchiveSettings(after=60.0), storage)
    [outcome] = (await fresh.run_once(LATER + 60)).outcomes
    assert (outcome.call, outcome.status) == ("ref", "unanalysed") and "SHA-256" in outcome.reason
    assert (await fresh.run_once(LATER + 120)).outcomes == ()  # not retried every look
    [again] = await fresh.analyse(LATER + 180, call="ref")  # asked for: tried again
    assert again.status == "unanalysed"
    assert await fresh.analytics.get("ref") is None
