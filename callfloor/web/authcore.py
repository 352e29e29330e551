"""Login sessions, the middleware that finds the user of a request, role checks and CSRF.

Import these from ``callfloor.web.auth`` (which adds the login routes). The session cookie
holds a random token; the database keeps only its SHA-256. A session ends after
``session_idle`` seconds without a request or ``session_max`` after login. Every non-GET
request to a ``requires(...)`` endpoint must carry the session's CSRF synchronizer token
(OWASP CSRF Prevention Cheat Sheet), as the form field ``csrf_token`` or the header
``X-CSRF-Token``; comparisons of secrets are constant-time.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, quote

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from callfloor.settings.auth import AuthSettings
from callfloor.store.audit import AuditLog
from callfloor.store.db import Store
from callfloor.store.users import InvalidUserError, Role, User, UserRow, UserStore, check_username
from callfloor.web.i18n import negotiate, translate
from callfloor.web.passwords import Passwords

__all__ = [
    "Auth",
    "AuthMiddleware",
    "LoginFailed",
    "LoginResult",
    "Session",
    "Throttled",
    "csrf_ok",
    "csrf_token",
    "current_session",
    "current_user",
    "form_data",
    "may_see_seat",
    "refuse",
    "requires",
    "token_digest",
    "wants_html",
]

E = TypeVar("E", bound=Callable[[Request], Awaitable[Response]])
SESSION_KEY = "callfloor.session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = 60.0  # seconds: last_seen is written at most this often per session
MAX_FORM = 64 * 1024


@dataclass(frozen=True, slots=True)
class Session:
    """A live login session."""

    id: int
    user: User
    csrf_token: str
    created_at: float
    last_seen: float
    expires_at: float
    idle_expires_at: float


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A successful login: the cookie's token (shown once, never stored) and the session."""

    token: str
    session: Session


class LoginFailed(Exception):
    """Wrong username or password; the same for an unknown or disabled user (no enumeration)."""


