"""Store: CDR lifecycle, crash recovery (mark_lost), events, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from callfloor.store import (
    CallRow,
    CallStart,
    DuplicateCallError,
    Store,
    StoreError,
    UnknownCallError,
)

T0 = 1_760_000_000.0


def start(n: int, **changes: object) -> CallStart:
    rec = CallStart(
        uuid=f"call-{n}",
        sip_call_id=f"{n}@carrier.example",
        direction="inbound",
        caller=f"+4930123{n:04d}",
        callee="+4940999000",
        did="+4940999000",
        seat_id=None,
        started_at=T0 + n,
    )
    return replace(rec, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "db" / "callfloor.sqlite")
    yield s
    await s.close()


async def test_open_creates_the_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "floor.sqlite"
    async with await Store.open(path) as s:
        assert s.path == path
    assert path.exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        indexes = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"calls", "events", "schema_migrations"} <= tables
    assert {"calls_started_at", "calls_seat_id", "calls_caller"} <= indexes


async def test_full_lifecycle_of_an_answered_call(store: Store) -> None:
    await store.call_started(start(1, recording_path="rec/2025/call-1.wav"))
    row = await store.call("call-1")
    assert row is not None
    assert (row.status, row.answered_at, row.ended_at, row.duration) == ("active", None, None, None)
    assert row.recording_path == "rec/2025/call-1.wav" and row.id == 1

    await store.call_answered("call-1", T0 + 9.5, "seat-7")
    await store.call_ended("call-1", T0 + 70.25, "bye", sip_status=200, hangup_by="customer")
    assert await store.call("call-1") == CallRow(
        id=1, uuid="call-1", sip_call_id="1@carrier.example", direction="inbound",
        caller="+4930123" "0001", callee="+4940999000", did="+4940999000", seat_id="seat-7",
        started_at=T0 + 1, answered_at=T0 + 9.5, ended_at=T0 + 70.25, duration=60.75,
        status="ended", end_reason="bye", hangup_by="customer", sip_status=200,
        recording_path="rec/2025/call-1.wav", variables=None, survey_score=None,
    )  # fmt: skip


async def test_variables_and_survey_score_travel_with_the_call(store: Store) -> None:
    await store.call_started(start(9))
    await store.set_variables("call-9", {"department": "support", "account": "4719"})
    await store.set_survey("call-9", 4)
    row = await store.call("call-9")
    assert row is not None
    assert (row.variables, row.survey_score) == ('{"account": "4719", "department": "support"}', 4)
    with pytest.raises(UnknownCallError):
        await store.set_survey("nobody", 1)


async def test_unanswered_call_has_zero_duration(store: Store) -> None:
    await store.call_started(start(2, direction="outbound", did=None))
    await store.call_ended("call-2", T0 + 32, "no-answer", sip_status=480, hangup_by="callfloor")
    row = await store.call("call-2")
    assert row is not None
    assert (row.status, row.duration, row.answered_at, row.end_reason, row.sip_status) == (
        "ended", 0.0, None, "no-answer", 480,
    )  # fmt: skip
    assert row.did is None and row.direction == "outbound"


async def test_answer_keeps_first_time_and_seat_and_end_is_final(store: Store) -> None:
    await store.call_started(start(3, seat_id="seat-1"))
    await store.call_answered("call-3", T0 + 5, None)  # seat unknown here: keep seat-1
    await store.call_answered("call-3", T0 + 8, "seat-2")  # a repeated answer changes nothing
    await store.call_ended("call-3", T0 + 15, "bye")
    await store.call_ended("call-3", T0 + 99, "late duplicate")
    await store.call_answered("call-3", T0 + 100, "seat-9")
    row = await store.call("call-3")
    assert row is not None
    assert (row.seat_id, row.answered_at, row.ended_at, row.duration, row.end_reason) == (
        "seat-1", T0 + 5, T0 + 15, 10.0, "bye",
    )  # fmt: skip
    assert (row.sip_status, row.hangup_by) == (None, None)


async def test_set_recording_on_any_call(store: Store) -> None:
    await store.call_started(start(4))
    await store.call_ended("call-4", T0 + 6, "bye")
    await store.set_recording("call-4", "/var/rec/call-4.flac")
    row = await store.call("call-4")
    assert row is not None and row.recording_path == "/var/rec/call-4.flac"


async def test_unknown_and_duplicate_calls_are_errors(store: Store) -> None:
    for step in (
        store.call_answered("nope", T0, None),
        store.call_ended("nope", T0, "bye"),
        store.set_recording("nope", "x.wav"),
    ):
        with pytest.raises(UnknownCallError, match="nope"):
            await step
    await store.call_started(start(5))
    with pytest.raises(DuplicateCallError, match="call-5"):
        await store.call_started(start(5))
    assert await store.call("nope") is None
    with pytest.raises(ValueError, match="direction"):
        start(6, direction="sideways")


async def test_calls_newest_first_with_filters_and_limit(store: Store) -> None:
    for n in range(1, 8):
        await store.call_started(start(n, seat_id=f"seat-{n % 2}", caller=f"+49{n % 3}"))
    assert [c.uuid for c in await store.calls()] == [f"call-{n}" for n in range(7, 0, -1)]
    assert [c.uuid for c in await store.calls(limit=2)] == ["call-7", "call-6"]
    assert [c.uuid for c in await store.calls(seat_id="seat-0")] == ["call-6", "call-4", "call-2"]
    assert [c.uuid for c in await store.calls(caller="+491")] == ["call-7", "call-4", "call-1"]
    assert [c.uuid for c in await store.calls(seat_id="seat-1", caller="+491")] == [
        "call-7",
        "call-1",
    ]
    assert await store.calls(seat_id="seat-9") == []
    with pytest.raises(ValueError, match="limit"):
        await store.calls(limit=0)


async def test_kill_leaves_active_rows_that_the_next_start_marks_lost(tmp_path: Path) -> None:
    path = tmp_path / "floor.sqlite"
    first = await Store.open(path)
    await first.call_started(start(1, recording_path="rec/call-1.wav"))
    await first.call_started(start(2))
    await first.call_answered("call-2", T0 + 4, "seat-3")
    await first.call_started(start(3))
    await first.call_ended("call-3", T0 + 10, "bye")
    await first.close()  # no call_ended for 1 and 2: the process "died"

    second = await Store.open(path)
    lost = await second.mark_lost(T0 + 100)
    assert [(c.uuid, c.status, c.end_reason, c.ended_at, c.duration) for c in lost] == [
        ("call-1", "lost", "lost", T0 + 100, 0.0),
        ("call-2", "lost", "lost", T0 + 100, 96.0),
    ]
    assert lost[0].recording_path == "rec/call-1.wav"  # so the caller can repair the WAV
    ended = await second.call("call-3")
    assert ended is not None and ended.status == "ended"
    assert await second.mark_lost(T0 + 200) == []
    await second.close()


async def test_events_are_appended_and_read_back(store: Store) -> None:
    await store.record_event("seat.registered", "seat-1", T0 + 1, {"contact": "sip:1@10.0.0.5"})
    await store.record_event("seat.registered", "seat-2", T0 + 2, {})
    await store.record_event("seat.unregistered", "seat-1", T0 + 3, {"why": "expired", "n": 2})
    events = await store.events()
    assert [(e.kind, e.subject, e.at) for e in events] == [
        ("seat.unregistered", "seat-1", T0 + 3),
        ("seat.registered", "seat-2", T0 + 2),
        ("seat.registered", "seat-1", T0 + 1),
    ]
    assert events[0].data == {"n": 2, "why": "expired"}
    assert [e.subject for e in await store.events(kind="seat.registered")] == ["seat-2", "seat-1"]
    assert [e.kind for e in await store.events(subject="seat-1", limit=1)] == ["seat.unregistered"]


async def test_event_data_must_be_json(store: Store) -> None:
    with pytest.raises(StoreError, match="seat.paused for seat-1: data is not JSON"):
        await store.record_event("seat.paused", "seat-1", T0, {"at": object()})
    with pytest.raises(StoreError, match="not JSON"):
        await store.record_event("seat.paused", "seat-1", T0, {"x": float("nan")})
    assert await store.events() == []


async def test_rows_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "floor.sqlite"
    async with await Store.open(path) as s:
        for n in range(50):
            await s.call_started(start(n))
            await s.call_ended(f"call-{n}", T0 + n + 1, "bye")
    async with await Store.open(path) as s:
        rows = await s.calls(limit=1000)
    assert len(rows) == 50 and {r.status for r in rows} == {"ended"}
