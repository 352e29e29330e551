"""The JSON API behind the complaints page: cases (``/api/complaints/...``) and blacklist records
(``/api/blacklist/...``). ``callfloor.web.complaints`` lists the routes and mounts these."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callfloor.store.complaints import ComplaintStore
from callfloor.web.auth import Role, User, current_user, requires
from callfloor.web.monitor import error
from qa.blacklist import RecordAction
from qa.complaints import (
    CaseAction,
    Complaint,
    ComplaintError,
    ComplaintSettings,
    Match,
    may_propose_blacklist,
    normalise_number,
    step_status,
)

__all__ = ["HANDLERS", "blacklist_routes", "case_routes", "plain"]

HANDLERS = (Role.QA, Role.LEAD)
Endpoint = Callable[[Request], Awaitable[Response]]


def plain(value: Any) -> Any:
    """A dataclass, mapping or sequence as JSON-ready data (enums are their values)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def user_of(request: Request) -> User:
    """The request's user (``requires`` has let it through)."""
    user = current_user(request)
    assert user is not None, "requires() let a request through without a user"
    return user


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ComplaintError(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ComplaintError("the body must be a JSON object")
    return body


def when(value: Any, field: str) -> float:
    """Unix seconds or ISO 8601 with a UTC offset; ``ComplaintError`` naming ``field``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ComplaintError(f"{field}: unix seconds or ISO 8601, not {value!r}") from None
    if moment.tzinfo is None:
        raise ComplaintError(f"{field}: needs a UTC offset, e.g. 2026-02-25T14:00:00+08:00")
    return moment.timestamp()


def _float(value: Any, field: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ComplaintError(f"{field}: a number, not {value!r}") from None


def _numeric(text: str) -> float | str:
    """A query parameter as unix seconds when it is a number, else as it is (ISO 8601)."""
    try:
        return float(text)
    except ValueError:
        return text


def _int(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ComplaintError(f"{field}: an id, not {value!r}") from None


def _str(body: Mapping[str, Any], field: str, *, required: bool = True) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ComplaintError(f"{field}: a string is required")
    return value


def refusals(endpoint: Endpoint) -> Endpoint:
    """The endpoint with the rules' refusals as JSON: an unknown thing 404, else 422."""

    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except LookupError as exc:
            return error(str(exc.args[0]) if exc.args else "not found", 404)
        except ComplaintError as exc:
            return error(str(exc), 422)

    run.__name__ = endpoint.__name__
    run.__doc__ = endpoint.__doc__
    return run


def _matches(found: list[Match]) -> list[dict[str, Any]]:
    return [{**plain(m.call), "distance_s": m.distance_s} for m in found]


def case_routes(store: ComplaintStore, rules: ComplaintSettings, clock: Callable[[], float]) -> list[Route]:
    """Cases: list, open, show, act, steps, candidate calls, link and unlink."""
    region = rules.default_region

    async def detail(case: Complaint) -> dict[str, Any]:
        now = clock()
        steps = [{**plain(s), "status": step_status(s, now)} for s in await store.steps(case.id)]
        calls = [plain(c) for c in await store.linked_calls(case.id)]
        records = [plain(r) for r in await store.blacklist_records(complaint_id=case.id)]
        return {"case": plain(case), "steps": steps, "calls": calls, "blacklist": records,
                "may_blacklist": may_propose_blacklist(case.outcome)}

    @requires(*HANDLERS)
    @refusals
    async def cases(request: Request) -> Response:
        if request.method == "POST":
            body, user = await _body(request), user_of(request)
            case = await store.open_case(
                _str(body, "number") or "", when(body.get("approx_at"), "approx_at"),
                _float(body.get("tolerance_s", rules.tolerance_s), "tolerance_s"), _str(body, "channel") or "",
                _str(body, "description") or "", by=user.username, now=clock(), region=region)
            return JSONResponse(await detail(case), status_code=201)
        q = request.query_params
        number = normalise_number(q["number"], region) if q.get("number") else None
        found = await store.cases(state=q.get("state") or None, number=number)
        return JSONResponse([plain(c) for c in found])

    @requires(*HANDLERS)
    @refusals
    async def show(request: Request) -> Response:
        return JSONResponse(await detail(await store.case(request.path_params["id"])))

    @requires(*HANDLERS)
    @refusals
    async def act(request: Request) -> Response:
        body = await _body(request)
        try:
            action = CaseAction(str(body.get("action")))
        except ValueError:
            raise ComplaintError(f"action: one of {', '.join(CaseAction)}") from None
        case = await store.act(request.path_params["id"], action, by=user_of(request).username, now=clock(),
                               outcome=_str(body, "outcome", required=False), note=_str(body, "note", required=False))
        return JSONResponse(await detail(case))

    @requires(*HANDLERS)
    @refusals
    async def steps(request: Request) -> Response:
        body = await _body(request)
        due = body.get("due_at")
        step = await store.add_step(request.path_params["id"], _str(body, "text") or "",
                                    None if due in (None, "") else when(due, "due_at"),
                                    by=user_of(request).username, now=clock())
        return JSONResponse({**plain(step), "status": step_status(step, clock())}, status_code=201)

    @requires(*HANDLERS)
    @refusals
    async def step_done(request: Request) -> Response:
        p = request.path_params
        step = await store.step_done(p["id"], p["step"], by=user_of(request).username, now=clock())
        return JSONResponse({**plain(step), "status": "done"})

    @requires(*HANDLERS)
    @refusals
    async def candidates(request: Request) -> Response:
        case = await store.case(request.path_params["id"])
        tolerance = _float(request.query_params.get("tolerance_s", case.tolerance_s), "tolerance_s")
        return JSONResponse(_matches(await store.candidates(case.number, case.approx_at, tolerance, region=region)))

    @requires(*HANDLERS)
    @refusals
    async def search(request: Request) -> Response:
        q = request.query_params
        number = normalise_number(q.get("number", ""), region)
        at = when(_numeric(q.get("at", "")), "at")
        tolerance = _float(q.get("tolerance_s", rules.tolerance_s), "tolerance_s")
        return JSONResponse(_matches(await store.candidates(number, at, tolerance, region=region)))

    @requires(*HANDLERS)
    @refusals
    async def link(request: Request) -> Response:
        case_id, by = request.path_params["id"], user_of(request).username
        if request.method == "DELETE":
            removed = await store.unlink_call(case_id, request.path_params["call"], by=by, now=clock())
            return JSONResponse({"unlinked": removed})
        call = _str(await _body(request), "call") or ""
        return JSONResponse({"linked": await store.link_call(case_id, call, by=by, now=clock()), "call": call})

    return [
        Route("/api/complaints", cases, methods=["GET", "POST"]),
        Route("/api/complaints/search", search),
        Route("/api/complaints/{id:int}", show),
        Route("/api/complaints/{id:int}/actions", act, methods=["POST"]),
        Route("/api/complaints/{id:int}/steps", steps, methods=["POST"]),
        Route("/api/complaints/{id:int}/steps/{step:int}/done", step_done, methods=["POST"]),
        Route("/api/complaints/{id:int}/candidates", candidates),
        Route("/api/complaints/{id:int}/calls", link, methods=["POST"]),
        Route("/api/complaints/{id:int}/calls/{call}", link, methods=["DELETE"]),
    ]


def blacklist_routes(store: ComplaintStore, rules: ComplaintSettings, clock: Callable[[], float]) -> list[Route]:
    """Blacklist records: list, preview, propose, approve, reject, revoke."""
    region = rules.default_region

    @requires(*HANDLERS)
    @refusals
    async def records(request: Request) -> Response:
        if request.method == "POST":
            return await propose(request)
        q = request.query_params
        number = normalise_number(q["number"], region) if q.get("number") else None
        found = await store.blacklist_records(number=number, state=q.get("state") or None,
                                              complaint_id=_int(q.get("complaint"), "complaint"))
        return JSONResponse([plain(r) for r in found])

    async def propose(request: Request) -> Response:
        body, user = await _body(request), user_of(request)
        now = clock()
        expires = body.get("expires_at")
        if expires in (None, "") and body.get("days") not in (None, ""):
            expires = now + _float(body["days"], "days") * 86400.0
        record, preview = await store.propose_blacklist(
            normalise_number(_str(body, "number") or "", region), campaign_id=_str(body, "campaign", required=False),
            reason=_str(body, "reason") or "", complaint_id=_int(body.get("complaint"), "complaint"),
            call_uuid=_str(body, "call", required=False),
            expires_at=None if expires in (None, "") else when(expires, "expires_at"),
            by=user.username, role=user.role.value, now=now, settings=rules)
        return JSONResponse({"record": plain(record), "preview": {**plain(preview), "total": preview.total}},
                            status_code=201)

    @requires(*HANDLERS)
    @refusals
    async def preview(request: Request) -> Response:
        q = request.query_params
        found = await store.preview_blacklist(normalise_number(q.get("number", ""), region), q.get("campaign") or None)
        return JSONResponse({**plain(found), "total": found.total})

    @requires(*HANDLERS)
    @refusals
    async def decide(request: Request) -> Response:
        user, record_id, verb = user_of(request), request.path_params["id"], request.path_params["verb"]
        if verb == "approve":
            record = await store.approve_blacklist(record_id, by=user.username, role=user.role.value, now=clock(),
                                                   settings=rules)
        elif verb in ("reject", "revoke"):
            record = await store.end_blacklist(record_id, RecordAction(verb), by=user.username, role=user.role.value,
                                               now=clock(), reason=_str(await _body(request), "reason") or "",
                                               settings=rules)
        else:
            return error(f"unknown action {verb!r}: approve, reject or revoke", 404)
        return JSONResponse(plain(record))

    return [
        Route("/api/blacklist", records, methods=["GET", "POST"]),
        Route("/api/blacklist/preview", preview),
        Route("/api/blacklist/{id:int}/{verb}", decide, methods=["POST"]),
    ]
