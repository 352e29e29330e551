"""Web login with roles: the login/logout routes, plus (from ``authcore``) sessions, the
middleware, ``requires`` and ``current_user``. docs/users.md describes the whole.

    GET  /login          the login page (English or Chinese; ?lang=en|zh switches)
    POST /login          a form (username, password, csrf_token, next) -> 303 and the cookie;
                         or JSON {"username", "password"} -> 200 {"user": ..., "csrf_token": ...}
    POST /logout         ends the session (CSRF token required)
    GET  /api/me         the user, the session's CSRF token and its expiry times
    POST /api/me/lang    {"lang": "en"|"zh"} (or a form with lang and next)

Wiring: ``Starlette(routes=[*auth_routes(auth), ...], middleware=[Middleware(AuthMiddleware,
auth=auth)])`` with ``auth = Auth(store, settings.auth)``.

The login form is itself protected against login CSRF by a double-submit token: GET /login
sets it in a cookie scoped to /login and in the form, and POST /login wants both equal. A JSON
login needs none: a cross-site page cannot send ``Content-Type: application/json`` without a
CORS preflight, which this server never grants.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from callfloor.store.audit import AuditEntry, AuditLog
from callfloor.store.users import Role, User
from callfloor.web.authcore import (
    Auth,
    AuthMiddleware,
    LoginFailed,
    LoginResult,
    Session,
    Throttled,
    csrf_ok,
    csrf_token,
    current_session,
    current_user,
    form_data,
    may_see_seat,
    refuse,
    requires,
    wants_html,
)
from callfloor.web.i18n import negotiate, normalise_lang, translate
from callfloor.web.loginpage import PAGE_HEADERS, render_login

__all__ = [
    "LANG_COOKIE",
    "Auth",
    "AuditEntry",
    "AuditLog",
    "AuthMiddleware",
    "LoginFailed",
    "LoginResult",
    "Role",
    "Session",
    "Throttled",
    "User",
    "auth_routes",
    "csrf_token",
    "current_session",
    "current_user",
    "default_home",
    "form_data",
    "may_see_seat",
    "request_lang",
    "requires",
    "safe_next",
]

LANG_COOKIE = "callfloor_lang"


def default_home(user: User) -> str:
    """Where a user lands after login when no ``next`` was asked for."""
    return {Role.SEAT: "/seat", Role.QA: "/qa"}.get(user.role, "/monitor")


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a path on this site (no open redirect), else None."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return None if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) else value


def request_lang(request: Request) -> str:
    """The language of a request: the user's, else ?lang=, else the language cookie, else the
    browser's Accept-Language."""
    user = current_user(request)
    if user is not None:
        return user.lang
    return (normalise_lang(request.query_params.get("lang"))
            or normalise_lang(request.cookies.get(LANG_COOKIE))
            or negotiate(request.headers.get("accept-language")))


def _me(session: Session) -> dict[str, Any]:
    u = session.user
    return {"id": u.id, "username": u.username, "name": u.name, "role": u.role.value, "seat": u.seat,
            "team": u.team, "lang": u.lang, "csrf_token": session.csrf_token,
            "expires_at": session.expires_at, "idle_expires_at": session.idle_expires_at}


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_lang_cookie(response: Response, lang: str, request: Request) -> None:
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", httponly=True,
                        samesite="lax", secure=_secure(request))


