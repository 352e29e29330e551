"""QaStore on a real SQLite file: forms by version, samples, evaluations, disputes, calibration."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from callfloor.store import CallStart, Store, UnknownCallError
from callfloor.store.qa import (
    FormChangedError,
    QaError,
    QaStore,
    SampleExistsError,
    UnknownFormError,
)
from qa.calibration import Rating
from qa.disputes import Action, Status
from qa.forms import Form, load_forms
from qa.sampling import DailySample, SamplingPolicy, draw_daily
from qa.scoring import Defect, Evaluation
from tests.unit.qa.small_form import SMALL

ROOT = Path(__file__).resolve().parents[3]
DAY = date(2025, 3, 14)
START = 1_741_910_400.0  # 2025-03-14 00:00 UTC
END = START + 86400
TEAMS = {"1001": "front", "1002": "back"}
ANSWERS: dict[str, Any] = {"a1": True, "a2": 4, "b1": False, "b2": True, "v1": True}


def raw(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """A second connection, as another process would see the file."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def call(store: Store, uuid: str, seat: str | None, at: float, talk: float | None = 120.0,
               survey: int | None = None, end: bool = True) -> None:
    await store.call_started(CallStart(uuid, f"sip-{uuid}", "inbound", "+12125550199", "100", None, None, at))
    if talk is not None:
        await store.call_answered(uuid, at + 5, seat)
    if end:
        await store.call_ended(uuid, at + 5 + (talk or 0.0), "hangup")
    if survey is not None:
        await store.set_survey(uuid, survey)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "floor.sqlite") as opened:
        for k in range(6):
            await call(opened, f"a{k}", "1001", START + 3600 * (k + 1), talk=10.0 if k == 0 else 120.0,
                       survey=1 if k == 1 else None)
        for k in range(3):
            await call(opened, f"b{k}", "1002", START + 3600 * (k + 1))
        await call(opened, "unanswered", None, START + 60, talk=None)
        await call(opened, "going", "1002", START + 120, end=False)
        await call(opened, "tomorrow", "1001", END + 60)
        yield opened


@pytest.fixture
async def qa(store: Store) -> QaStore:
    qa = QaStore(store)
    await qa.sync_forms([Form.model_validate(SMALL), *load_forms(ROOT / "config" / "qa")], START)
    return qa


def evaluation(call_uuid: str, **changes: Any) -> Evaluation:
    return Evaluation(call_uuid, "t", 2, "qa1", {**ANSWERS, **changes}, (Defect("greeting", 4.0, "late"),), "smile")


async def test_forms_by_version(store: Store, qa: QaStore) -> None:
    assert await qa.forms() == [("outbound", 1, "Outbound sales and survey", 0), ("standard", 1, "Inbound service", 0),
                                ("t", 2, "Test form", 0)]
    assert await qa.form("t", 2) == Form.model_validate(SMALL)
    with pytest.raises(UnknownFormError, match="no QA form 't' version 3"):
        await qa.form("t", 3)
    renamed = Form.model_validate({**SMALL, "title": {"en": "Renamed"}})
    await qa.sync_forms([renamed], START + 1)  # not used yet: the body may change
    assert (await qa.form("t", 2)).title.en == "Renamed"
    await qa.sync_forms([Form.model_validate(SMALL)], START + 2)
    await qa.submit(evaluation("a2"), START + 3)
    with pytest.raises(FormChangedError, match="form 't' version 2 changed but 1 evaluations use it"):
        await qa.sync_forms([renamed], START + 4)
    await qa.sync_forms([Form.model_validate({**SMALL, "version": 3, "title": {"en": "Renamed"}})], START + 5)
    assert [(i, v, n) for i, v, _, n in await qa.forms()][-2:] == [("t", 2, 1), ("t", 3, 0)]


async def test_the_days_calls_and_their_flags(qa: QaStore) -> None:
    calls = await qa.day_calls(START, END, TEAMS, flags={"a3": frozenset({"dead_air"})})
    assert [c.call for c in calls] == ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "a4", "a5"]
    first = calls[0]
    assert (first.seat, first.team, first.duration_s, first.survey_score) == ("1001", "front", 10.0, None)
    assert calls[2].survey_score == 1 and calls[6].flags == {"dead_air"}


