"""The QA page's second half: the seat's own evaluations and its dispute, the second
reviewer's decision, and calibration sessions (several reviewers score one call).

    GET  /api/qa/my/evaluations               the seat's own evaluations (seat)
    POST /api/qa/evaluations/{id}/dispute     {"reason"}: the evaluated seat, once
    GET  /api/qa/disputes                     disputes waiting for a second reviewer (QA, lead)
    POST /api/qa/evaluations/{id}/decision    {"decision": "uphold"|"revise", "note", "answers"...}
    POST /api/qa/calibrations                 {"call", "reviewers": [...], "form_id"?, "form_version"?}
    POST /api/qa/calibrations/{id}/ratings    {"answers"}: an invited reviewer, once
    GET  /api/qa/calibrations/{id}            the spread per item, totals, kappa, who is pending

Every change is written to the audit log.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callfloor.store.qa import QaError, UnknownEvaluationError, UnknownFormError
from callfloor.web.auth import Role, User, current_user, may_see_seat, requires
from callfloor.web.monitor import error
from qa.calibration import Rating
from qa.disputes import Action, Status
from qa.scoring import Evaluation

if TYPE_CHECKING:
    from callfloor.web.qa import QaContext

__all__ = ["review_routes"]

REVIEWERS = (Role.QA, Role.LEAD)


def _user(request: Request) -> User:
    user = current_user(request)
    assert user is not None, "requires() let a request through without a user"
    return user


async def _body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _refused(exc: QaError) -> JSONResponse:
    if isinstance(exc, UnknownEvaluationError | UnknownFormError):
        return error(str(exc), 404)
    return error(str(exc), 409)


def review_routes(ctx: QaContext) -> list[Route]:
    """The seat, dispute and calibration routes on the QA context."""

    @requires(Role.SEAT)
    async def mine(request: Request) -> Response:
        user = _user(request)
        if not user.seat:
            return error(f"user {user.username!r} has no seat; an admin gives it one", 409)
        return JSONResponse({"seat": user.seat, "evaluations": await ctx.reads.by_seat(user.seat)})

    @requires(Role.SEAT)
    async def dispute(request: Request) -> Response:
        user, ident = _user(request), _int(request.path_params["id"])
        found = await ctx.reads.one(ident) if ident is not None else None
        if found is None:
            return error(f"no evaluation {request.path_params['id']}", 404)
        if not user.seat or found["seat"] != user.seat:
            return error(f"evaluation {ident} is not of your seat: only seat {found['seat']} may dispute it", 403)
        body = await _body(request)
        reason = body.get("reason") if body else None
        if not isinstance(reason, str) or not reason.strip():
            return error('a dispute needs a reason: {"reason": "..."}')
        try:
            case = await ctx.qa.dispute(found["id"], Action.DISPUTE, by=user.seat, now=ctx.clock(),
                                        note=reason.strip())
        except QaError as exc:
            return _refused(exc)
        await ctx.audit.write(user.username, "qa.dispute", f"call:{found['call']}",
                              {"evaluation": found["id"], "reason": reason.strip()}, ctx.clock())
        return JSONResponse({"status": case.status.value, "evaluation": await ctx.reads.one(found["id"])})

    @requires(*REVIEWERS)
    async def disputes(request: Request) -> Response:
        user = _user(request)
        return JSONResponse([d for d in await ctx.reads.open_disputes()
                             if may_see_seat(user, d["seat"], d["team"])])

    @requires(*REVIEWERS)
    async def decide(request: Request) -> Response:
        user, ident = _user(request), _int(request.path_params["id"])
        found = await ctx.reads.one(ident) if ident is not None else None
        if found is None:
            return error(f"no evaluation {request.path_params['id']}", 404)
        if not may_see_seat(user, found["seat"], found["team"]):
            return error(f"evaluation {ident} is not of your team's seats", 403)
        body = await _body(request) or {}
        decision, note = body.get("decision"), body.get("note")
        if decision not in ("uphold", "revise") or not isinstance(note, str | None):
            return error('expected {"decision": "uphold"|"revise", "note": "...", "answers": {...} (revise)}')
        revision = None
        if decision == "revise":
            answers = body.get("answers")
            if not isinstance(answers, dict):
                return error("a revision carries the second reviewer's answers")
            revision = Evaluation(found["call"], found["form_id"], found["form_version"], user.username,
                                  answers, coaching=str(body.get("coaching") or ""))
        try:
            if found["status"] == Status.DISPUTED.value:
                await ctx.qa.dispute(found["id"], Action.ASSIGN, by=user.username, now=ctx.clock())
            case = await ctx.qa.dispute(found["id"], Action(decision), by=user.username, now=ctx.clock(),
                                        note=note, revision=revision)
        except QaError as exc:
            return _refused(exc)
        await ctx.audit.write(user.username, f"qa.dispute.{decision}", f"call:{found['call']}",
                              {"evaluation": found["id"], "note": note}, ctx.clock())
        return JSONResponse({"status": case.status.value, "evaluations": await ctx.reads.by_call(found["call"])})

    @requires(*REVIEWERS)
    async def open_calibration(request: Request) -> Response:
        user, body = _user(request), await _body(request) or {}
        call, reviewers = body.get("call"), body.get("reviewers")
        if not isinstance(call, str) or not isinstance(reviewers, list) or len(reviewers) < 2 \
                or not all(isinstance(r, str) and r for r in reviewers):
            return error('expected {"call": uuid, "reviewers": [two or more usernames]}')
        row = await ctx.call_for(user, call)
        if isinstance(row, Response):
            return row
        try:
            if "form_id" in body:
                form = await ctx.qa.form(str(body["form_id"]), int(body.get("form_version") or 0))
            else:
                found = await ctx.form_for(row, None)
                if found is None:
                    return error("no QA form is loaded (config/qa)", 409)
                form = found
            ident = await ctx.qa.open_calibration(call, form.id, form.version, by=user.username, now=ctx.clock())
        except (QaError, ValueError) as exc:
            return _refused(exc) if isinstance(exc, QaError) else error(str(exc))
        invited = sorted(set(reviewers))
        await ctx.audit.write(user.username, "qa.calibration.open", f"calibration:{ident}",
                              {"call": call, "form": [form.id, form.version], "reviewers": invited}, ctx.clock())
        return JSONResponse({"id": ident, "call": call, "form_id": form.id, "form_version": form.version,
                             "reviewers": invited}, status_code=201)

    async def invited(ident: int) -> list[str] | None:
        found = await ctx.audit.entries(action="qa.calibration.open", subject=f"calibration:{ident}", limit=1)
        return list(found[0].detail.get("reviewers", [])) if found else None

    @requires(*REVIEWERS)
    async def rate(request: Request) -> Response:
        user, ident = _user(request), _int(request.path_params["id"])
        names = await invited(ident) if ident is not None else None
        if ident is None or names is None:
            return error(f"no calibration session {request.path_params['id']}", 404)
        if user.username not in names:
            return error(f"you are not one of the reviewers of session {ident}: {', '.join(names)}", 403)
        body = await _body(request) or {}
        if not isinstance(body.get("answers"), dict):
            return error('expected {"answers": {item id: answer}}')
        try:
            total = await ctx.qa.rate(ident, Rating(user.username, body["answers"]), ctx.clock())
        except QaError as exc:
            return error(str(exc), 409 if "already" in str(exc) else 422)
        await ctx.audit.write(user.username, "qa.calibration.rate", f"calibration:{ident}", {"score": total},
                              ctx.clock())
        return JSONResponse({"score": total})

    @requires(*REVIEWERS)
    async def report(request: Request) -> Response:
        ident = _int(request.path_params["id"])
        names = await invited(ident) if ident is not None else None
        if ident is None or names is None:
            return error(f"no calibration session {request.path_params['id']}", 404)
        found = await ctx.qa.calibration(ident)
        data = dataclasses.asdict(found)
        return JSONResponse({"id": ident, **data, "reviewers": names,
                             "pending": [n for n in names if n not in found.totals]})

    return [
        Route("/api/qa/my/evaluations", mine),
        Route("/api/qa/evaluations/{id}/dispute", dispute, methods=["POST"]),
        Route("/api/qa/disputes", disputes),
        Route("/api/qa/evaluations/{id}/decision", decide, methods=["POST"]),
        Route("/api/qa/calibrations", open_calibration, methods=["POST"]),
        Route("/api/qa/calibrations/{id}/ratings", rate, methods=["POST"]),
        Route("/api/qa/calibrations/{id}", report),
    ]