def auth_routes(auth: Auth, *, home: Callable[[User], str] = default_home) -> list[Route]:
    """The login, logout and /api/me routes bound to ``auth``; ``home`` picks the landing page."""
    pre_cookie = f"{auth.settings.cookie_name}_login"

    def page(request: Request, lang: str, pre: str, next_path: str, *, status: int = 200,
             username: str = "", error: str | None = None, info: str | None = None,
             headers: dict[str, str] | None = None) -> HTMLResponse:
        html = render_login(lang, csrf=pre, next_path=next_path, username=username, error=error, info=info)
        response = HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
        response.set_cookie(pre_cookie, pre, max_age=3600, path="/login", httponly=True,
                            samesite="strict", secure=_secure(request))
        if normalise_lang(request.query_params.get("lang")):
            _set_lang_cookie(response, lang, request)
        return response

    async def login_page(request: Request) -> Response:
        next_path = safe_next(request.query_params.get("next"))
        session = current_session(request)
        if session is not None:
            return RedirectResponse(next_path or home(session.user), status_code=303)
        info = {"expired": "login.expired", "signed_out": "login.signed_out"}.get(
            request.query_params.get("m", ""))
        pre = request.cookies.get(pre_cookie) or secrets.token_urlsafe(24)
        return page(request, request_lang(request), pre, next_path or "", info=info)

    async def login_submit(request: Request) -> Response:
        lang, pre = request_lang(request), ""
        if _is_json(request):
            try:
                body = await request.json()
                username, password = str(body["username"]), str(body["password"])
            except (ValueError, KeyError, TypeError):
                return JSONResponse({"error": 'expected {"username": ..., "password": ...}'}, status_code=400)
            next_path = None
        else:
            form = await form_data(request)
            username, password = form.get("username", ""), form.get("password", "")
            next_path = safe_next(form.get("next"))
            pre = request.cookies.get(pre_cookie, "")
            if not pre or not hmac.compare_digest(form.get("csrf_token", "").encode(), pre.encode()):
                fresh = secrets.token_urlsafe(24)
                return page(request, lang, fresh, next_path or "", status=403, username=username,
                            error="error.csrf")
        return await _login(request, lang, username, password, next_path, pre)

    async def _login(request: Request, lang: str, username: str, password: str,
                     next_path: str | None, pre: str) -> Response:
        json = _is_json(request)
        try:
            result = await auth.login(username, password, user_agent=request.headers.get("user-agent"),
                                      address=request.client.host if request.client else "unknown")
        except Throttled as exc:
            text = translate(lang, "login.throttled", minutes=math.ceil(exc.retry_after / 60))
            headers = {"Retry-After": str(exc.retry_after)}
            if json:
                return JSONResponse({"error": text, "retry_after": exc.retry_after}, status_code=429,
                                    headers=headers)
            return page(request, lang, pre, next_path or "", status=429, username=username, error=text,
                        headers=headers)
        except LoginFailed:
            if json:
                return JSONResponse({"error": translate(lang, "login.failed")}, status_code=401)
            return page(request, lang, pre, next_path or "", status=401, username=username,
                        error="login.failed")
        response: Response
        if json:
            response = JSONResponse(_me(result.session))
        else:
            response = RedirectResponse(next_path or home(result.session.user), status_code=303)
            response.delete_cookie(pre_cookie, path="/login")
        auth.set_cookie(response, result.token, secure=_secure(request))
        return response

    async def logout(request: Request) -> Response:
        session = current_session(request)
        if session is not None:
            if not await csrf_ok(request, session):
                return refuse(request, 403, "error.csrf")
            await auth.logout(session)
        response: Response
        if wants_html(request) or await form_data(request):
            response = RedirectResponse("/login?m=signed_out", status_code=303)
        else:
            response = JSONResponse({"ok": True, "was_logged_in": session is not None})
        auth.clear_cookie(response, secure=_secure(request))
        return response

    @requires()
    async def me(request: Request) -> Response:
        session = current_session(request)
        assert session is not None  # requires() let it through
        return JSONResponse(_me(session))

    @requires()
    async def me_lang(request: Request) -> Response:
        session = current_session(request)
        assert session is not None
        form = await form_data(request)
        value: Any = form.get("lang")
        if not form:
            try:
                value = (await request.json()).get("lang")
            except (ValueError, AttributeError):
                value = None
        lang = normalise_lang(value) if isinstance(value, str) else None
        if lang is None:
            return refuse(request, 400, "error.bad_request", expected={"lang": ["en", "zh"]})
        user = session.user
        await auth.users.update(user.username, {"lang": lang}, now=auth.clock(), by=user.username)
        response: Response = (RedirectResponse(safe_next(form.get("next")) or home(user), status_code=303)
                              if form else JSONResponse({"lang": lang}))
        _set_lang_cookie(response, lang, request)
        return response

    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/api/me", me, methods=["GET"]),
        Route("/api/me/lang", me_lang, methods=["POST"]),
    ]
