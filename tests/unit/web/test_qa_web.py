"""The QA pages' API on the real auth and a real SQLite store: who may play which call (team
scoping), an audit row for every playback, HTTP Range, the live WAV then the archived FLAC,
markers from the analytics, submitting with a veto, validation errors by item, the seat's one
dispute and the second reviewer, the daily and monthly summaries as JSON and CSV, calibration."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import soundfile
from starlette.applications import Starlette
from starlette.middleware import Middleware

from callfloor.archivejob import Archiver
from callfloor.settings import Settings
from callfloor.settings.archive import ArchiveSettings
from callfloor.store import CallStart, Store
from callfloor.store.qa import QaStore
from callfloor.web.auth import Auth, AuthMiddleware, Role, auth_routes
from callfloor.web.qa import qa_routes
from callfloor.web.qaplay import ByteRange, RangeError, parse_range
from qa.forms import load_forms
from qa.sampling import SamplingPolicy, draw_daily
from tests.unit.recordings.analytics_kit import Call, scenario
from tests.unit.web.authkit import PASSWORD, T0, add_user, floor

ROOT = Path(__file__).resolve().parents[3]
UTC = ZoneInfo("UTC")
DAY = "2026-02-25"  # T0 is 2026-02-25 06:13:20 UTC
GOOD: dict[str, Any] = {"greeting": True, "verify_identity": None, "understands_need": 5, "correct_answer": 4,
                        "hold_etiquette": None, "courtesy": 5, "empathy": None, "summary": True, "farewell": True,
                        "no_abuse": True, "no_data_leak": True}


@dataclass
class Floor:
    """The app and its parts."""

    app: Starlette
    auth: Auth
    store: Store
    settings: Settings
    wavs: dict[str, bytes]
    archiver: Archiver


def settings_for(tmp_path: Path) -> Settings:
    return Settings.model_validate({
        "teams": [{"id": "north"}, {"id": "south"}],
        "seats": [{"id": "1001", "password": "pw-1001", "team": "north"},
                  {"id": "1002", "password": "pw-1002", "team": "south"}],
        "storage": {"data_dir": str(tmp_path / "data")}})


async def add_call(store: Store, settings: Settings, uuid: str, seat: str, at: float,
                   audio: Call | None) -> bytes:
    """An ended inbound call answered by ``seat``, with its stereo WAV when ``audio`` is given."""
    relative = f"2026/02/25/{uuid}.wav" if audio is not None else None
    await store.call_started(CallStart(uuid, f"sip-{uuid}", "inbound", "+12125550199", "+15550100", None, None, at,
                                       relative))
    await store.call_answered(uuid, at + 2, seat)
    await store.call_ended(uuid, at + 62, "hangup")
    if audio is None:
        return b""
    path = settings.storage.recordings_dir / str(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, audio.int16(), 8000, subtype="PCM_16")
    await store.set_recording(uuid, str(relative))
    return path.read_bytes()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Floor]:
    settings = settings_for(tmp_path)
    async with floor(tmp_path) as (auth, clock, store):
        wavs = {"c1": await add_call(store, settings, "c1", "1001", T0 - 3 * 3600, scenario()),
                "c2": await add_call(store, settings, "c2", "1002", T0 - 2 * 3600, Call(4.0).talk(0, 0.5, 2.0)),
                "c3": await add_call(store, settings, "c3", "1001", T0 - 3600, None)}
        qa = QaStore(store)
        policy = SamplingPolicy(quota=4)
        day = date.fromisoformat(DAY)
        calls = await qa.day_calls(T0 - 6 * 3600, T0 + 18 * 3600, {"1001": "north", "1002": "south"})
        await qa.save_sample(draw_daily(calls, day=day, policy=policy, seed=1), policy, T0)
        for name, role, seat, team in (("qa1", Role.QA, None, None), ("qa2", Role.QA, None, None),
                                       ("leadn", Role.LEAD, None, "north"), ("leads", Role.LEAD, None, "south"),
                                       ("agent1", Role.SEAT, "1001", None), ("agent2", Role.SEAT, "1002", None)):
            await add_user(auth, name, role, seat=seat, team=team)
        archiver = Archiver(store, ArchiveSettings(after=0.0), settings.storage)
        routes = qa_routes(store, qa, auth.audit, settings, clock, recordings=archiver,
                           forms=load_forms(ROOT / "config" / "qa"), tz=UTC)
        app = Starlette(routes=[*auth_routes(auth), *routes], middleware=[Middleware(AuthMiddleware, auth=auth)])
        yield Floor(app, auth, store, settings, wavs, archiver)


async def user(env: Floor, name: str) -> tuple[httpx.AsyncClient, dict[str, str]]:
    """A logged-in client and its CSRF header."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url="http://testserver")
    answer = await http.post("/login", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return http, {"X-CSRF-Token": answer.json()["csrf_token"]}


async def plays(env: Floor) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.actor, e.subject, e.detail) for e in reversed(await env.auth.audit.entries(action="recording.play"))]


