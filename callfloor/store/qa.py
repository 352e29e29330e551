"""QA rows on the service's connection: forms by version, daily samples, evaluations with
defects, disputes and calibration sessions (schema: migration 007, docs/qa.md).

Multi-statement writes run as one function on aiosqlite's worker thread between BEGIN
IMMEDIATE and COMMIT, as ``callfloor.store.dialer`` does (its module docstring says why); a
dispute step reads the row, applies the pure state machine and writes, all in that one call.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast

from callfloor.store.db import UnknownCallError
from callfloor.store.schema import StoreError
from callfloor.store.shared import SharedConnection
from qa.calibration import CalibrationReport, Rating, calibrate
from qa.disputes import Action, DisputeError, EvaluationCase, Status, apply
from qa.forms import Form, form_from_json
from qa.reports import ScoredCall
from qa.sampling import CallFacts, DailySample, SamplingPolicy
from qa.scoring import Evaluation, Score, ScoringError, score

__all__ = [
    "EvaluationRow",
    "FormChangedError",
    "QaError",
    "QaStore",
    "SampleExistsError",
    "SampleRow",
    "UnknownEvaluationError",
    "UnknownFormError",
]

T = TypeVar("T")


class QaError(StoreError):
    """Base of the QA store's refusals (a scoring or dispute error is wrapped in one)."""


class UnknownFormError(QaError, LookupError):
    """No stored form has this id and version."""


class FormChangedError(QaError):
    """A form file changed but kept its version while evaluations use that version."""


class SampleExistsError(QaError):
    """The day was sampled already (its picks stand; the seed is stored with them)."""


class UnknownEvaluationError(QaError, LookupError):
    """No evaluation has this id."""


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One stored pick."""

    day: str
    seat: str
    team: str | None
    call: str
    stratum: str
    stratum_size: int
    drawn: int
    probability: float
    flags: tuple[str, ...]
    seed: int
    evaluation: int | None  # the current evaluation of the call, once scored


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    """One stored evaluation."""

    id: int
    call: str
    seat: str
    team: str | None
    form_id: str
    form_version: int
    reviewer: str
    answers: dict[str, Any]
    score: float
    unvetoed: float
    veto: tuple[str, ...]
    coaching: str
    submitted_at: float
    status: str
    revises: int | None


_EVAL = "id, call_uuid, seat_id, team_id, form_id, form_version, reviewer, answers, score, unvetoed, veto, coaching, submitted_at, status, revises"
_SCORED = """
SELECT e.id, e.call_uuid, e.seat_id, e.team_id, e.score, e.veto, e.submitted_at,
       s.day, s.stratum, s.stratum_size,
       (SELECT json_group_array(d.category) FROM qa_defects d WHERE d.evaluation_id = e.id)
