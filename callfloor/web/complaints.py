"""Complaint handling over HTTP: the page, cases, candidate calls, playback, the blacklist.

    GET  /complaints                                   the page (QA, team lead, admin)
    GET  /api/complaints?state=S&number=N              cases, newest first
    POST /api/complaints                               {"number", "approx_at", "tolerance_s"?, "channel", "description"}
    GET  /api/complaints/{id}                          the case, its steps, linked calls, blacklist records
    POST /api/complaints/{id}/actions                  {"action": "investigate"|..., "outcome"?, "note"?}
    POST /api/complaints/{id}/steps                    {"text", "due_at"?}
    POST /api/complaints/{id}/steps/{step}/done
    GET  /api/complaints/{id}/candidates?tolerance_s=T candidate calls of the case, nearest first
    GET  /api/complaints/search?number=N&at=T&tolerance_s=S   the same for any number and time
    POST /api/complaints/{id}/calls                    {"call"}: link (holds its recording)
    DELETE /api/complaints/{id}/calls/{call}           unlink
    GET  /api/complaints/calls/{call}/recording        stream the recording, audited as recording.play
    GET  /api/blacklist?number=N&state=S&complaint=C   records, newest first
    GET  /api/blacklist/preview?number=N&campaign=C    pending leads a record would suppress
    POST /api/blacklist                                propose {"number", "campaign"?, "reason", "complaint"?,
                                                       "call"?, "expires_at"? | "days"?}
    POST /api/blacklist/{id}/approve | reject | revoke ({"reason"} for the last two)

A complaint handler is a QA or team-lead user (admin passes every check); approving needs a
role in ``ComplaintSettings.approver_roles``. Writes need the CSRF token (``requires``). Every
change is audited by the store in its own transaction. A request the rules refuse is a 422 with
the reason; an unknown case, record, call or campaign a 404.

Playback is open to QA, admins, a lead of the seat's team and the seat itself (the issue's
rule), so the lead can route ``/api/calls/{uuid}/recording.wav`` through it. A request for the
start of the file (no Range, or ``bytes=0-``) is one playback and one audit row; the browser's
later range requests while seeking are not counted again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from callfloor.settings import Settings
from callfloor.store.complaints import ComplaintStore
from callfloor.store.db import CallRow
from callfloor.web.auth import Role, User, may_see_seat, requires
from callfloor.web.complaints_api import HANDLERS, blacklist_routes, case_routes, plain, user_of
from callfloor.web.monitor import AuditWriter, asset_route, error, page
from qa.complaints import Channel, ComplaintSettings, Outcome

__all__ = ["RecordingSource", "complaint_routes", "may_play", "plain", "wav_source"]

RecordingSource = Callable[[CallRow], Awaitable[Response | None]]


def may_play(user: User, call: CallRow, seat_team: str | None) -> bool:
    """QA, admins, a lead of the call's seat's team (or of no team), and the seat itself."""
    if user.role in (Role.QA, Role.ADMIN):
        return True
    if call.seat_id is None:
        return user.role is Role.LEAD and user.team is None
    return may_see_seat(user, call.seat_id, seat_team)


def wav_source(root: Path) -> RecordingSource:
    """The live WAV of a call under the recordings directory (None: no file)."""
    root = root.resolve()

    async def wav(call: CallRow) -> Response | None:
        if not call.recording_path:
            return None
        path = (root / call.recording_path).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return FileResponse(path, media_type="audio/wav")

    return wav


def _first_chunk(request: Request) -> bool:
    wanted = request.headers.get("range", "").replace(" ", "").lower()
    return not wanted or wanted.startswith("bytes=0-")


def complaint_routes(store: ComplaintStore, audit: AuditWriter, settings: Settings, clock: Callable[[], float], *,
                     policy: ComplaintSettings | None = None, recording: RecordingSource | None = None) -> list[Route]:
    """The page and the JSON API. ``policy`` defaults to ``ComplaintSettings`` in the dialer's
    region; ``recording`` finds a call's audio (default: its WAV, ``wav_source``)."""
    rules = policy or ComplaintSettings(default_region=settings.dialer.default_region)
    teams = {s.id: s.team for s in settings.seats}
    source = recording or wav_source(settings.storage.recordings_dir)

    @requires(*HANDLERS)
    async def complaints_page(request: Request) -> Response:
        return page("complaints.html", request, user_of(request), {
            "channels": [c.value for c in Channel], "outcomes": [o.value for o in Outcome],
            "tolerance_s": rules.tolerance_s, "approver_roles": list(rules.approver_roles),
            "allow_self_approval": rules.allow_self_approval})

    @requires(*HANDLERS, Role.SEAT)
    async def play(request: Request) -> Response:
        user, uuid = user_of(request), request.path_params["call"]
        call = await store.call(uuid)
        if call is None:
            return error(f"no call {uuid}", 404)
        if not may_play(user, call, teams.get(call.seat_id or "")):
            return error(f"call {uuid} is not one you may play", 403)
        response = await source(call)
        if response is None:
            return error("no recording for this call", 404)
        if _first_chunk(request):
            case = request.query_params.get("case")
            await audit.write(user.username, "recording.play", f"call:{uuid}",
                              {"via": "complaints", "case": int(case) if case and case.isdigit() else None,
                               "seat": call.seat_id}, clock())
        return response

    return [
        Route("/complaints", complaints_page),
        asset_route("/complaints/pages.js", "pages.js"),
        asset_route("/complaints/complaints.js", "complaints.js"),
        asset_route("/complaints/complaints.css", "monitor.css"),
        Route("/api/complaints/calls/{call}/recording", play),
        *case_routes(store, rules, clock),
        *blacklist_routes(store, rules, clock),
    ]