def test_parse_range() -> None:
    assert parse_range(None, 1000) is None
    assert parse_range("bytes=0-99", 1000) == ByteRange(0, 99, 1000)
    assert parse_range("bytes=900-", 1000) == ByteRange(900, 999, 1000)
    assert parse_range("bytes=990-5000", 1000) == ByteRange(990, 999, 1000)
    assert parse_range("bytes=-10", 1000) == ByteRange(990, 999, 1000)
    assert parse_range("bytes=-5000", 1000) == ByteRange(0, 999, 1000)
    assert parse_range("bytes=0-1,5-6", 1000) is None  # several ranges: the whole file
    assert parse_range("items=0-1", 1000) is None
    assert parse_range("bytes=9-3", 1000) is None
    assert ByteRange(0, 99, 1000).content_range() == "bytes 0-99/1000"
    for bad in ("bytes=1000-", "bytes=-0"):
        with pytest.raises(RangeError):
            parse_range(bad, 1000)


async def test_who_may_play_which_call_and_every_playback_is_audited(env: Floor) -> None:
    expected = {("qa1", "c1"): 200, ("qa1", "c2"): 200, ("leadn", "c1"): 200, ("leadn", "c2"): 403,
                ("leads", "c2"): 200, ("leads", "c1"): 403, ("agent1", "c1"): 200, ("agent1", "c2"): 403,
                ("agent2", "c2"): 200, ("agent2", "c1"): 403}
    got = {}
    for (name, call) in expected:
        http, _ = await user(env, name)
        answer = await http.get(f"/api/qa/calls/{call}/audio")
        got[name, call] = answer.status_code
        if answer.status_code == 200:
            assert answer.content == env.wavs[call] and answer.headers["content-type"] == "audio/wav"
            assert answer.headers["accept-ranges"] == "bytes"
        else:
            assert answer.json()["error"] == f"call {call} is not yours to review or play"
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url="http://testserver")
    assert (await anonymous.get("/api/qa/calls/c1/audio")).status_code == 401
    qa1, _ = await user(env, "qa1")
    missing = await qa1.get("/api/qa/calls/c3/audio")
    unknown = await qa1.get("/api/qa/calls/nope/audio")
    assert got == expected
    assert (missing.status_code, missing.json()) == (404, {"error": "no recording of call c3 (none made, or deleted)"})
    assert (unknown.status_code, unknown.json()) == (404, {"error": "no call 'nope'"})
    audited = await plays(env)
    assert [(a, s) for a, s, _ in audited] == [
        ("qa1", "call:c1"), ("qa1", "call:c2"), ("leadn", "call:c1"), ("leads", "call:c2"), ("agent1", "call:c1"),
        ("agent2", "call:c2")]
    assert audited[0][2] == {"seat": "1001", "media": "audio/wav", "range": None}
    [row] = await env.auth.audit.entries(action="recording.play", actor="qa1", subject="call:c1")
    assert row.at == T0