FROM qa_evaluations e LEFT JOIN qa_samples s ON s.call_uuid = e.call_uuid
WHERE e.status != 'revised' AND ({where})
ORDER BY e.submitted_at, e.id
"""


def _evaluation_row(row: Sequence[Any]) -> EvaluationRow:
    i, call, seat, team, fid, fver, reviewer, answers, sc, unv, veto, coaching, at, status, rev = row
    return EvaluationRow(i, call, seat, team, fid, fver, reviewer, json.loads(answers), sc, unv,
                         tuple(json.loads(veto)), coaching, at, status, rev)


def _scored(row: Sequence[Any]) -> ScoredCall:
    i, call, seat, team, sc, veto, at, day, stratum, size, defects = row
    key = None if stratum is None else f"{day}/{seat}/{stratum}"
    return ScoredCall(i, call, seat, team, sc, tuple(json.loads(veto)), tuple(json.loads(defects)), at, key, size)


def _answers_json(result: Score) -> str:
    return json.dumps(dict(result.answers), ensure_ascii=False)


class QaStore(SharedConnection):
    """The QA rows on a ``Store``'s connection (or any aiosqlite connection)."""



    async def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))


    async def sync_forms(self, forms: Sequence[Form], now: float) -> None:
        """Store each loaded form version; a changed body under a used version is refused."""

        def work(conn: sqlite3.Connection) -> None:
            for form in forms:
                body = form.model_dump_json()
                found = conn.execute("SELECT body FROM qa_forms WHERE form_id = ? AND version = ?",
                                     form.key).fetchone()
                if found is not None and found[0] != body:
                    used = conn.execute("SELECT count(*) FROM qa_evaluations WHERE form_id = ? AND form_version = ?",
                                        form.key).fetchone()[0]
                    if used:
                        raise FormChangedError(f"form {form.id!r} version {form.version} changed but {used} "
                                               "evaluations use it: raise its version")
                conn.execute(
                    "INSERT INTO qa_forms (form_id, version, title, body, loaded_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (form_id, version) DO UPDATE SET title = excluded.title, body = excluded.body,"
                    " loaded_at = excluded.loaded_at WHERE qa_forms.body != excluded.body",
                    (*form.key, form.title.en, body, now),
                )

        await self._atomic(work)

    async def form(self, form_id: str, version: int) -> Form:
        """The stored form at exactly this version."""
        if not (rows := await self._rows("SELECT body FROM qa_forms WHERE form_id = ? AND version = ?", (form_id, version))):
            raise UnknownFormError(f"no QA form {form_id!r} version {version}")
        return form_from_json(rows[0][0])

    async def forms(self) -> list[tuple[str, int, str, int]]:
        """(id, version, title, evaluations made on it) for every stored form version."""
        return [(i, v, t, n) for i, v, t, n in await self._rows(
            "SELECT f.form_id, f.version, f.title, (SELECT count(*) FROM qa_evaluations e WHERE"
            " e.form_id = f.form_id AND e.form_version = f.version) FROM qa_forms f ORDER BY 1, 2")]


    async def day_calls(self, start: float, end: float, teams: Mapping[str, str | None],
                        flags: Mapping[str, frozenset[str]] | None = None) -> list[CallFacts]:
        """The answered, ended calls with a seat that started in [start, end), for the sampler.

        ``teams`` maps seat to team (the settings); ``flags`` adds risk flags by call uuid
        (``CallAnalyticsStore.sampling_flags``: stored analytics flags, complaints).
        """
        rows = await self._rows(
            "SELECT uuid, seat_id, started_at, coalesce(duration, 0.0), survey_score FROM calls"
            " WHERE seat_id IS NOT NULL AND answered_at IS NOT NULL AND status = 'ended'"
            " AND started_at >= ? AND started_at < ? ORDER BY started_at, uuid", (start, end))
        extra = flags or {}
        return [CallFacts(u, s, teams.get(s), at, d, sv, extra.get(u, frozenset())) for u, s, at, d, sv in rows]

    async def save_sample(self, sample: DailySample, policy: SamplingPolicy, now: float) -> None:
        """Write the day's picks in one transaction; ``SampleExistsError`` if the day has some."""
        day = sample.day.isoformat()

        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.execute("INSERT INTO qa_sample_days (day, seed, policy, calls, drawn_at) VALUES (?, ?, ?, ?, ?)",
                             (day, sample.seed, policy.model_dump_json(), sum(sample.calls.values()), now))
            except sqlite3.IntegrityError:
                raise SampleExistsError(f"{day} was sampled already") from None
            conn.executemany(
                "INSERT INTO qa_samples (day, seat_id, team_id, call_uuid, stratum, stratum_size, drawn,"
                " probability, flags, seed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(day, p.seat, p.team, p.call, p.stratum, p.stratum_size, p.drawn, p.probability,
                  json.dumps(sorted(p.flags)), sample.seed) for p in sample.picks])

        await self._atomic(work)

    async def sample_seed(self, day: date) -> int | None:
        """The seed the day was drawn with, or None when it was not sampled."""
        rows = await self._rows("SELECT seed FROM qa_sample_days WHERE day = ?", (day.isoformat(),))
        return int(rows[0][0]) if rows else None

    async def samples(self, day: date, *, seat: str | None = None) -> list[SampleRow]:
        """The day's picks (one seat's, if given), by seat and stratum, with their evaluation."""
        rows = await self._rows(
            "SELECT s.day, s.seat_id, s.team_id, s.call_uuid, s.stratum, s.stratum_size, s.drawn, s.probability,"
            " s.flags, s.seed, e.id FROM qa_samples s LEFT JOIN qa_evaluations e ON e.call_uuid = s.call_uuid"
            " AND e.status != 'revised' WHERE s.day = ? AND (? IS NULL OR s.seat_id = ?)"
            " ORDER BY s.seat_id, s.stratum, s.id", (day.isoformat(), seat, seat))
        return [SampleRow(d, s, t, c, st, n, m, p, tuple(json.loads(f)), sd, e) for d, s, t, c, st, n, m, p, f, sd, e in rows]


    async def submit(self, evaluation: Evaluation, now: float, *, team: str | None = None) -> int:
        """Score and store an evaluation with its defects; returns its id.

        The seat is the call's (CDR); the team is the sample's, else ``team``. A call has one
        current evaluation: a second one is refused.
        """
        form = await self.form(evaluation.form_id, evaluation.form_version)
        try:
            result = score(form, evaluation)
        except ScoringError as exc:
            raise QaError(f"call {evaluation.call}: {exc}") from None

        def work(conn: sqlite3.Connection) -> int:
            found = conn.execute("SELECT c.seat_id, s.team_id FROM calls c LEFT JOIN qa_samples s ON"
                                 " s.call_uuid = c.uuid WHERE c.uuid = ?", (evaluation.call,)).fetchone()
            if found is None:
                raise UnknownCallError(f"no call {evaluation.call!r}")
            if found[0] is None:
                raise QaError(f"call {evaluation.call!r} reached no seat: nothing to evaluate")
            return self._insert(conn, evaluation, result, seat=found[0], team=found[1] or team, now=now)

        return await self._atomic(work)

    @staticmethod
    def _insert(conn: sqlite3.Connection, evaluation: Evaluation, result: Score, *, seat: str,
                team: str | None, now: float, status: str = "submitted", revises: int | None = None) -> int:
        try:
            cursor = conn.execute(
                f"INSERT INTO qa_evaluations ({_EVAL.removeprefix('id, ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (evaluation.call, seat, team, evaluation.form_id, evaluation.form_version, evaluation.reviewer,
                 _answers_json(result), result.total, result.unvetoed, json.dumps(list(result.veto)),
                 result.coaching, now, status, revises))
        except sqlite3.IntegrityError:
            raise QaError(f"call {evaluation.call!r} has an evaluation already") from None
        new_id = int(cast(int, cursor.lastrowid))
        conn.executemany("INSERT INTO qa_defects (evaluation_id, category, at_s, note) VALUES (?, ?, ?, ?)",
                         [(new_id, d.category, d.at_s, d.note) for d in result.defects])
        return new_id

    async def evaluation(self, evaluation_id: int) -> EvaluationRow:
        """One evaluation by id."""
        rows = await self._rows(f"SELECT {_EVAL} FROM qa_evaluations WHERE id = ?", (evaluation_id,))
        if not rows:
            raise UnknownEvaluationError(f"no evaluation {evaluation_id}")
        return _evaluation_row(rows[0])

    async def defects(self, evaluation_id: int) -> list[tuple[str, float | None, str]]:
        """(category, seconds into the call, note) of an evaluation's defects."""
        sql = "SELECT category, at_s, note FROM qa_defects WHERE evaluation_id = ? ORDER BY id"
        return [(c, a, n) for c, a, n in await self._rows(sql, (evaluation_id,))]

    async def scored_between(self, start: float, end: float) -> list[ScoredCall]:
        """Current evaluations submitted in [start, end) (the daily summary)."""
        where = "e.submitted_at >= ? AND e.submitted_at < ?"
        return [_scored(r) for r in await self._rows(_SCORED.format(where=where), (start, end))]

    async def scored_for_days(self, first: date, after: date, start: float, end: float) -> list[ScoredCall]:
        """Current evaluations of calls sampled on days in [first, after), plus evaluations of
        unsampled calls submitted in [start, end) (the monthly report)."""
        where = ("(s.day >= ? AND s.day < ?) OR (s.day IS NULL AND e.submitted_at >= ? AND e.submitted_at < ?)")
        rows = await self._rows(_SCORED.format(where=where), (first.isoformat(), after.isoformat(), start, end))
        return [_scored(r) for r in rows]


    async def dispute(self, evaluation_id: int, action: Action, *, by: str, now: float,
                      note: str | None = None, revision: Evaluation | None = None) -> EvaluationCase:
        """One step of the dispute state machine (qa.disputes); REVISE needs the ``revision``
        (the second reviewer's answers on the same form version), stored as a new evaluation."""
        if (action is Action.REVISE) != (revision is not None):
            raise QaError("a revision goes with the revise action, and only with it")
        result = None
        if revision is not None:
            current = await self.evaluation(evaluation_id)
            if (revision.call, revision.form_id, revision.form_version) != (current.call, current.form_id, current.form_version):
                raise QaError("a revision scores the same call on the same form version")
            try:
                result = score(await self.form(revision.form_id, revision.form_version), revision)
            except ScoringError as exc:
                raise QaError(f"revision of evaluation {evaluation_id}: {exc}") from None

        def work(conn: sqlite3.Connection) -> EvaluationCase:
            case = self._case(conn, evaluation_id)
            try:
                after = apply(case, action, by=by, now=now, note=note)
            except DisputeError as exc:
                raise QaError(f"evaluation {evaluation_id}: {exc}") from None
            self._write_case(conn, case, after, action)
            if revision is not None and result is not None:
                seat, team = conn.execute("SELECT seat_id, team_id FROM qa_evaluations WHERE id = ?",
                                          (evaluation_id,)).fetchone()
                new_id = self._insert(conn, revision, result, seat=seat, team=team, now=now,
                                      status=Status.ACCEPTED.value, revises=evaluation_id)
                conn.execute("UPDATE qa_disputes SET revision_id = ? WHERE evaluation_id = ?", (new_id, evaluation_id))
            return after

        return await self._atomic(work)

    @staticmethod
    def _case(conn: sqlite3.Connection, evaluation_id: int) -> EvaluationCase:
        row = conn.execute(
            "SELECT e.seat_id, e.reviewer, e.submitted_at, e.status, d.reason, d.disputed_at, d.second_reviewer,"
            " d.decided_at, d.decision_note FROM qa_evaluations e LEFT JOIN qa_disputes d ON d.evaluation_id = e.id"
            " WHERE e.id = ?", (evaluation_id,)).fetchone()
        if row is None:
            raise UnknownEvaluationError(f"no evaluation {evaluation_id}")
        seat, reviewer, at, status, reason, disputed_at, second, decided_at, note = row
        return EvaluationCase(evaluation_id, seat, reviewer, at, Status(status), reason, disputed_at, second,
                              decided_at, note)

    @staticmethod
    def _write_case(conn: sqlite3.Connection, before: EvaluationCase, after: EvaluationCase, action: Action) -> None:
        conn.execute("UPDATE qa_evaluations SET status = ? WHERE id = ?", (after.status.value, after.evaluation))
        if action is Action.DISPUTE:
            conn.execute("INSERT INTO qa_disputes (evaluation_id, seat_id, reason, disputed_at) VALUES (?, ?, ?, ?)",
                         (after.evaluation, after.seat, after.reason, after.disputed_at))
        elif action is Action.ASSIGN:
            conn.execute("UPDATE qa_disputes SET second_reviewer = ? WHERE evaluation_id = ?",
                         (after.second_reviewer, after.evaluation))
        elif action in (Action.UPHOLD, Action.REVISE):
            conn.execute("UPDATE qa_disputes SET decision = ?, decision_note = ?, decided_at = ? WHERE evaluation_id = ?",
                         (after.status.value, after.decision_note, after.decided_at, after.evaluation))

    async def case(self, evaluation_id: int) -> EvaluationCase:
        """The evaluation's dispute record as it stands."""
        return await self._atomic(lambda conn: self._case(conn, evaluation_id))


    async def open_calibration(self, call: str, form_id: str, version: int, *, by: str, now: float) -> int:
        """A calibration session on one call and form version; returns its id."""
        await self.form(form_id, version)
        async with self._db.execute(
            "INSERT INTO qa_calibrations (call_uuid, form_id, form_version, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
            (call, form_id, version, by, now)) as cursor:
            return int(cast(int, cursor.lastrowid))

    async def _calibration_form(self, calibration_id: int) -> Form:
        rows = await self._rows("SELECT form_id, form_version FROM qa_calibrations WHERE id = ?", (calibration_id,))
        if not rows:
            raise QaError(f"no calibration session {calibration_id}")
        return await self.form(rows[0][0], rows[0][1])

    async def rate(self, calibration_id: int, rating: Rating, now: float) -> float:
        """A reviewer's answers in a session (once per reviewer); returns the total score."""
        form = await self._calibration_form(calibration_id)
        try:
            result = score(form, Evaluation("calibration", form.id, form.version, rating.reviewer, rating.answers))
        except ScoringError as exc:
            raise QaError(f"reviewer {rating.reviewer!r}: {exc}") from None
        try:
            await self._db.execute(
                "INSERT INTO qa_calibration_ratings (calibration_id, reviewer, answers, score, rated_at) VALUES (?, ?, ?, ?, ?)",
                (calibration_id, rating.reviewer, _answers_json(result), result.total, now))
        except sqlite3.IntegrityError:
            raise QaError(f"reviewer {rating.reviewer!r} rated session {calibration_id} already") from None
        return result.total

    async def calibration(self, calibration_id: int) -> CalibrationReport:
        """The session's spread per item, totals and kappa."""
        form = await self._calibration_form(calibration_id)
        rows = await self._rows("SELECT reviewer, answers FROM qa_calibration_ratings WHERE calibration_id = ?"
                                " ORDER BY rated_at, reviewer", (calibration_id,))
        return calibrate(form, [Rating(r, json.loads(a)) for r, a in rows])