async def test_a_sample_is_stored_once(tmp_path: Path, qa: QaStore) -> None:
    policy = SamplingPolicy(quota=2)
    sample = draw_daily(await qa.day_calls(START, END, TEAMS), day=DAY, policy=policy, seed=5)
    await qa.save_sample(sample, policy, END)
    rows = await qa.samples(DAY)
    assert [(r.seat, r.stratum, r.drawn, r.stratum_size, r.seed, r.evaluation) for r in rows] == [
        ("1001", "random", 1, 4, 5, None), ("1001", "risk", 1, 2, 5, None),
        ("1002", "random", 2, 3, 5, None), ("1002", "random", 2, 3, 5, None)]
    assert [r.call for r in rows] == [p.call for p in sorted(sample.picks, key=lambda p: (p.seat, p.stratum))]
    assert rows[0].probability == 0.25 and rows[1].probability == 0.5
    assert rows[1].flags in (("low_survey",), ("short_call",))
    assert await qa.sample_seed(DAY) == 5 and await qa.sample_seed(date(2025, 3, 15)) is None
    assert [r.call for r in await qa.samples(DAY, seat="1002")] == [r.call for r in rows[2:]]
    with pytest.raises(SampleExistsError, match="2025-03-14 was sampled already"):
        await qa.save_sample(sample, policy, END)
    assert raw(tmp_path / "floor.sqlite", "SELECT count(*) FROM qa_samples") == [(4,)]


async def test_a_failed_sample_write_leaves_nothing(tmp_path: Path, qa: QaStore) -> None:
    sample = draw_daily(await qa.day_calls(START, END, TEAMS), day=DAY, policy=SamplingPolicy(), seed=1)
    twice = replace(sample, picks=(*sample.picks, sample.picks[0]))  # the same call twice
    with pytest.raises(sqlite3.IntegrityError):
        await qa.save_sample(twice, SamplingPolicy(), END)
    assert raw(tmp_path / "floor.sqlite", "SELECT (SELECT count(*) FROM qa_sample_days), (SELECT count(*) FROM qa_samples)") == [(0, 0)]


async def sampled(qa: QaStore) -> DailySample:
    policy = SamplingPolicy(quota=2)
    sample = draw_daily(await qa.day_calls(START, END, TEAMS), day=DAY, policy=policy, seed=5)
    await qa.save_sample(sample, policy, END)
    return sample


async def test_evaluations_with_defects_and_the_daily_rows(tmp_path: Path, qa: QaStore) -> None:
    sample = await sampled(qa)
    pick = sample.picks[0]
    new_id = await qa.submit(evaluation(pick.call), END + 60)
    row = await qa.evaluation(new_id)
    assert (row.call, row.seat, row.team, row.form_version, row.score, row.veto, row.status) == (
        pick.call, "1001", "front", 2, 68.75, (), "submitted")
    assert row.answers == ANSWERS and await qa.defects(new_id) == [("greeting", 4.0, "late")]
    vetoed = await qa.submit(evaluation("a5", v1=False), END + 70, team="front")  # not in the sample
    assert (await qa.evaluation(vetoed)).veto == ("v1",)
    with pytest.raises(QaError, match="has an evaluation already"):
        await qa.submit(evaluation(pick.call), END + 80)
    with pytest.raises(UnknownCallError):
        await qa.submit(evaluation("nope"), END + 80)
    with pytest.raises(QaError, match="reached no seat"):
        await qa.submit(evaluation("unanswered"), END + 80)
    with pytest.raises(QaError, match="call b0: item 'a2': 9 is outside the scale 1..5"):
        await qa.submit(evaluation("b0", a2=9), END + 80)
    rows = await qa.scored_between(END, END + 86400)
    assert [(r.call, r.score, r.veto, r.defects, r.stratum, r.stratum_size) for r in rows] == [
        (pick.call, 68.75, (), ("greeting",), f"2025-03-14/1001/{pick.stratum}", pick.stratum_size),
        ("a5", 0.0, ("v1",), ("greeting",), None, None)]
    month = await qa.scored_for_days(date(2025, 3, 1), date(2025, 4, 1), START - 13 * 86400, START + 18 * 86400)
    assert [r.call for r in month] == [pick.call, "a5"]
    assert await qa.scored_for_days(date(2025, 4, 1), date(2025, 5, 1), START + 18 * 86400, START + 48 * 86400) == []
    assert {r.call: r.evaluation for r in await qa.samples(DAY)}[pick.call] == new_id