async def test_range_requests_seek_and_each_one_is_audited(env: Floor) -> None:
    http, _ = await user(env, "qa1")
    wav = env.wavs["c1"]
    first = await http.get("/api/qa/calls/c1/audio", headers={"Range": "bytes=0-99"})
    tail = await http.get("/api/qa/calls/c1/audio", headers={"Range": "bytes=1000-"})
    suffix = await http.get("/api/qa/calls/c1/audio", headers={"Range": "bytes=-10"})
    past = await http.get("/api/qa/calls/c1/audio", headers={"Range": f"bytes={len(wav)}-"})
    assert (first.status_code, first.content, first.headers["content-range"]) == (206, wav[:100], f"bytes 0-99/{len(wav)}")
    assert (tail.status_code, tail.content) == (206, wav[1000:])
    assert tail.headers["content-range"] == f"bytes 1000-{len(wav) - 1}/{len(wav)}"
    assert (suffix.status_code, suffix.content) == (206, wav[-10:])
    assert (past.status_code, past.headers["content-range"]) == (416, f"bytes */{len(wav)}")
    assert [d["range"] for _, _, d in await plays(env)] == ["bytes=0-99", "bytes=1000-", "bytes=-10", f"bytes={len(wav)}-"]


async def test_the_archived_flac_is_played_and_analysed_after_the_wav_is_gone(env: Floor) -> None:
    report = await env.archiver.run_once(T0 + 10)
    assert report.count("archived") == 2
    assert not (env.settings.storage.recordings_dir / "2026/02/25/c1.wav").exists()
    http, _ = await user(env, "agent1")
    whole = await http.get("/api/qa/calls/c1/audio")
    part = await http.get("/api/qa/calls/c1/audio", headers={"Range": "bytes=0-3"})
    details = (await http.get("/api/qa/calls/c1")).json()
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/flac"
    samples, rate = soundfile.read(io.BytesIO(whole.content), dtype="int16")
    assert rate == 8000 and samples.shape == (480000, 2)
    assert (part.status_code, part.content) == (206, b"fLaC")
    assert [(s["start"], s["end"]) for s in details["analytics"]["segments"] if s["kind"] == "overtalk"] == [(10.0, 12.0)]
    assert [d["media"] for _, _, d in await plays(env)] == ["audio/flac", "audio/flac"]


async def test_the_review_data_has_the_form_the_markers_and_the_sample(env: Floor) -> None:
    http, _ = await user(env, "qa1")
    data = (await http.get("/api/qa/calls/c1")).json()
    queue = (await http.get(f"/api/qa/queue?day={DAY}")).json()
    lead, _ = await user(env, "leadn")
    north = (await lead.get("/api/qa/queue")).json()
    seat, _ = await user(env, "agent1")
    own = (await seat.get("/api/qa/calls/c1")).json()
    assert data["call"] == {"uuid": "c1", "seat": "1001", "team": "north", "direction": "inbound",
                            "caller": "+12125550199", "callee": "+15550100", "started_at": T0 - 3 * 3600,
                            "answered_at": T0 - 3 * 3600 + 2, "ended_at": T0 - 3 * 3600 + 62, "duration_s": 60.0,
                            "status": "ended", "recorded": True}
    assert (data["form"]["id"], data["form"]["version"]) == ("standard", 1)
    assert [i["id"] for s in data["form"]["sections"] for i in s["items"] if i["veto"]] == ["no_abuse", "no_data_leak"]
    marks = [(s["kind"], s["start"], s["end"]) for s in data["analytics"]["segments"]
             if s["kind"] in ("overtalk", "dead_air")]
    assert marks == [("overtalk", 10.0, 12.0), ("dead_air", 14.0, 22.0), ("dead_air", 55.0, 60.0)]
    assert data["analytics_error"] is None and data["evaluations"] == [] and data["may_score"] is True
    assert (data["sample"]["day"], data["sample"]["stratum_size"], data["sample"]["stratum"]) == (DAY, 2, "random")
    assert [(c["call"], c["seat"], c["status"]) for c in queue["calls"]] == [
        ("c1", "1001", "pending"), ("c3", "1001", "pending"), ("c2", "1002", "pending")]
    assert (queue["day"], queue["seed"]) == (DAY, 1)
    assert [c["call"] for c in north["calls"]] == ["c1", "c3"]  # the lead's team only; today by default
    assert own["may_score"] is False
    no_audio = (await http.get("/api/qa/calls/c3")).json()
    assert (no_audio["analytics"], no_audio["analytics_error"]) == (None, "no recording of call c3 (none made, or deleted)")


