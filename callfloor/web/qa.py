"""The QA pages and API: the day's review queue, the review page (stereo player + form), the
daily and monthly summaries, and (``callfloor.web.qareview``) the seat's own evaluations,
disputes and calibration. docs/qa.md, section "QA page".

    GET  /qa                                  the review queue page (QA, lead, admin)
    GET  /qa/calls/{uuid}                     the review page (also the seat's own call, read-only)
    GET  /qa/summary                          the daily summary page
    GET  /api/qa/queue?day=YYYY-MM-DD         the day's sampled calls with their status
    GET  /api/qa/calls/{uuid}[?form=ID]       call facts, the form, analytics, evaluations
    GET  /api/qa/calls/{uuid}/audio           the recording (WAV or FLAC), HTTP Range; audited
    POST /api/qa/calls/{uuid}/evaluations     {"answers", "defects", "coaching"[, "form_id", "form_version"]}
    GET  /api/qa/summary/daily?day=&format=json|csv
    GET  /api/qa/summary/monthly?month=&format=json|csv

Only QA, team leads (their team's seats), admins and the seat itself may play a call; every
playback request writes ``recording.play`` (who, which call, when) to the audit log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callfloor.settings import Settings
from callfloor.store.audit import AuditLog
from callfloor.store.db import CallRow, Store, UnknownCallError
from callfloor.store.qa import QaError, QaStore, UnknownFormError
from callfloor.web.auth import Role, User, current_user, may_see_seat, requires
from callfloor.web.monitor import asset_route, error, page
from callfloor.web.qadata import QaReads
from callfloor.web.qaplay import AnalyticsCache, LocalRecordings, RecordingSource, audio_response
from callfloor.web.qareview import review_routes
from dialer.reports import Period, ReportError
from qa.forms import Form
from qa.reports import daily_csv, daily_summary, monthly_csv, monthly_report
from qa.scoring import Defect, Evaluation, ScoringError, parse_answer
from recordings.storage import StorageError

__all__ = ["SPEEDS", "QaContext", "call_json", "qa_routes"]

SPEEDS = (0.75, 1.0, 1.25, 1.5, 2.0)
REVIEWERS = (Role.QA, Role.LEAD)  # ADMIN passes every check


def _user(request: Request) -> User:
    user = current_user(request)
    assert user is not None, "requires() let a request through without a user"
    return user


def call_json(row: CallRow, team: str | None) -> dict[str, Any]:
    """The call facts the review page shows."""
    return {"uuid": row.uuid, "seat": row.seat_id, "team": team, "direction": row.direction,
            "caller": row.caller, "callee": row.callee, "started_at": row.started_at,
            "answered_at": row.answered_at, "ended_at": row.ended_at, "duration_s": row.duration,
            "status": row.status, "recorded": bool(row.recording_path)}


@dataclasses.dataclass
class QaContext:
    """What every QA endpoint shares."""

    store: Store
    qa: QaStore
    reads: QaReads
    audit: AuditLog
    teams: dict[str, str | None]
    clock: Callable[[], float]
    tz: tzinfo | None
    source: RecordingSource
    analytics: AnalyticsCache
    forms: Sequence[Form] | None = None
    synced: bool = False

    async def ready(self) -> None:
        """Store the configured form versions once (evaluations refer to them)."""
        if self.forms and not self.synced:
            await self.qa.sync_forms(self.forms, self.clock())
            self.synced = True

    def today(self) -> str:
        """The local day now, YYYY-MM-DD."""
        return datetime.fromtimestamp(self.clock(), self.tz).date().isoformat()

    def may_play(self, user: User, seat: str | None) -> bool:
        """QA and admin any call; a lead its team's seats; a seat its own calls."""
        if seat is None:
            return user.role in (Role.QA, Role.ADMIN)
        return may_see_seat(user, seat, self.teams.get(seat))

    async def call_for(self, user: User, uuid: str) -> CallRow | Response:
        """The call, or the refusal (404 unknown, 403 not this user's to see)."""
        row = await self.store.call(uuid)
        if row is None:
            return error(f"no call {uuid!r}", 404)
        if not self.may_play(user, row.seat_id):
            return error(f"call {uuid} is not yours to review or play", 403)
        return row

    async def form_for(self, row: CallRow, wanted: str | None) -> Form | None:
        """The form to score ``row`` on: ``wanted``, else by direction (outbound / standard),
        else the first stored form; always its latest stored version."""
        await self.ready()
        latest: dict[str, int] = {}
        for form_id, version, _, _ in await self.qa.forms():
            latest[form_id] = max(version, latest.get(form_id, 0))
        if not latest:
            return None
        choice = next((f for f in (wanted, "outbound" if row.direction == "outbound" else None, "standard")
                       if f and f in latest), sorted(latest)[0])
        if wanted and wanted != choice:
            raise UnknownFormError(f"no QA form {wanted!r}")
        return await self.qa.form(choice, latest[choice])


