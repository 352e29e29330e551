"""The archive job over a real SQLite store: what gets archived and when, the index and its
searches, a re-run after a stop at every step, retention with holds, and serving downloads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from callfloor.archivejob import Archiver, RecordingNotFoundError
from callfloor.archiveretention import enforce_retention, verify
from callfloor.settings.archive import ArchiveSettings
from callfloor.settings.sections import StorageSettings
from callfloor.store import CallStart, Store
from callfloor.store.archive import ArchiveEntry, ArchiveQuery
from recordings.archive import PART, stage
from recordings.storage import ChecksumError
from tests.unit.recordings.archive_helpers import make_wav

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86400.0


async def _call(store: Store, storage: StorageSettings, uuid: str, *, seat: str = "1001",
                caller: str = "+15551230000", callee: str = "+15550100", at: float = T0,
                talk: float = 2.0, end: bool = True, seconds: float = 2.0) -> Path:
    path = f"2026/01/01/{uuid}.wav"
    await store.call_started(CallStart(uuid, f"sip-{uuid}", "inbound", caller, callee, callee, seat, at))
    await store.call_answered(uuid, at + 1, seat)
    await store.set_recording(uuid, path)
    wav = storage.recordings_dir / path
    make_wav(wav, seconds=seconds, seed=len(uuid) + int(at) % 97)
    if end:
        await store.call_ended(uuid, at + 1 + talk, "bye", hangup_by="customer")
    return wav


@pytest.fixture
async def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    storage = StorageSettings(data_dir=tmp_path / "data")
    store = await Store.open(storage.db_path)
    settings = ArchiveSettings(after=60.0, retention={"default": 90, "dnc": 30, "complaint": "forever"})
    yield store, storage, Archiver(store, settings, storage)
    await store.close()


async def test_archives_finished_calls_after_the_delay(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    done = await _call(store, storage, "a1", at=T0)
    live = await _call(store, storage, "a2", at=T0, end=False)
    recent = await _call(store, storage, "a3", at=T0 + 100)
    report = await archiver.run_once(T0 + 100)
    assert [(o.call, o.status) for o in report.outcomes] == [("a1", "archived")]
    assert not done.exists() and live.exists() and recent.exists()
    [entry] = await archiver.index.entries("a1")
    flac = storage.data_dir / "archive" / "2026/01/01/a1.flac"
    data = flac.read_bytes()
    assert (entry.storage_key, entry.backend, entry.frames, entry.duration, entry.sample_rate) == (
        "2026/01/01/a1.flac", "dir", 16000, 2.0, 8000)
    assert (entry.sha256, entry.bytes) == (hashlib.sha256(data).hexdigest(), len(data))
    assert (entry.archived_at, entry.retention_class, entry.delete_after) == (T0 + 100, "default", T0 + 100 + 90 * DAY)
    assert (entry.hold, entry.source_removed, entry.deleted_at) == (False, True, None)
    assert [o.call for o in (await archiver.run_once(T0 + 200)).outcomes] == ["a3"]
    assert (await archiver.run_once(T0 + 300)).outcomes == ()


async def test_searches(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    await _call(store, storage, "in1", seat="1001", caller="+15551110000", at=T0, talk=30)
    await _call(store, storage, "in2", seat="1002", caller="+15552220000", at=T0 + 3600, seconds=3.0)
    await _call(store, storage, "out1", seat="1003", caller="+15550100", callee="+15553330000", at=T0 + 7200)
    db = store._db
    await store.record_event("queue.joined", "in1", T0 + 0.5, {"call": "in1", "queue": "sales", "ts": T0 + 0.5})
    await db.execute("INSERT INTO campaigns (id, name, config, source, active, created_at, updated_at)"
                     " VALUES ('renew', 'Renewals', '{}', 'file', 1, 0, 0)")
    await db.execute("INSERT INTO leads (id, campaign_id, number, imported_at) VALUES (1, 'renew', '+15553330000', 0)")
    await db.execute("INSERT INTO attempts (id, lead_id, campaign_id, number, call_uuid, mode, state, outcome,"
                     " created_at, seat_id) VALUES (1, 1, 'renew', '+15553330000', 'out1', 'predictive', 'closed',"
                     " 'answered', ?, '1003')", (T0 + 7199,))
    await db.execute("INSERT INTO dispositions (attempt_id, lead_id, campaign_id, seat_id, code, kind, at)"
                     " VALUES (1, 1, 'renew', '1003', 'no-thanks', 'dnc', ?)", (T0 + 7300,))
    assert (await archiver.run_once(T0 + DAY)).count("archived") == 3

    async def calls(**terms: object) -> list[str]:
        return [f.entry.call_uuid for f in await archiver.index.find(ArchiveQuery(**terms))]  # type: ignore[arg-type]

    assert await calls() == ["out1", "in2", "in1"]
    assert await calls(call="in2") == ["in2"]
    assert await calls(seats=("1001", "1003")) == ["out1", "in1"]
    assert await calls(number="15552220000") == ["in2"]
    assert await calls(number="+15553330000") == ["out1"]
    assert await calls(since=T0 + 1, until=T0 + 7200) == ["in2"]
    assert await calls(min_duration=2.5) == ["in2"]
    assert await calls(max_duration=2.5) == ["out1", "in1"]
    assert await calls(queue="sales") == ["in1"]
    assert await calls(campaign="renew") == ["out1"]
    assert await calls(disposition="no-thanks") == await calls(disposition="dnc") == ["out1"]
    [found] = await archiver.index.find(ArchiveQuery(call="out1"))
    assert (found.caller, found.callee, found.seat_id, found.disposition) == ("+15550100", "+15553330000", "1003", "no-thanks")
    # A do-not-call disposition puts the recording in the "dnc" class (30 days here).
    assert (found.entry.retention_class, found.entry.delete_after) == ("dnc", T0 + DAY + 30 * DAY)


async def test_a_corrupt_recording_is_reported_once_and_left(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    wav = await _call(store, storage, "bad")
    wav.write_bytes(wav.read_bytes()[:1000])
    await _call(store, storage, "gone")
    (storage.recordings_dir / "2026/01/01/gone.wav").unlink()
    report = await archiver.run_once(T0 + DAY)
    assert [(o.call, o.status, o.reason) for o in report.outcomes] == [
        ("bad", "problem", "truncated: the RIFF header says 64044 bytes, the file has 1000"),
        ("gone", "problem", "the WAV file is missing")]
    assert len(wav.read_bytes()) == 1000
    assert [(p.call_uuid, p.attempts) for p in await archiver.index.problems()] == [("bad", 1), ("gone", 1)]
    events = await store.events(kind="archive.problem")
    assert {e.subject for e in events} == {"bad", "gone"}
    assert (await archiver.run_once(T0 + DAY)).outcomes == ()  # not retried every look
    assert await archiver.index.retry_problems() == 2
    assert (await archiver.run_once(T0 + DAY)).count("problem") == 2
    assert [p.attempts for p in await archiver.index.problems()] == [2, 2]
    assert [(r.call, r.state) for r in await verify(archiver)] == [("bad", "corrupt"), ("gone", "missing")]


async def test_rerun_after_a_stop_at_each_step(env) -> None:  # type: ignore[no-untyped-def]
    """Each state a kill -9 can leave, built by running the steps up to it, then a new run."""
    store, storage, archiver = env
    rec, root = storage.recordings_dir, storage.data_dir / "archive"
    for uuid in ("s2", "s4", "s6", "s7"):
        await _call(store, storage, uuid)
    scratch = root / ".staging"
    scratch.mkdir(parents=True)
    (scratch / ("2026_01_01_s2" + PART)).write_bytes(b"fLaC half")  # stopped in step 2
    stage(rec / "2026/01/01/s4.wav", "2026/01/01/s4.flac", archiver.backend, scratch)  # after step 5
    for uuid, removed in (("s6", False), ("s7", True)):  # after step 6 / after step 7
        staged = stage(rec / f"2026/01/01/{uuid}.wav", f"2026/01/01/{uuid}.flac", archiver.backend, scratch)
        await archiver.index.record(ArchiveEntry(
            0, uuid, f"2026/01/01/{uuid}.wav", staged.key, "dir", staged.sha256, staged.bytes,
            staged.frames, staged.duration, 8000, None, None, T0, "default", None, False, None, None, False))
        if removed:
            (rec / f"2026/01/01/{uuid}.wav").unlink()
    assert [r.state for r in await verify(archiver)] == ["wav", "wav", "flac", "flac"]
    report = await archiver.run_once(T0 + DAY)
    assert report.cleared_parts == 1
    # s6 and s7 were indexed without analytics (as a run before migration 009 did): filled in.
    assert sorted((o.call, o.status) for o in report.outcomes) == [
        ("s2", "archived"), ("s4", "archived"), ("s6", "analysed"), ("s6", "finished"),
        ("s7", "analysed"), ("s7", "finished")]
    assert list(rec.rglob("*.wav")) == [] and list(scratch.iterdir()) == []
    assert [r.state for r in await verify(archiver)] == ["flac"] * 4
    assert await archiver.index.unfinished() == []


async def test_an_indexed_flac_that_fails_its_check_keeps_the_wav(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    wav = await _call(store, storage, "c1")
    staged = stage(wav, "2026/01/01/c1.flac", archiver.backend, storage.data_dir / "scratch")
    await archiver.index.record(ArchiveEntry(
        0, "c1", "2026/01/01/c1.wav", staged.key, "dir", staged.sha256, staged.bytes, staged.frames,
        staged.duration, 8000, None, None, T0, "default", None, False, None, None, False))
    flac = storage.data_dir / "archive" / staged.key
    flac.write_bytes(flac.read_bytes()[:-10] + b"\x00" * 10)
    outcome, filled = (await archiver.run_once(T0 + DAY)).outcomes
    assert outcome.status == "failed" and "SHA-256 mismatch" in outcome.reason
    assert (filled.call, filled.status) == ("c1", "analysed")  # from the WAV, which is kept
    assert wav.exists()
    [result] = await verify(archiver, "c1")
    assert result.state == "corrupt" and "SHA-256 mismatch" in result.reason


async def test_retention_deletes_what_is_due_and_never_what_is_held(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    for uuid in ("r1", "r2", "r3", "r4"):
        await _call(store, storage, uuid)
    await archiver.run_once(T0 + 1000)
    await archiver.index.hold("r2", "complaint 17 open")
    assert await archiver.index.set_class("r3", "complaint", archiver.settings.keep_seconds("complaint")) == 1
    await archiver.index.set_class("r4", "dnc", archiver.settings.keep_seconds("dnc"))
    assert (await enforce_retention(archiver, T0 + 1000 + 29 * DAY)).deleted == ()
    dry = await enforce_retention(archiver, T0 + 1000 + 90 * DAY, dry_run=True)
    assert [d.call for d in dry.deleted] == ["r4", "r1"] and dry.dry_run
    assert archiver.backend.exists("2026/01/01/r1.flac")
    report = await enforce_retention(archiver, T0 + 1000 + 90 * DAY)
    assert [(d.call, d.retention_class) for d in report.deleted] == [("r4", "dnc"), ("r1", "default")]
    assert report.bytes == sum(d.bytes for d in dry.deleted) and report.failed == ()
    assert not archiver.backend.exists("2026/01/01/r1.flac") and archiver.backend.exists("2026/01/01/r2.flac")
    [event] = await store.events(kind="archive.retention")
    assert [d["call"] for d in event.data["deleted"]] == ["r4", "r1"]
    assert await archiver.index.release("r2") == 1
    later = await enforce_retention(archiver, T0 + 1000 + 91 * DAY)
    assert [d.call for d in later.deleted] == ["r2"]
    assert (await enforce_retention(archiver, T0 + 10_000 * DAY)).deleted == ()  # r3: for ever
    states = {r.call: r.state for r in await verify(archiver)}
    assert states == {"r1": "deleted", "r2": "deleted", "r3": "flac", "r4": "deleted"}
    assert await archiver.index.find(ArchiveQuery()) != []
    assert [f.entry.call_uuid for f in await archiver.index.find(ArchiveQuery(include_deleted=True, call="r1"))] == ["r1"]


async def test_open_recording_serves_the_wav_then_the_verified_flac(env) -> None:  # type: ignore[no-untyped-def]
    store, storage, archiver = env
    wav = await _call(store, storage, "p1")
    assert await archiver.open_recording("p1") == (wav.resolve(), "audio/wav")
    await archiver.run_once(T0 + DAY)
    data, media = await archiver.open_recording("p1")
    [entry] = await archiver.index.entries("p1")
    assert media == "audio/flac" and isinstance(data, bytes)
    assert hashlib.sha256(data).hexdigest() == entry.sha256
    flac = storage.data_dir / "archive" / entry.storage_key
    flac.write_bytes(b"\x00" + flac.read_bytes()[1:])
    with pytest.raises(ChecksumError):
        await archiver.open_recording("p1")
    with pytest.raises(RecordingNotFoundError, match="no call nope"):
        await archiver.open_recording("nope")
    await archiver.index.set_class("p1", "default", 0.0)
    await enforce_retention(archiver, T0 + DAY)
    with pytest.raises(RecordingNotFoundError, match="none made, or deleted"):
        await archiver.open_recording("p1")


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="needs a 'default' class"):
        ArchiveSettings(retention={"dnc": 3})
    with pytest.raises(ValueError, match="backend 's3' needs s3_endpoint and s3_bucket"):
        ArchiveSettings(backend="s3")
    with pytest.raises(ValueError, match="days must not be negative"):
        ArchiveSettings(retention={"default": -1})
    settings = ArchiveSettings()
    assert settings.keep_seconds("default") == 90 * DAY and settings.keep_seconds("complaint") is None
    assert settings.keep_seconds("unknown") == 90 * DAY
    storage = StorageSettings(data_dir=Path("/d"))
    assert settings.directory(storage) == Path("/d/archive")
    assert settings.scratch(storage) == Path("/d/archive/.staging")


async def test_retention_keeps_the_recording_of_an_open_complaint(env) -> None:  # type: ignore[no-untyped-def]
    """The complaint store's hold (recording_holds) binds retention until the case closes."""
    from callfloor.store.complaints import ComplaintStore
    from qa.complaints import CaseAction

    store, storage, archiver = env
    await _call(store, storage, "h1", caller="+442079460123")
    await archiver.run_once(T0 + 1000)
    complaints = ComplaintStore(store)
    case = await complaints.open_case("+442079460123", T0, 1800.0, "phone", "rude seat", by="qa1",
                                      now=T0 + 2000, region="US")
    assert await complaints.link_call(case.id, "h1", by="qa1", now=T0 + 2000)
    due = T0 + 1000 + 91 * DAY
    assert (await enforce_retention(archiver, due)).deleted == ()
    await complaints.act(case.id, CaseAction.CLOSE, by="qa1", now=due, outcome="upheld")
    assert [d.call for d in (await enforce_retention(archiver, due)).deleted] == ["h1"]