class Throttled(Exception):
    """Too many failed logins for this username or address; retry after ``retry_after`` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins: retry after {retry_after} s")
        self.retry_after = retry_after


def token_digest(token: str) -> str:
    """The hex SHA-256 stored for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Auth:
    """Users, logins and sessions on a ``Store``; ``clock`` and ``passwords`` are injectable."""

    def __init__(self, store: Store, settings: AuthSettings | None = None, *,
                 clock: Callable[[], float] = time.time, passwords: Passwords | None = None) -> None:
        self.settings = settings or AuthSettings()
        self.users = UserStore(store)
        self.audit = AuditLog(store)
        self.clock = clock
        self.passwords = passwords or Passwords()

    async def login(self, username: str, password: str, *, address: str,
                    user_agent: str | None = None) -> LoginResult:
        """Check the password and open a session; ``Throttled`` or ``LoginFailed`` otherwise."""
        now = self.clock()
        s = self.settings
        name = username.strip().lower()[:64]
        await self.users.purge(now=now, idle=s.session_idle, window=s.lockout_window)
        retry = await self._retry_after(name, address, now)
        if retry:
            await self.audit.write(name or "-", "login.throttled", f"user:{name or '-'}",
                                   {"address": address, "retry_after": retry}, now)
            raise Throttled(retry)
        row = await self._user(name)
        if row is None or row.disabled:
            await asyncio.to_thread(self.passwords.waste, password)  # as slow as a real check
            verified, reason = None, "disabled" if row is not None else "unknown_user"
        else:
            verified = await asyncio.to_thread(self.passwords.verify, row.password_hash, password)
            reason = "bad_password"
        if row is None or verified is None or not verified.ok:
            await self.users.record_failure(name, address, now=now, reason=reason)
            raise LoginFailed("wrong username or password")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + s.session_max
        sid = await self.users.open_session(row, token_digest(token), csrf, now=now, expires_at=expires,
                                            user_agent=(user_agent or "")[:300] or None,
                                            address=address, new_hash=verified.new_hash)
        session = Session(sid, row.user, csrf, now, now, expires, min(expires, now + s.session_idle))
        return LoginResult(token, session)

    async def _user(self, name: str) -> UserRow | None:
        try:
            return await self.users.get(check_username(name))
        except InvalidUserError:
            return None

    async def _retry_after(self, name: str, address: str, now: float) -> int:
        """Seconds until a throttled username or address may try again; 0 when not throttled."""
        window = self.settings.lockout_window
        since = now - window
        waits = []
        for limit, times in (
            (self.settings.login_failures, await self.users.failure_times(since=since, username=name)),
            (self.settings.address_failures, await self.users.failure_times(since=since, address=address)),
        ):
            if len(times) >= limit:
                # the lock lifts when enough failures have aged out of the window
                waits.append(times[len(times) - limit] + window - now)
        return max(1, math.ceil(max(waits))) if waits else 0

    async def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token; an expired one is ended (and audited)."""
        if not token or len(token) > 256:
            return None
        found = await self.users.session(token_digest(token))
        if found is None:
            return None
        row, user = found
        now = self.clock()
        idle_end = row.last_seen + self.settings.session_idle
        if now >= row.expires_at or now >= idle_end or user.disabled:
            reason = "expired" if now >= row.expires_at else "idle" if now >= idle_end else "disabled"
            await self.users.end_session(row.id, now=now, actor=user.username, reason=reason)
            return None
        last_seen = row.last_seen
        if now - row.last_seen >= TOUCH_EVERY:
            await self.users.touch_session(row.id, now)
            last_seen = now
        return Session(row.id, user.user, row.csrf_token, row.created_at, last_seen, row.expires_at,
                       min(row.expires_at, last_seen + self.settings.session_idle))

    async def logout(self, session: Session) -> None:
        """End a session (audited as ``logout``)."""
        await self.users.end_session(session.id, now=self.clock(), actor=session.user.username,
                                     reason="logout")

    def set_cookie(self, response: Response, token: str, *, secure: bool) -> None:
        """The session cookie: HttpOnly, SameSite=Strict, Secure over https, gone at session_max."""
        response.set_cookie(self.settings.cookie_name, token, max_age=int(self.settings.session_max),
                            path="/", httponly=True, samesite="strict", secure=secure)

    def clear_cookie(self, response: Response, *, secure: bool) -> None:
        """Tell the browser to forget the session cookie."""
        response.delete_cookie(self.settings.cookie_name, path="/", httponly=True, samesite="strict",
                               secure=secure)


class AuthMiddleware:
    """ASGI middleware: loads the session of the request's cookie for ``current_user``."""

    def __init__(self, app: ASGIApp, auth: Auth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            token = HTTPConnection(scope).cookies.get(self.auth.settings.cookie_name)
            scope[SESSION_KEY] = await self.auth.session(token)
        await self.app(scope, receive, send)


def current_session(request: HTTPConnection) -> Session | None:
    """The request's session (set by ``AuthMiddleware``), if logged in."""
    return cast(Session | None, request.scope.get(SESSION_KEY))


def current_user(request: HTTPConnection) -> User | None:
    """The request's user (set by ``AuthMiddleware``), if logged in."""
    session = current_session(request)
    return session.user if session is not None else None


def csrf_token(request: HTTPConnection) -> str:
    """The session's CSRF token for a page's forms and scripts; "" when not logged in."""
    session = current_session(request)
    return session.csrf_token if session is not None else ""


def may_see_seat(user: User, seat_id: str, seat_team: str | None = None) -> bool:
    """A seat sees only itself; a lead the seats of its team (``seat_team``, from the seat's
    settings), or every seat when the lead has no team; QA and admin see every seat."""
    if user.role in (Role.QA, Role.ADMIN) or user.seat == seat_id:
        return True
    if user.role is Role.LEAD:
        return user.team is None or (seat_team is not None and seat_team == user.team)
    return False


async def form_data(request: Request) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` body ({} for any other body).

    Starlette's ``request.form()`` needs python-multipart; this does not. The body stays
    cached on the request, so the endpoint may read it again.
    """
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return {}
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200))
    except (UnicodeDecodeError, ValueError):
        return {}


async def csrf_ok(request: Request, session: Session) -> bool:
    """Whether the request carries the session's CSRF token (header, else form field)."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        sent = (await form_data(request)).get("csrf_token")
    return sent is not None and hmac.compare_digest(sent.encode(), session.csrf_token.encode())


def wants_html(request: HTTPConnection) -> bool:
    """A browser navigating (Accept: text/html), not a script asking for JSON."""
    return "text/html" in request.headers.get("accept", "")


def refuse(request: HTTPConnection, status: int, key: str, **extra: Any) -> Response:
    """An error in the user's language: a small page for browsers, else JSON."""
    user = current_user(request)
    lang = user.lang if user is not None else negotiate(request.headers.get("accept-language"))
    text = translate(lang, key)
    if wants_html(request):
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>{status}</title><p>{text}</p>",
                            status_code=status)
    return JSONResponse({"error": text, "code": key.rpartition(".")[2], **extra}, status_code=status)


def requires(*roles: Role) -> Callable[[E], E]:
    """Guard a Starlette endpoint: a session (pages: 303 to /login, API: 401), one of ``roles``
    (none given: any role; ADMIN always passes; else 403) and, unless GET/HEAD/OPTIONS, the
    CSRF token (else 403)."""
    allowed = frozenset(roles)

    def decorate(endpoint: E) -> E:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            session = current_session(request)
            if session is None:
                if request.method in ("GET", "HEAD") and wants_html(request):
                    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/login?next={quote(path, safe='')}", status_code=303)
                return refuse(request, 401, "error.login_required")
            if allowed and session.user.role not in allowed and session.user.role is not Role.ADMIN:
                return refuse(request, 403, "error.forbidden")
            if request.method not in SAFE_METHODS and not await csrf_ok(request, session):
                return refuse(request, 403, "error.csrf")
            return await endpoint(request)

        return cast(E, guarded)

    return decorate
