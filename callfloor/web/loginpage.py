"""The server-rendered login page (English or Chinese) and the headers every auth page carries."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from callfloor.web.i18n import LANGS, translate

__all__ = ["PAGE_HEADERS", "render_login"]

# No scripts on the login page; it may not be framed (clickjacking) nor cached.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self';"
                               " frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;background:#f3f4f6;margin:0}
main{max-width:22rem;margin:12vh auto;background:#fff;padding:2rem;border-radius:.5rem;
box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 1.2rem}
label{display:block;margin:.8rem 0 .2rem;font-size:.9rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;background:#1d4ed8;color:#fff;
border:0;border-radius:.3rem;cursor:pointer}
.error{color:#b91c1c}.info{color:#166534}
nav{margin-top:1.2rem;font-size:.85rem;text-align:center}nav a{margin:0 .4rem}
"""


def render_login(lang: str, *, csrf: str, next_path: str, username: str = "",
                 error: str | None = None, info: str | None = None) -> str:
    """The login page; ``error`` and ``info`` are catalog keys (``login.failed``, ...) or
    already translated text, shown above the form."""

    def t(key: str) -> str:
        return escape(translate(lang, key))

    notes = "".join(f'<p class="{cls}" role="alert">{escape(translate(lang, text))}</p>'
                    for cls, text in (("error", error), ("info", info)) if text)
    switch = " ".join(
        f'<a href="/login?lang={code}&amp;next={escape(quote(next_path, safe=""))}" lang="{code}"'
        f'{" aria-current=true" if code == lang else ""}>{escape(translate(code, f"lang.{code}"))}</a>'
        for code in LANGS)
    return f"""<!doctype html>
<html lang="{'zh-Hans' if lang == 'zh' else 'en'}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{t("login.title")} · callfloor</title><style>{_STYLE}</style></head>
<body><main>
<h1>{t("login.heading")}</h1>
{notes}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{escape(csrf)}">
<input type="hidden" name="next" value="{escape(next_path)}">
<label for="username">{t("login.username")}</label>
<input id="username" name="username" autocomplete="username" required autofocus value="{escape(username)}">
<label for="password">{t("login.password")}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{t("login.submit")}</button>
</form>
<nav aria-label="{t("app.language")}">{switch}</nav>
</main></body></html>
"""