def _check_answers(form: Form, raw: Any) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(raw, dict):
        return {}, {"": "answers must be an object of item id -> answer"}
    problems = {key: f"the form has no item {key!r}" for key in raw if form.item(key) is None}
    for item in form.items():
        if item.id not in raw:
            problems[item.id] = "no answer"
            continue
        try:
            parse_answer(item, raw[item.id])
        except ScoringError as exc:
            problems[item.id] = str(exc)
    return raw, problems


def _check_defects(raw: Any) -> tuple[tuple[Defect, ...], dict[str, str]]:
    if raw is None:
        return (), {}
    if not isinstance(raw, list):
        return (), {"": "defects must be a list"}
    found, problems = [], {}
    for index, item in enumerate(raw):
        try:
            if not isinstance(item, dict) or not isinstance(item.get("category"), str):
                raise ScoringError("a defect is {\"category\": text, \"at_s\": seconds, \"note\": text}")
            at = item.get("at_s")
            if at is not None and (isinstance(at, bool) or not isinstance(at, int | float)):
                raise ScoringError(f"at_s: seconds into the call, not {at!r}")
            found.append(Defect(item["category"].strip(), None if at is None else float(at),
                                str(item.get("note") or "")))
        except ScoringError as exc:
            problems[str(index)] = str(exc)
    return tuple(found), problems