async def test_a_dispute_revised_by_a_second_reviewer(tmp_path: Path, qa: QaStore) -> None:
    sample = await sampled(qa)
    call_uuid = sample.picks[0].call
    first = await qa.submit(evaluation(call_uuid, b1=False), END)
    with pytest.raises(QaError, match="only seat 1001 may dispute"):
        await qa.dispute(first, Action.DISPUTE, by="1002", now=END + 10, note="not mine")
    case = await qa.dispute(first, Action.DISPUTE, by="1001", now=END + 10, note="b1 was answered")
    assert case.status is Status.DISPUTED
    await qa.dispute(first, Action.ASSIGN, by="qa2", now=END + 20)
    with pytest.raises(QaError, match="a revision goes with the revise action"):
        await qa.dispute(first, Action.REVISE, by="qa2", now=END + 30)
    revision = replace(evaluation(call_uuid, b1=True), reviewer="qa2")
    case = await qa.dispute(first, Action.REVISE, by="qa2", now=END + 30, note="agreed", revision=revision)
    assert (case.status, case.second_reviewer, case.decision_note) == (Status.REVISED, "qa2", "agreed")
    assert (await qa.evaluation(first)).status == "revised"
    [current] = await qa.scored_between(END, END + 86400)
    assert (current.score, current.evaluation != first) == (88.75, True)
    newest = await qa.evaluation(current.evaluation)
    assert (newest.reviewer, newest.status, newest.revises, newest.team) == ("qa2", "accepted", first, "front")
    with pytest.raises(QaError, match="can be disputed once"):
        await qa.dispute(current.evaluation, Action.DISPUTE, by="1001", now=END + 40, note="again")
    assert (await qa.case(first)).reason == "b1 was answered"
    assert raw(tmp_path / "floor.sqlite", "SELECT decision, revision_id FROM qa_disputes") == [("revised", current.evaluation)]


async def test_an_upheld_dispute_keeps_the_score(qa: QaStore) -> None:
    first = await qa.submit(evaluation("b1"), END)
    await qa.dispute(first, Action.DISPUTE, by="1002", now=END + 1, note="why")
    await qa.dispute(first, Action.ASSIGN, by="qa2", now=END + 2)
    case = await qa.dispute(first, Action.UPHOLD, by="qa2", now=END + 3, note="stands")
    assert case.status is Status.UPHELD and (await qa.evaluation(first)).score == 68.75


async def test_calibration_session(qa: QaStore) -> None:
    session = await qa.open_calibration("a1", "t", 2, by="lead", now=END)
    assert await qa.rate(session, Rating("qa1", ANSWERS), END + 1) == 68.75
    assert await qa.rate(session, Rating("qa2", {**ANSWERS, "a2": 5, "b1": True}), END + 2) == 100.0
    with pytest.raises(QaError, match="rated session 1 already"):
        await qa.rate(session, Rating("qa1", ANSWERS), END + 3)
    with pytest.raises(QaError, match="no answer for item"):
        await qa.rate(session, Rating("qa3", {"a1": True}), END + 3)
    report = await qa.calibration(session)
    assert dict(report.totals) == {"qa1": 68.75, "qa2": 100.0} and report.total_spread == 31.25
    with pytest.raises(UnknownFormError):
        await qa.open_calibration("a1", "t", 9, by="lead", now=END)
