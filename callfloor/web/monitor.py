"""The team lead's live monitor: the page, its event stream and the actions on seats and calls.

    GET  /monitor                             the page (a team lead; the user's catalog inline)
    GET  /monitor/events                      text/event-stream: ``board`` first, then each change
    GET  /api/monitor/board                   the floor now (seats scoped to the lead's team)
    GET  /api/monitor/decisions?limit=N       the queue-watcher's explained decisions, newest first
    POST /api/monitor/seats/{seat}/move       {"target": "queue:<q>"|"queues:<a>,<b>"|"campaign:<c>"}
    POST /api/monitor/seats/{seat}/presence   {"action": "ready"|"pause"|"logout", "reason"?}
    POST /api/monitor/calls/{call}/listen     silent monitoring: the lead's own seat is rung
    POST /api/monitor/campaigns/{campaign}/active   {"active": true|false}: start or stop dialling

Every action needs the LEAD role and the session's CSRF token, and is written to the audit log
with who, what and when. The floor itself is :class:`LiveFloorLike` (``callfloor.floorlive``);
campaigns are started and stopped by :class:`CampaignSwitch` (``callfloor.campaignadmin``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from callfloor.web.auth import Role, User, csrf_token, current_user, may_see_seat, requires
from callfloor.web.i18n import catalog
from floor.states import DEFAULT_PAUSE_REASONS, PresenceAction

__all__ = [
    "HEARTBEAT",
    "STATIC",
    "AuditWriter",
    "CampaignSwitch",
    "NAV",
    "LiveFloorLike",
    "asset_route",
    "error",
    "header",
    "monitor_routes",
    "next_item",
    "pause_reasons",
    "presence_request",
    "refusal",
    "page",
    "sse",
    "Switched",
]

STATIC = Path(__file__).parent / "static"
HEARTBEAT = 15.0  # seconds between SSE comments, so proxies keep an idle stream open
DECISIONS = 50  # the decisions the page starts with


class LiveFloorLike(Protocol):
    """What the web pages use of ``callfloor.floorlive.LiveFloor``."""

    def board(self, now: float) -> dict[str, Any]:
        """The whole floor: {"queues", "campaigns", "seats", "at"}."""
        ...

    def campaign_tile(self, campaign_id: str, now: float) -> dict[str, Any] | None:
        """One campaign as the board shows it (None when unknown)."""
        ...

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue of changes: {"type", "id", "data"}."""
        ...

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop feeding ``queue``."""
        ...

    async def move_seat(self, seat: str, target: str, by: str, now: float) -> dict[str, Any]:
        """Move ``seat`` to a queue, queues or a campaign."""
        ...

    async def set_presence(self, seat: str, action: str, reason: str | None, by: str,
                           now: float) -> dict[str, Any]:
        """Ready, pause (with a reason) or log out ``seat``."""
        ...

    async def listen(self, call: str, listener_seat: str, by: str, now: float) -> dict[str, Any]:
        """Ring ``listener_seat`` into ``call``, muted; nobody on the call is told."""
        ...

    def decisions(self, limit: int) -> list[dict[str, Any]]:
        """The queue-watcher's decisions, newest first."""
        ...

    def alerts(self, now: float) -> list[dict[str, Any]]:
        """Thresholds crossed now."""
        ...


class AuditWriter(Protocol):
    """The write side of ``callfloor.store.audit.AuditLog``."""

    async def write(self, actor: str, action: str, subject: str, detail: Mapping[str, Any],
                    at: float) -> None:
        """Append one audit row."""
        ...


class Switched(Protocol):
    """A campaign after a start or stop (``dialer.campaign.Campaign`` is one)."""

    @property
    def active(self) -> bool:
        """Whether it dials."""
        ...


class CampaignSwitch(Protocol):
    """What the monitor uses of ``callfloor.campaignadmin.CampaignAdmin``."""

    async def set_active(self, campaign_id: str, active: bool, now: float, *, by: str,
                         team: str | None = None) -> Switched:
        """Start or stop dialling a campaign and audit it; ``LookupError`` if unknown,
        ``PermissionError`` when it assigns no seat of ``team``."""
        ...


def error(message: str, status: int = 400) -> JSONResponse:
    """An API error as JSON."""
    return JSONResponse({"error": message}, status_code=status)


def _message(exc: Exception) -> str:
    # str(KeyError("x")) is "'x'": the first argument is the message we were given
    return str(exc.args[0]) if exc.args else type(exc).__name__