async def test_submit_with_a_failed_veto_scores_zero_and_is_stored_once(env: Floor) -> None:
    http, csrf = await user(env, "qa1")
    body = {"answers": {**GOOD, "no_abuse": "no", "courtesy": 3},
            "defects": [{"category": "rude", "at_s": 11.5, "note": "talked over"}], "coaching": " calmer "}
    forged = await http.post("/api/qa/calls/c1/evaluations", json=body)
    saved = await http.post("/api/qa/calls/c1/evaluations", json=body, headers=csrf)
    again = await http.post("/api/qa/calls/c1/evaluations", json=body, headers=csrf)
    queue = (await http.get(f"/api/qa/queue?day={DAY}")).json()
    assert forged.status_code == 403
    assert saved.status_code == 201, saved.text
    e = saved.json()["evaluation"]
    assert (e["score"], e["veto"], e["status"], e["reviewer"], e["coaching"]) == (0.0, ["no_abuse"], "submitted", "qa1", "calmer")
    assert e["unvetoed"] == 77.96875
    assert e["defects"] == [{"category": "rude", "at_s": 11.5, "note": "talked over"}]
    assert (e["form_id"], e["form_version"], e["team"]) == ("standard", 1, "north")
    assert (again.status_code, again.json()["error"]) == (409, "call 'c1' has an evaluation already")
    assert [(c["call"], c["status"], c["score"]) for c in queue["calls"]][0] == ("c1", "submitted", 0.0)
    [row] = await env.auth.audit.entries(action="qa.evaluate")
    assert (row.actor, row.subject, row.detail) == ("qa1", "call:c1", {"evaluation": e["id"], "score": 0.0, "veto": ["no_abuse"]})


async def test_validation_errors_come_back_per_item(env: Floor) -> None:
    http, csrf = await user(env, "qa1")
    answers = {**GOOD, "courtesy": 9, "greeting": None, "bogus": True}
    del answers["farewell"]
    answer = await http.post("/api/qa/calls/c2/evaluations", headers=csrf,
                             json={"answers": answers, "defects": [{"category": " "}, {"category": "x", "at_s": "soon"}]})
    lead, lead_csrf = await user(env, "leadn")
    other_team = await lead.post("/api/qa/calls/c2/evaluations", headers=lead_csrf, json={"answers": GOOD})
    seat, seat_csrf = await user(env, "agent2")
    by_seat = await seat.post("/api/qa/calls/c2/evaluations", headers=seat_csrf, json={"answers": GOOD})
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "the evaluation has 6 problem(s)",
        "items": {"bogus": "the form has no item 'bogus'", "greeting": "item 'greeting': n/a is not allowed for this item",
                  "courtesy": "item 'courtesy': 9 is outside the scale 1..5", "farewell": "no answer"},
        "defects": {"0": "a defect needs a category", "1": "at_s: seconds into the call, not 'soon'"},
        "fields": {}}
    assert other_team.status_code == 403 and by_seat.status_code == 403
    assert await env.auth.audit.entries(action="qa.evaluate") == []