async def _evaluation_request(ctx: QaContext, request: Request, row: CallRow,
                              user: User) -> Evaluation | Response:
    """The posted evaluation, or 400/422 with every problem by item, defect and field."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return error('expected {"answers": {...}, "defects": [...], "coaching": "..."}')
    fields: dict[str, str] = {}
    try:
        if "form_id" in body:
            version = body.get("form_version")
            if isinstance(version, bool) or not isinstance(version, int):
                raise UnknownFormError(f"form_version must be a whole number, not {version!r}")
            form: Form | None = await ctx.qa.form(str(body["form_id"]), version)
        else:
            form = await ctx.form_for(row, None)
    except UnknownFormError as exc:
        return error(str(exc.args[0]), 400)
    if form is None:
        return error("no QA form is loaded (config/qa)", 409)
    answers, items = _check_answers(form, body.get("answers"))
    defects, defect_problems = _check_defects(body.get("defects"))
    coaching = body.get("coaching", "")
    if not isinstance(coaching, str):
        fields["coaching"] = "the coaching note is text"
    if items or defect_problems or fields:
        count = len(items) + len(defect_problems) + len(fields)
        return JSONResponse({"error": f"the evaluation has {count} problem(s)", "items": items,
                             "defects": defect_problems, "fields": fields}, status_code=422)
    return Evaluation(row.uuid, form.id, form.version, user.username, answers, defects, coaching.strip())


def _period(request: Request, ctx: QaContext, kind: str) -> tuple[Period, str] | Response:
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "csv"):
        return error(f"format is json or csv, not {fmt!r}")
    try:
        if kind == "day":
            return Period.parse(day=request.query_params.get("day") or ctx.today(), tz=ctx.tz), fmt
        month = request.query_params.get("month") or ctx.today()[:7]
        return Period.parse(month=month, tz=ctx.tz), fmt
    except ReportError as exc:
        return error(str(exc))


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def qa_routes(store: Store, qa_store: QaStore, audit: AuditLog, settings: Settings,
              clock: Callable[[], float], *, recordings: RecordingSource | None = None,
              forms: Sequence[Form] | None = None, tz: tzinfo | None = None) -> list[Route]:
    """The QA routes. ``recordings``: the archive's ``Archiver`` (default: the live WAVs only);
    ``forms``: form files to store on first use (``qa.forms.load_forms``); ``tz``: days' zone."""
    ctx = QaContext(store, qa_store, QaReads(store), audit, {s.id: s.team for s in settings.seats},
                    clock, tz, recordings or LocalRecordings(store, settings.storage.recordings_dir),
                    AnalyticsCache(store=store), forms)

    def view(name: str) -> Callable[[Request], Any]:
        async def show(request: Request) -> Response:
            user = _user(request)
            uuid = request.path_params.get("uuid")
            if uuid is not None:
                found = await ctx.call_for(user, uuid)
                if isinstance(found, Response):
                    return found
            return page("qa.html", request, user, {
                "view": name, "call": uuid, "day": ctx.today(), "speeds": list(SPEEDS),
                "may_score": user.role in (Role.QA, Role.LEAD, Role.ADMIN)})
        return show

    @requires(*REVIEWERS)
    async def queue(request: Request) -> Response:
        user, day = _user(request), request.query_params.get("day") or ctx.today()
        try:
            date.fromisoformat(day)
        except ValueError:
            return error(f"day is YYYY-MM-DD, not {day!r}")
        items = [i for i in await ctx.reads.queue(day) if may_see_seat(user, i["seat"], i["team"])]
        return JSONResponse({"day": day, "calls": items,
                             "seed": await ctx.qa.sample_seed(date.fromisoformat(day))})

    @requires(*REVIEWERS, Role.SEAT)
    async def details(request: Request) -> Response:
        user = _user(request)
        row = await ctx.call_for(user, request.path_params["uuid"])
        if isinstance(row, Response):
            return row
        try:
            form = await ctx.form_for(row, request.query_params.get("form"))
        except UnknownFormError as exc:
            return error(str(exc.args[0]), 404)
        figures, why = await ctx.analytics.get(row.uuid, ctx.source)
        return JSONResponse({
            "call": call_json(row, ctx.teams.get(row.seat_id or "")), "sample": await ctx.reads.pick(row.uuid),
            "form": form.model_dump(mode="json") if form else None,
            "analytics": figures, "analytics_error": why, "evaluations": await ctx.reads.by_call(row.uuid),
            "may_score": user.role is not Role.SEAT})

    @requires(*REVIEWERS, Role.SEAT)
    async def audio(request: Request) -> Response:
        user = _user(request)
        row = await ctx.call_for(user, request.path_params["uuid"])
        if isinstance(row, Response):
            return row
        try:
            source, media = await ctx.source.open_recording(row.uuid)
        except LookupError as exc:
            return error(str(exc.args[0]) if exc.args else "no recording", 404)
        except StorageError as exc:
            return error(f"the archived recording cannot be read: {exc}", 502)
        span = request.headers.get("range")
        await ctx.audit.write(user.username, "recording.play", f"call:{row.uuid}",
                              {"seat": row.seat_id, "media": media, "range": span}, ctx.clock())
        ext = "flac" if media == "audio/flac" else "wav"
        return await audio_response(source, media, span, f"{row.uuid}.{ext}")

    @requires(*REVIEWERS)
    async def submit(request: Request) -> Response:
        user = _user(request)
        row = await ctx.call_for(user, request.path_params["uuid"])
        if isinstance(row, Response):
            return row
        evaluation = await _evaluation_request(ctx, request, row, user)
        if isinstance(evaluation, Response):
            return evaluation
        try:
            new_id = await ctx.qa.submit(evaluation, ctx.clock(), team=ctx.teams.get(row.seat_id or ""))
        except UnknownCallError as exc:
            return error(str(exc), 404)
        except QaError as exc:
            status = 409 if "already" in str(exc) else 422
            return JSONResponse({"error": str(exc), "items": {}, "defects": {}, "fields": {"": str(exc)}},
                                status_code=status)
        saved = await ctx.reads.one(new_id)
        assert saved is not None
        await ctx.audit.write(user.username, "qa.evaluate", f"call:{row.uuid}",
                              {"evaluation": new_id, "score": saved["score"], "veto": saved["veto"]}, ctx.clock())
        return JSONResponse({"evaluation": saved}, status_code=201)

    @requires(*REVIEWERS)
    async def daily(request: Request) -> Response:
        found = _period(request, ctx, "day")
        if isinstance(found, Response):
            return found
        period, fmt = found
        summary = daily_summary(await ctx.qa.scored_between(period.start, period.end), day=period.label)
        if fmt == "csv":
            return _csv(daily_csv(summary), f"qa-daily-{period.label}.csv")
        return JSONResponse({"day": summary.day, "total": dataclasses.asdict(summary.total),
                             "teams": [dataclasses.asdict(t) for t in summary.teams],
                             "top_defects": [{"category": c, "count": n} for c, n in summary.top_defects]})

    @requires(*REVIEWERS)
    async def monthly(request: Request) -> Response:
        found = _period(request, ctx, "month")
        if isinstance(found, Response):
            return found
        period, fmt = found
        first = date.fromisoformat(period.label + "-01")
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        report = monthly_report(await ctx.qa.scored_for_days(first, after, period.start, period.end),
                                month=period.label)
        if fmt == "csv":
            return _csv(monthly_csv(report), f"qa-monthly-{period.label}.csv")
        rows = [dataclasses.asdict(r) for r in report.all_rows()]
        return JSONResponse({"month": report.month, "seats": rows[:len(report.seats)],
                             "teams": rows[len(report.seats):-1], "total": rows[-1]})

    return [
        Route("/qa", requires(*REVIEWERS)(view("queue"))),
        Route("/qa/summary", requires(*REVIEWERS)(view("summary"))),
        Route("/qa/calls/{uuid}", requires(*REVIEWERS, Role.SEAT)(view("review"))),
        Route("/seat/qa", requires(Role.SEAT)(view("mine"))),
        asset_route("/qa/pages.js", "pages.js"),
        asset_route("/qa/qa.js", "qa.js"),
        asset_route("/qa/qaplayer.js", "qaplayer.js"),
        asset_route("/qa/base.css", "monitor.css"),
        asset_route("/qa/qa.css", "qa.css"),
        Route("/api/qa/queue", queue),
        Route("/api/qa/calls/{uuid}", details),
        Route("/api/qa/calls/{uuid}/audio", audio),
        Route("/api/qa/calls/{uuid}/evaluations", submit, methods=["POST"]),
        Route("/api/qa/summary/daily", daily),
        Route("/api/qa/summary/monthly", monthly),
        *review_routes(ctx),
    ]