def refusal(exc: LookupError | ValueError) -> JSONResponse:
    """The live floor's refusal as an answer: unknown seat or call 404, anything else 400."""
    return error(_message(exc), 404 if isinstance(exc, LookupError) else 400)


def pause_reasons() -> list[str]:
    """The pause reasons the pages offer (the ACD's default set)."""
    return [r.label for r in DEFAULT_PAUSE_REASONS]


async def presence_request(request: Request) -> tuple[str, str | None]:
    """``{"action": "ready"|"pause"|"logout", "reason"?}`` from the body; ValueError says why not."""
    try:
        body = await _json_object(request)
        action = PresenceAction(body.get("action")).value
    except ValueError as exc:
        raise ValueError(f'{_message(exc)}: expected {{"action": "ready"|"pause"|"logout", '
                         f'"reason": ...}}') from None
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValueError("reason must be a string")
    return action, reason


# The pages every header links to: (path, test id, catalog key, roles that may open it). Admin
# passes every role check; the seat's own pages need a seat.
NAV: tuple[tuple[str, str, str, frozenset[Role]], ...] = (
    ("/monitor", "nav-monitor", "nav.monitor", frozenset({Role.LEAD})),
    ("/campaigns", "nav-campaigns", "nav.campaigns", frozenset({Role.LEAD, Role.QA})),
    ("/qa", "nav-qa", "nav.qa", frozenset({Role.LEAD, Role.QA})),
    ("/qa/summary", "nav-summary", "qa.summary", frozenset({Role.LEAD, Role.QA})),
    ("/complaints", "nav-complaints", "nav.complaints", frozenset({Role.LEAD, Role.QA})),
    ("/seat", "nav-seat", "nav.seat", frozenset({Role.SEAT})),
    ("/seat/qa", "nav-mine", "qa.mine", frozenset({Role.SEAT})),
)
_HEADER = re.compile(r"\{\{HEADER ([a-z_.]+) (live|connecting|none)\}\}")


def page(name: str, request: Request, user: User, extra: Mapping[str, Any]) -> HTMLResponse:
    """``static/<name>`` with the boot data (user, CSRF token, catalog) inline, and the shared
    header where the file says ``{{HEADER <title key> <live|connecting|none>}}``."""
    boot = {"user": {"username": user.username, "name": user.name, "role": user.role.value,
                     "seat": user.seat, "team": user.team},
            "lang": user.lang, "csrf": csrf_token(request), "catalog": catalog(user.lang), **extra}
    # "<" escaped: the JSON sits in a <script> element and must not close it
    data = json.dumps(boot, ensure_ascii=False).replace("<", "\\u003c")
    html = (STATIC / name).read_text(encoding="utf-8")
    html = _HEADER.sub(lambda m: header(request, user, m[1], m[2]), html)
    html = html.replace("{{LANG}}", "zh-CN" if user.lang == "zh" else "en").replace("{{BOOT}}", data)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def header(request: Request, user: User, title: str, connection: str) -> str:
    """The bar atop every page: title, the links to the pages ``user`` may open on this service
    (the current one marked), the connection dot, who is signed in, language and log-out."""
    mounted = {getattr(r, "path", None) for r in request.app.routes}
    links = []
    for path, testid, key, roles in NAV:
        if path not in mounted or not (user.role in roles or user.role is Role.ADMIN):
            continue
        if roles == {Role.SEAT} and not user.seat:
            continue
        current = ' aria-current="page"' if request.url.path == path else ""
        links.append(f'    <a href="{path}" data-testid="{testid}" data-i18n="{key}"{current}></a>')
    dot = ("" if connection == "none" else
           f'  <span class="conn" data-testid="connection" data-state="{connection}"></span>\n')
    return (f'<header class="bar">\n  <h1 data-i18n="{title}"></h1>\n'
            + ("  <nav>\n" + "\n".join(links) + "\n  </nav>\n" if links else "")
            + dot + _HEADER_END)


_HEADER_END = """  <span class="spacer"></span>
  <span class="who" data-testid="user"></span>
  <select data-testid="lang" aria-label="language">
    <option value="en">English</option>
    <option value="zh">中文</option>
  </select>
  <form method="post" action="/logout" class="logout">
    <input type="hidden" name="csrf_token" data-testid="logout-csrf">
    <button type="submit" data-i18n="nav.logout" data-testid="logout"></button>
  </form>
</header>"""