async def test_a_seat_disputes_its_own_evaluation_once_and_a_second_reviewer_decides(env: Floor) -> None:
    qa1, qa1_csrf = await user(env, "qa1")
    e = (await qa1.post("/api/qa/calls/c1/evaluations", json={"answers": GOOD}, headers=qa1_csrf)).json()["evaluation"]
    agent1, a1 = await user(env, "agent1")
    agent2, a2 = await user(env, "agent2")
    mine = (await agent1.get("/api/qa/my/evaluations")).json()
    not_mine = await agent2.post(f"/api/qa/evaluations/{e['id']}/dispute", json={"reason": "x"}, headers=a2)
    no_reason = await agent1.post(f"/api/qa/evaluations/{e['id']}/dispute", json={"reason": " "}, headers=a1)
    disputed = await agent1.post(f"/api/qa/evaluations/{e['id']}/dispute", json={"reason": "I did verify"}, headers=a1)
    twice = await agent1.post(f"/api/qa/evaluations/{e['id']}/dispute", json={"reason": "again"}, headers=a1)
    by_qa = await qa1.post(f"/api/qa/evaluations/{e['id']}/dispute", json={"reason": "x"}, headers=qa1_csrf)
    open_list = (await qa1.get("/api/qa/disputes")).json()
    first = await qa1.post(f"/api/qa/evaluations/{e['id']}/decision", json={"decision": "uphold"}, headers=qa1_csrf)
    leads, ls = await user(env, "leads")
    wrong_team = await leads.post(f"/api/qa/evaluations/{e['id']}/decision", json={"decision": "uphold"}, headers=ls)
    qa2, qa2_csrf = await user(env, "qa2")
    revised = await qa2.post(f"/api/qa/evaluations/{e['id']}/decision", headers=qa2_csrf,
                             json={"decision": "revise", "note": "verified", "answers": {**GOOD, "courtesy": 4}})
    assert [x["id"] for x in mine["evaluations"]] == [e["id"]] and mine["seat"] == "1001"
    assert (not_mine.status_code, not_mine.json()["error"]) == (
        403, f"evaluation {e['id']} is not of your seat: only seat 1001 may dispute it")
    assert no_reason.status_code == 400
    assert disputed.status_code == 200 and disputed.json()["status"] == "disputed"
    assert disputed.json()["evaluation"]["dispute"]["reason"] == "I did verify"
    assert (twice.status_code, twice.json()["error"]) == (
        409, f"evaluation {e['id']}: an evaluation can be disputed once; this one is disputed")
    assert by_qa.status_code == 403
    assert [d["id"] for d in open_list] == [e["id"]]
    assert (first.status_code, first.json()["error"]) == (
        409, f"evaluation {e['id']}: the second reviewer must be someone else than qa1")
    assert wrong_team.status_code == 403
    assert revised.status_code == 200 and revised.json()["status"] == "revised"
    rows = [(x["status"], x["reviewer"], x["revises"]) for x in revised.json()["evaluations"]]
    assert rows == [("accepted", "qa2", e["id"]), ("revised", "qa1", None)]
    assert (await qa1.get("/api/qa/disputes")).json() == []
    actions = [(x.actor, x.action) for x in reversed(await env.auth.audit.entries()) if x.action.startswith("qa.dispute")]
    assert actions == [("agent1", "qa.dispute"), ("qa2", "qa.dispute.revise")]


async def test_daily_and_monthly_summaries_as_json_and_csv(env: Floor) -> None:
    http, csrf = await user(env, "qa1")
    await http.post("/api/qa/calls/c1/evaluations", headers=csrf,
                    json={"answers": {**GOOD, "no_data_leak": False}, "defects": [{"category": "data", "at_s": 3}]})
    await http.post("/api/qa/calls/c2/evaluations", headers=csrf, json={"answers": GOOD, "defects": [
        {"category": "data", "at_s": 1}, {"category": "tone", "at_s": 2}]})
    daily = await http.get(f"/api/qa/summary/daily?day={DAY}")
    csv = await http.get(f"/api/qa/summary/daily?day={DAY}&format=csv")
    monthly = (await http.get("/api/qa/summary/monthly?month=2026-02")).json()
    monthly_csv = await http.get("/api/qa/summary/monthly?month=2026-02&format=csv")
    bad = await http.get("/api/qa/summary/daily?day=2026-13-01")
    seat, _ = await user(env, "agent1")
    assert daily.json() == {
        "day": DAY, "total": {"key": "", "scored": 2, "average": 46.484375, "vetoes": 1},
        "teams": [{"key": "north", "scored": 1, "average": 0.0, "vetoes": 1},
                  {"key": "south", "scored": 1, "average": 92.96875, "vetoes": 0}],
        "top_defects": [{"category": "data", "count": 2}, {"category": "tone", "count": 1}]}
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.text == ("day,level,key,scored,average,vetoes\r\n2026-02-25,total,,2,46.48,1\r\n"
                        "2026-02-25,team,north,1,0.00,1\r\n2026-02-25,team,south,1,92.97,0\r\n"
                        "2026-02-25,defect,data,2,,\r\n2026-02-25,defect,tone,1,,\r\n")
    assert [(r["key"], r["scored"], r["vetoes"]) for r in monthly["seats"]] == [("1001", 1, 1), ("1002", 1, 0)]
    assert [r["key"] for r in monthly["teams"]] == ["north", "south"]
    assert monthly["total"]["estimate"]["n"] == 2
    assert monthly_csv.text.startswith("month,level,key,team,scored,vetoes,average,sampled,weighted,")
    assert bad.status_code == 400
    assert (await seat.get(f"/api/qa/summary/daily?day={DAY}")).status_code == 403


