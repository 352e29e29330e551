"""The dialer's HTTP API: campaigns, lead import, do-not-call, and a seat's screen pop (JSON and
a server-sent event stream), disposition and callback.

    GET  /api/campaigns                       campaigns with their pacing and abandonment now
    POST /api/campaigns                       create or replace an API campaign (JSON: its keys)
    GET  /api/campaigns/{id}                  a campaign's keys, source and warnings
    PATCH /api/campaigns/{id}                 {"active": true|false}: start or stop dialling it
    DELETE /api/campaigns/{id}                delete a stopped API campaign whose calls have ended
    GET  /api/campaigns/{id}/versions         every definition it has had, newest first
    GET  /api/campaigns/{id}/leads            its leads by status
    POST /api/campaigns/{id}/leads            a lead CSV as the body (?dry_run=1 to only check)
    GET  /api/dnc?number=N                    the entries that block N
    POST /api/dnc                             {"number", "campaign"?, "reason"}
    DELETE /api/dnc?number=N[&campaign=C]
    GET  /api/seats/{seat}/screen             the seat's current (or last) dialer call
    GET  /api/seats/{seat}/events             the same, live: text/event-stream
    POST /api/seats/{seat}/disposition        {"code", "note"?, "callback_at"?, "callback_to"?}
    POST /api/seats/{seat}/preview            preview pacing: hold the seat, show it the next lead
    POST /api/seats/{seat}/preview/dial       dial the previewed lead (the seat is rung on answer)
    POST /api/seats/{seat}/preview/skip       pass on it; the seat is free again
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from callfloor.campaignadmin import BODY, CampaignAdmin, CampaignConflict, CampaignForbidden
from callfloor.dialer_runtime import DialerRuntime
from callfloor.store.audit import AuditLog
from callfloor.store.dialer import DispositionError
from callfloor.store.users import Role
from callfloor.web.authcore import current_user
from dialer.campaign import CampaignError
from dialer.leads import ImportReport, LeadFileError
from dialer.numbers import NumberError, normalise
from dialer.records import ImportResult

__all__ = ["CAMPAIGN_EDITORS", "campaign_admin_routes", "dialer_routes", "import_answer"]

KEEPALIVE = 15.0  # seconds between SSE comments, so proxies keep the stream open
# Who may create, change, start and stop campaigns when logged in (an admin always may):
# team leads run the floor; QA and seats only read (a seat not even that, see machineapi.py).
CAMPAIGN_EDITORS = frozenset({Role.LEAD})


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def dialer_routes(runtime: DialerRuntime, clock: Callable[[], float],
                  audit: AuditLog | None = None) -> list[Route]:
    """The routes, bound to the running dialer."""
    store = runtime.store

    async def _audit(request: Request, action: str, subject: str, detail: dict[str, Any]) -> None:
        """Who changed a list or opened a call: the logged-in user, else the API and its client."""
        if audit is None:
            return
        user = current_user(request)
        await audit.write(user.username if user is not None else "api", action, subject,
                          {**detail, "client": request.client.host if request.client else None}, clock())

    async def campaigns(request: Request) -> JSONResponse:
        return JSONResponse([runtime.stats(run, clock()) for run in runtime.runs.values()])

    async def dnc(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                body = await request.json()
                number = normalise(str(body["number"]), None).e164
                reason = str(body.get("reason") or "api")
            except (ValueError, KeyError, TypeError, NumberError) as exc:
                return _error(f'expected {{"number": "+E164", "campaign": ..., "reason": ...}}: {exc}')
            added = await store.dnc_add(number, now=clock(), reason=reason, source="api",
                                        campaign_id=body.get("campaign"), added_by=body.get("by"))
            await _audit(request, "dnc.add", f"number:{number}",
                         {"campaign": body.get("campaign"), "reason": reason, "added": added})
            return JSONResponse({"number": number, "added": added})
        try:
            number = normalise(request.query_params.get("number", ""), None).e164
        except NumberError as exc:
            return _error(f"number: {exc}")
        campaign = request.query_params.get("campaign")
        if request.method == "DELETE":
            removed = await store.dnc_remove(number, campaign_id=campaign)
            await _audit(request, "dnc.remove", f"number:{number}", {"campaign": campaign, "removed": removed})
            return JSONResponse({"number": number, "removed": removed})
        entries = await store.dnc_check(number, campaign_id=campaign)
        return JSONResponse({"number": number, "blocked": bool(entries), "entries": [_plain(e) for e in entries]})

    async def screen(request: Request) -> JSONResponse:
        seat = request.path_params["seat"]
        dial = runtime.seat_calls.get(seat)
        if dial is None:
            return _error("no dialer call for this seat yet", 404)
        return JSONResponse({**runtime.screen(dial), "outcome": dial.outcome, "open": not dial.closed})

    async def events(request: Request) -> StreamingResponse:
        seat = request.path_params["seat"]
        queue = runtime.subscribe(seat)

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": connected\n\n"
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), KEEPALIVE)
                    except TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    yield f"event: {event['event']}\ndata: {json.dumps(event)}\n\n"
            finally:
                runtime.unsubscribe(seat, queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def disposition(request: Request) -> JSONResponse:
        seat = request.path_params["seat"]
        try:
            body = await request.json()
            code = str(body["code"])
            callback_at = _when(body.get("callback_at"))
            callback_to = body.get("callback_to", "seat")
            if callback_to not in ("seat", "campaign"):
                raise ValueError("callback_to must be 'seat' or 'campaign'")
            if callback_at is not None and callback_at < clock():
                raise ValueError(f"callback_at {body.get('callback_at')} is in the past")
        except (ValueError, KeyError, TypeError) as exc:
            return _error(f'expected {{"code": ..., "note": ..., "callback_at": ISO 8601 or unix, '
                          f'"callback_to": "seat"|"campaign"}}: {exc}')
        try:
            row = await runtime.dispose(seat, code, clock(), note=body.get("note"),
                                        callback_at=callback_at, callback_to=callback_to)
        except LookupError as exc:
            return _error(str(exc), 404)
        except DispositionError as exc:
            return _error(str(exc), 409)
        return JSONResponse(_plain(row))

    async def preview(request: Request) -> JSONResponse:
        seat, action = request.path_params["seat"], request.path_params.get("action", "")
        try:
            if action == "dial":
                placed = await runtime.preview_dial(seat, clock())
                await _audit(request, "call.dial", f"seat:{seat}", {"via": "preview", **placed})
                return JSONResponse(placed)
            if action == "skip":
                runtime.preview_skip(seat)
                return JSONResponse({"seat": seat, "skipped": True})
            if action:
                return _error(f"unknown preview action {action!r}: dial or skip", 404)
            return JSONResponse(await runtime.preview(seat, clock()))
        except LookupError as exc:
            return _error(str(exc), 409)

    return [
        Route("/api/campaigns", campaigns),
        Route("/api/seats/{seat}/preview", preview, methods=["POST"]),
        Route("/api/seats/{seat}/preview/{action}", preview, methods=["POST"]),
        Route("/api/dnc", dnc, methods=["GET", "POST", "DELETE"]),
        Route("/api/seats/{seat}/screen", screen),
        Route("/api/seats/{seat}/events", events),
        Route("/api/seats/{seat}/disposition", disposition, methods=["POST"]),
    ]


def campaign_admin_routes(admin: CampaignAdmin, clock: Callable[[], float]) -> list[Route]:
    """Campaigns created, read, started, stopped and deleted, and their leads imported, over the
    API (docs/campaigns.md); each change is applied live and audited by ``CampaignAdmin``."""

    async def put(request: Request) -> JSONResponse:
        body, refused = await _json_body(request)
        if refused is not None:
            return refused
        try:
            campaign, created = await admin.put(body, clock(), by=_actor(request), team=_team(request))
        except CampaignError as exc:
            return JSONResponse({"errors": list(exc.problems)}, status_code=422)
        except CampaignConflict as exc:
            return _error(str(exc), 409)
        except CampaignForbidden as exc:
            return _error(str(exc), 403)
        return JSONResponse({**await admin.definition(campaign.id), "created": created},
                            status_code=201 if created else 200)

    async def one(request: Request) -> JSONResponse:
        campaign_id = request.path_params["campaign"]
        try:
            if request.method == "GET":
                return JSONResponse(await admin.definition(campaign_id))
            if request.method == "DELETE":
                refused = _not_an_editor(request)
                if refused is not None:
                    return refused
                await admin.delete(campaign_id, clock(), by=_actor(request), team=_team(request))
                return JSONResponse({"id": campaign_id, "deleted": True})
            body, refused = await _json_body(request)
            if refused is not None:
                return refused
            problems = _active_problems(body)
            if problems:
                return JSONResponse({"errors": problems}, status_code=422)
            await admin.set_active(campaign_id, body["active"], clock(), by=_actor(request), team=_team(request))
            return JSONResponse(await admin.definition(campaign_id))
        except LookupError as exc:
            return _error(str(exc), 404)
        except CampaignConflict as exc:
            return _error(str(exc), 409)
        except CampaignForbidden as exc:
            return _error(str(exc), 403)

    async def leads(request: Request) -> JSONResponse:
        campaign_id = request.path_params["campaign"]
        if request.method == "GET":
            if await admin.ledger.campaign_source(campaign_id) is None:
                return _error(f"no campaign {campaign_id!r}", 404)
            counts = await admin.ledger.lead_counts(campaign_id)
            return JSONResponse({"campaign": campaign_id, "leads": counts, "total": sum(counts.values())})
        refused = _not_an_editor(request)
        if refused is not None:
            return refused
        dry_run = request.query_params.get("dry_run") in ("1", "true", "yes")
        try:
            report, result = await admin.import_leads(
                campaign_id, await request.body(), clock(), by=_actor(request), dry_run=dry_run,
                strict=request.query_params.get("strict") in ("1", "true"), team=_team(request))
        except LeadFileError as exc:
            return _error(str(exc))
        except LookupError as exc:  # not running, or gone meanwhile (UnknownCampaignError)
            return _error(str(exc), 404)
        except CampaignForbidden as exc:
            return _error(str(exc), 403)
        return JSONResponse(import_answer(report, result, dry_run=dry_run))

    async def results(request: Request) -> Response:
        campaign_id = request.path_params["campaign"]
        refused = _not_an_editor(request)
        if refused is not None:
            return refused
        try:
            text = await admin.export_results(campaign_id, clock(), by=_actor(request), team=_team(request))
        except LookupError as exc:
            return _error(str(exc), 404)
        except CampaignForbidden as exc:
            return _error(str(exc), 403)
        # a BOM so that a spreadsheet reads the names (中文 included) as UTF-8
        return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{campaign_id}-results.csv"',
            "Cache-Control": "no-store"})

    async def recycle(request: Request) -> JSONResponse:
        campaign_id = request.path_params["campaign"]
        refused = _not_an_editor(request)
        if refused is not None:
            return refused
        body, refused = await _json_body(request)
        if refused is not None:
            return refused
        outcomes = body.get("outcomes") if isinstance(body, dict) else None
        if not isinstance(outcomes, list) or not all(isinstance(o, str) for o in outcomes):
            return JSONResponse({"errors": [f'{BODY}: outcomes: expected a list such as ["busy", "no_answer"]']},
                                status_code=422)
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            return JSONResponse({"errors": [f"{BODY}: dry_run: expected true or false, got {dry_run!r}"]},
                                status_code=422)
        try:
            not_before = _when(body.get("not_before"), "not_before")
            count = await admin.recycle(campaign_id, outcomes, clock(), by=_actor(request), team=_team(request),
                                        not_before=not_before, dry_run=dry_run)
        except LookupError as exc:
            return _error(str(exc), 404)
        except CampaignForbidden as exc:
            return _error(str(exc), 403)
        except ValueError as exc:
            return JSONResponse({"errors": [f"{BODY}: {exc}"]}, status_code=422)
        return JSONResponse({"campaign": campaign_id, "recycled": count, "dry_run": dry_run})

    async def versions(request: Request) -> JSONResponse:
        campaign_id = request.path_params["campaign"]
        try:
            return JSONResponse({"campaign": campaign_id, "versions": await admin.history(campaign_id)})
        except LookupError as exc:
            return _error(str(exc), 404)

    return [
        Route("/api/campaigns", put, methods=["POST"]),
        Route("/api/campaigns/{campaign}", one, methods=["GET", "PATCH", "DELETE"]),
        Route("/api/campaigns/{campaign}/versions", versions),
        Route("/api/campaigns/{campaign}/leads", leads, methods=["GET", "POST"]),
        Route("/api/campaigns/{campaign}/results.csv", results),
        Route("/api/campaigns/{campaign}/recycle", recycle, methods=["POST"]),
    ]


async def _json_body(request: Request) -> tuple[Any, JSONResponse | None]:
    """The JSON body of a change, or the answer refusing the request (role, type, syntax)."""
    refused = _not_an_editor(request)
    if refused is not None:
        return None, refused
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return None, _error(f"Content-Type {content_type or '(none)'} refused: send application/json", 415)
    try:
        return await request.json(), None
    except ValueError as exc:
        return None, _error(f"the body is not JSON: {exc}")


def import_answer(report: ImportReport, result: ImportResult, *, dry_run: bool) -> dict[str, Any]:
    """A lead CSV's import as the API answers it: what the file held (rows, leads, merged and bad
    rows by line) and what was written, or would be with ``dry_run``."""
    return {"dry_run": dry_run, "rows": report.rows, "leads": len(report.leads),
            "inserted": result.inserted, "held": result.held, "on_dnc": result.on_dnc,
            "refused": result.refused,
            "existing": [{"line": line, "number": number} for line, number in result.existing],
            "merged": [{"line": m.line, "into": m.into, "number": m.number} for m in report.merges],
            "errors": [{"line": e.line, "reason": e.reason} for e in report.errors]}


def _not_an_editor(request: Request) -> JSONResponse | None:
    """403 for a logged-in user who may not change campaigns (None: go on)."""
    user = current_user(request)
    if user is not None and user.role not in CAMPAIGN_EDITORS and user.role is not Role.ADMIN:
        return _error("only team leads and admins change campaigns", 403)
    return None


def _active_problems(body: Any) -> list[str]:
    """Why a PATCH body is not ``{"active": true|false}``."""
    if not isinstance(body, dict):
        return [f"{BODY}: (top level): expected {{\"active\": true|false}}"]
    problems = [f"{BODY}: {key}: only active can be changed here (POST /api/campaigns replaces"
                " an API campaign)" for key in body if key != "active"]
    if "active" not in body:
        problems.append(f"{BODY}: active: required key is missing")
    elif not isinstance(body["active"], bool):
        problems.append(f"{BODY}: active: expected true or false, got {body['active']!r}")
    return problems


def _team(request: Request) -> str | None:
    """The team a logged-in team lead is limited to (None: no limit)."""
    user = current_user(request)
    return user.team if user is not None and user.role is Role.LEAD else None


def _actor(request: Request) -> str:
    """Who a change is audited as: the logged-in user, else the API and its client."""
    user = current_user(request)
    if user is not None:
        return user.username
    return f"api:{request.client.host}" if request.client else "api"


def _when(value: Any, name: str = "callback_at") -> float | None:
    """A time given as ``name``: unix seconds or ISO 8601 with an offset."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{name} needs a UTC offset, e.g. 2026-11-26T10:00:00+08:00")
    return moment.timestamp()


def _plain(value: Any) -> Any:
    """A dataclass (or anything) as JSON-ready data."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)