def asset_route(path: str, name: str) -> Route:
    """A route serving one file of ``static/`` (no build step; no shared static mount needed)."""
    media = {"js": "text/javascript", "css": "text/css"}[name.rsplit(".", 1)[1]]

    async def asset(request: Request) -> Response:
        return FileResponse(STATIC / name, media_type=media, headers={"Cache-Control": "no-cache"})

    return Route(path, asset)


def sse(events: AsyncGenerator[tuple[str, Any], None]) -> StreamingResponse:
    """A text/event-stream of ``events`` (kind, data); kind "" is a keepalive comment."""

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\n\n"  # EventSource reconnects after a second, not its default three
            async for kind, data in events:
                yield ": keepalive\n\n" if kind == "" else _event(kind, data)
        finally:
            await events.aclose()  # runs the source's finally (unsubscribe) on a disconnect

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def next_item(queue: asyncio.Queue[dict[str, Any]]) -> dict[str, Any] | None:
    """The queue's next item, or None after a quiet heartbeat period."""
    try:
        return await asyncio.wait_for(queue.get(), HEARTBEAT)
    except TimeoutError:
        return None


def _event(kind: str, data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _visible(user: User, seat: Mapping[str, Any] | None) -> bool:
    return seat is not None and may_see_seat(user, str(seat.get("id")), seat.get("team"))


def _scoped(board: Mapping[str, Any], user: User) -> dict[str, Any]:
    """The board with only the seats ``user`` may see."""
    seats = {k: v for k, v in board.get("seats", {}).items() if _visible(user, {"id": k, **v})}
    return {**board, "seats": seats}


def _current(request: Request) -> User:
    user = current_user(request)
    assert user is not None, "requires() let a request through without a user"
    return user


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def monitor_routes(live: LiveFloorLike, audit: AuditWriter, clock: Callable[[], float], *,
                   reasons: Sequence[str] | None = None,
                   campaigns: CampaignSwitch | None = None) -> list[Route]:
    """The monitor's page, stream and actions, bound to the live floor and the audit log
    (``campaigns``: who starts and stops campaigns; None without a dialer)."""
    reasons = list(reasons) if reasons is not None else pause_reasons()

    def seat_of(user: User, seat: str) -> JSONResponse | None:
        """None when ``user`` may act on ``seat``, else the refusal."""
        found = live.board(clock()).get("seats", {}).get(seat)
        if found is None:
            return error(f"unknown seat {seat!r}", 404)
        if not _visible(user, {"id": seat, **found}):
            return error(f"seat {seat} is not in your team {user.team!r}", 403)
        return None

    async def act(user: User, action: str, subject: str, detail: dict[str, Any],
                  run: Callable[[float], Any]) -> JSONResponse:
        """Run a floor action, audit it once it took effect, map the floor's refusals."""
        try:
            result = await run(clock())
        except (LookupError, ValueError) as exc:
            return refusal(exc)
        await audit.write(user.username, action, subject, detail, at=clock())
        return JSONResponse(result)

    @requires(Role.LEAD)
    async def monitor_page(request: Request) -> Response:
        return page("monitor.html", request, _current(request), {"pause_reasons": reasons})

    @requires(Role.LEAD)
    async def board(request: Request) -> Response:
        now = clock()
        return JSONResponse({**_scoped(live.board(now), _current(request)), "alerts": live.alerts(now)})

    @requires(Role.LEAD)
    async def decisions(request: Request) -> Response:
        try:
            limit = max(1, min(int(request.query_params.get("limit", str(DECISIONS))), 1000))
        except ValueError:
            return error("limit must be a whole number")
        return JSONResponse(live.decisions(limit))

    @requires(Role.LEAD)
    async def events(request: Request) -> Response:
        return sse(_monitor_events(live, _current(request), clock))

    @requires(Role.LEAD)
    async def move(request: Request) -> Response:
        user, seat = _current(request), request.path_params["seat"]
        try:
            target = (await _json_object(request)).get("target")
        except ValueError as exc:
            return error(f'{exc}: expected {{"target": "queue:<name>"|"queues:<a>,<b>"|"campaign:<id>"}}')
        if not isinstance(target, str) or not target:
            return error('expected {"target": "queue:<name>"|"queues:<a>,<b>"|"campaign:<id>"}')
        refused = seat_of(user, seat)
        if refused is not None:
            return refused
        return await act(user, "seat.move", f"seat:{seat}", {"target": target},
                         lambda now: live.move_seat(seat, target, user.username, now))

    @requires(Role.LEAD)
    async def presence(request: Request) -> Response:
        user, seat = _current(request), request.path_params["seat"]
        try:
            action, reason = await presence_request(request)
        except ValueError as exc:
            return error(str(exc))
        refused = seat_of(user, seat)
        if refused is not None:
            return refused
        return await act(user, "seat.presence", f"seat:{seat}", {"action": action, "reason": reason},
                         lambda now: live.set_presence(seat, action, reason, user.username, now))

    @requires(Role.LEAD)
    async def listen(request: Request) -> Response:
        user, call = _current(request), request.path_params["call"]
        if not user.seat:
            return error("you have no seat of your own: listening rings your seat's phone into the "
                         "call, so ask an admin to give your user a seat", 409)
        on = [{"id": k, **s} for k, s in live.board(clock()).get("seats", {}).items() if s.get("call") == call]
        if on and not any(_visible(user, s) for s in on):
            return error(f"call {call} is not on a seat of your team {user.team!r}", 403)
        listener = user.seat
        return await act(user, "call.listen", f"call:{call}", {"listener": listener},
                         lambda now: live.listen(call, listener, user.username, now))

    @requires(Role.LEAD)
    async def campaign_active(request: Request) -> Response:
        user, ident = _current(request), request.path_params["campaign"]
        try:
            active = (await _json_object(request)).get("active")
        except ValueError as exc:
            return error(f'{exc}: expected {{"active": true|false}}')
        if not isinstance(active, bool):
            return error(f'expected {{"active": true|false}}, got {active!r}')
        if campaigns is None:
            return error("campaigns cannot be started or stopped: the dialer is not running", 409)
        tile = live.campaign_tile(ident, clock())
        refused = _campaign_refusal(ident, tile)
        if refused is not None:
            return refused
        try:
            # CampaignAdmin audits it (campaign.active), as for PATCH /api/campaigns/<id>
            done = await campaigns.set_active(ident, active, clock(), by=user.username,
                                              team=user.team if user.role is Role.LEAD else None)
        except LookupError as exc:
            return refusal(exc)
        except PermissionError as exc:  # a lead with a team, on another team's campaign
            return error(str(exc), 403)
        after = live.campaign_tile(ident, clock()) or {}
        return JSONResponse({**after, "id": ident, "active": done.active})

    return [
        Route("/monitor", monitor_page),
        asset_route("/monitor/pages.js", "pages.js"),
        asset_route("/monitor/monitor.js", "monitor.js"),
        asset_route("/monitor/monitor.css", "monitor.css"),
        Route("/monitor/events", events),
        Route("/api/monitor/board", board),
        Route("/api/monitor/decisions", decisions),
        Route("/api/monitor/seats/{seat}/move", move, methods=["POST"]),
        Route("/api/monitor/seats/{seat}/presence", presence, methods=["POST"]),
        Route("/api/monitor/calls/{call}/listen", listen, methods=["POST"]),
        Route("/api/monitor/campaigns/{campaign}/active", campaign_active, methods=["POST"]),
    ]


def _campaign_refusal(ident: str, tile: Mapping[str, Any] | None) -> JSONResponse | None:
    """None when the campaign on this tile can be started and stopped here, else the refusal
    (whose team may do it is ``CampaignAdmin.set_active``'s rule)."""
    if tile is None:
        return error(f"unknown campaign {ident!r}", 404)
    if "active" not in tile:
        return error(f"campaign {ident} is not run by the dialer", 409)
    return None


async def _monitor_events(live: LiveFloorLike, user: User,
                          clock: Callable[[], float]) -> AsyncGenerator[tuple[str, Any], None]:
    """The board, then each change ``user`` may see; subscribed only while the stream is open."""
    queue = live.subscribe()  # before the board: a change racing it is sent, never lost
    try:
        now = clock()
        yield "board", {**_scoped(live.board(now), user), "alerts": live.alerts(now),
                        "decisions": live.decisions(DECISIONS)}
        while True:
            item = await next_item(queue)
            if item is None:
                yield "", None
            elif item.get("type") != "seat" or not item.get("data") \
                    or _visible(user, {"id": item.get("id"), **item["data"]}):
                yield str(item.get("type", "change")), item
    finally:
        live.unsubscribe(queue)