async def test_calibration_spread_for_the_invited_reviewers(env: Floor) -> None:
    qa1, c1 = await user(env, "qa1")
    qa2, c2 = await user(env, "qa2")
    lead, cl = await user(env, "leadn")
    opened = await qa1.post("/api/qa/calibrations", json={"call": "c1", "reviewers": ["qa1", "qa2"]}, headers=c1)
    ident = opened.json()["id"]
    one = await qa1.post(f"/api/qa/calibrations/{ident}/ratings", json={"answers": GOOD}, headers=c1)
    outsider = await lead.post(f"/api/qa/calibrations/{ident}/ratings", json={"answers": GOOD}, headers=cl)
    half = (await qa1.get(f"/api/qa/calibrations/{ident}")).json()
    await qa2.post(f"/api/qa/calibrations/{ident}/ratings", json={"answers": {**GOOD, "courtesy": 3}}, headers=c2)
    again = await qa2.post(f"/api/qa/calibrations/{ident}/ratings", json={"answers": GOOD}, headers=c2)
    report = (await lead.get(f"/api/qa/calibrations/{ident}")).json()
    alone = await qa1.post("/api/qa/calibrations", json={"call": "c1", "reviewers": ["qa1"]}, headers=c1)
    assert opened.status_code == 201 and opened.json() == {
        "id": ident, "call": "c1", "form_id": "standard", "form_version": 1, "reviewers": ["qa1", "qa2"]}
    assert one.json() == {"score": 92.96875}
    assert outsider.status_code == 403
    assert (half["pending"], list(half["totals"])) == (["qa2"], ["qa1"])
    assert again.status_code == 409
    assert report["pending"] == [] and report["totals"] == {"qa1": 92.96875, "qa2": 77.96875}
    courtesy = next(i for i in report["items"] if i["item"] == "courtesy")
    assert (courtesy["spread"], courtesy["agreement"]) == (2.0, 0.5)
    assert alone.status_code == 400


async def test_pages_by_role(env: Floor) -> None:
    qa1, _ = await user(env, "qa1")
    agent1, _ = await user(env, "agent1")
    queue = await qa1.get("/qa")
    review = await qa1.get("/qa/calls/c1")
    summary = await qa1.get("/qa/summary")
    seat_page = await agent1.get("/seat/qa")
    own_call = await agent1.get("/qa/calls/c1")
    other_call = await agent1.get("/qa/calls/c2")
    seat_queue = await agent1.get("/qa")
    script = await qa1.get("/qa/qaplayer.js")
    assert queue.status_code == 200 and '"view": "queue"' in queue.text and f'"day": "{DAY}"' in queue.text
    assert review.status_code == 200 and '"call": "c1"' in review.text and '"may_score": true' in review.text
    assert '"view": "summary"' in summary.text and '"view": "mine"' in seat_page.text
    assert own_call.status_code == 200 and '"may_score": false' in own_call.text
    assert other_call.status_code == 403 and seat_queue.status_code == 403
    assert script.headers["content-type"].startswith("text/javascript") and "class Player" in script.text
    assert '"qa.veto_item": "Veto item"' in queue.text
