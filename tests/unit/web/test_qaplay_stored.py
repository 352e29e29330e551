"""The QA page's analytics come from the row the archive job stored (migration 009) when the call
has one, and are computed from the recording only when it has none."""

from __future__ import annotations

import json

from callfloor.store.analytics import CallAnalyticsStore, analytics_row, config_version
from callfloor.web.qaplay import AnalyticsCache, LocalRecordings
from recordings.analytics import AnalyticsConfig, analyze_call, flags
from tests.unit.recordings.analytics_kit import RATE, scenario
from tests.unit.web.authkit import T0
from tests.unit.web.test_qa_web import Floor, env, user

__all__ = ["env"]  # the fixture, shared with test_qa_web


async def test_the_page_reads_the_stored_row(env: Floor) -> None:
    reference = analyze_call(scenario().int16(), RATE)
    row = analytics_row("c3", "2026/02/25/c3.wav", reference, flags(reference),
                        config_version(AnalyticsConfig()), T0)
    await CallAnalyticsStore(env.store).save(row)  # c3's recording is not on the disk
    http, _ = await user(env, "qa1")
    data = (await http.get("/api/qa/calls/c3")).json()
    assert data["analytics_error"] is None
    assert data["analytics"] == json.loads(reference.to_json())
    # c2's WAV holds 4 s of audio; a stored row wins over computing from it.
    await CallAnalyticsStore(env.store).save(analytics_row(
        "c2", "2026/02/25/c2.wav", reference, (), "other", T0))
    c2 = (await http.get("/api/qa/calls/c2")).json()
    assert (c2["analytics"]["duration_s"], c2["analytics_error"]) == (60.0, None)


async def test_archived_calls_are_served_from_their_row(env: Floor) -> None:
    report = await env.archiver.run_once(T0 + 3600)
    assert report.count("archived") == 2
    stored = await env.archiver.analytics.get("c1")
    assert stored is not None
    http, _ = await user(env, "qa1")
    data = (await http.get("/api/qa/calls/c1")).json()
    assert data["analytics"] == stored.data()
    assert [(s["start"], s["end"]) for s in data["analytics"]["segments"] if s["kind"] == "overtalk"] == [
        (10.0, 12.0)]


async def test_without_a_row_it_computes_and_caches(env: Floor) -> None:
    source = LocalRecordings(env.store, env.settings.storage.recordings_dir)
    cache = AnalyticsCache(store=env.store)
    figures, why = await cache.get("c2", source)
    assert why is None and figures is not None and figures["duration_s"] == 4.0
    assert await CallAnalyticsStore(env.store).get("c2") is None  # the page does not write rows
    assert await cache.get("c2", source) == (figures, None)
    assert await cache.get("c3", source) == (None, "no recording of call c3")
