"""The web's language: chosen per request (``?lang=``, the ``sg_lang`` cookie, ``Accept-Language``), and the one
Jinja2 environment every page renders with (``jinja2.ext.i18n`` bound to the request's catalog).

Templates mark text with ``{% trans %}...{% endtrans %}`` or ``{{ _("...") }}`` (Jinja's new-style gettext:
``%(name)s`` placeholders); ``make i18n`` extracts them together with the Python strings.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi.templating import Jinja2Templates

from synthguard import i18n
from synthguard.errors import SynthGuardError
from synthguard.moderation import texts
from synthguard.moderation.texts import bilingual, when
from synthguard.server.session import current
from synthguard.store.base import SQLAlchemyError

COOKIE = "sg_lang"
TEMPLATES = Path(__file__).resolve().parent / "templates"


def request_lang(query: str, cookie_header: str | None, accept_language: str | None) -> str:
    """``?lang=`` wins (a language switcher link), then the remembered cookie, then the browser's preference."""
    for value in (parse_qs(query).get("lang", [None])[0], _cookie(cookie_header)):
        lang = i18n.normalize(value)
        if lang:
            return lang
    return i18n.negotiate(accept_language)


def _cookie(header: str | None) -> str | None:
    if not header:
        return None
    try:
        jar: SimpleCookie = SimpleCookie(header)
    except Exception:  # a malformed Cookie header is the client's problem, not a 500
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


class LanguageMiddleware:
    """Pure ASGI middleware: sets the language context for the request (and remembers ``?lang=`` in a cookie)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = scope.get("query_string", b"").decode("latin-1")
        lang = request_lang(query, headers.get("cookie"), headers.get("accept-language"))
        chosen = i18n.normalize(parse_qs(query).get("lang", [None])[0])
        scope.setdefault("state", {})["lang"] = lang

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"content-language", lang.replace("_", "-").encode())]
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html")
                           for k, v in message.get("headers", []))
                if chosen and html:  # a page's language switcher is remembered; an API call's ?lang is not
                    extra.append((b"set-cookie", f"{COOKIE}={chosen}; Path=/; Max-Age=31536000; SameSite=Lax"
                                  .encode()))
                message = message | {"headers": [*message.get("headers", []), *extra]}
            await send(message)

        token = i18n.use(lang)
        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n.reset(token)


def _gettext(message: str) -> str:
    return i18n.translations(i18n.current()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.current()).ngettext(singular, plural, n)


_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                          extensions=["jinja2.ext.i18n"])
_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Templates(env=_env)
templates.env.globals["current_lang"] = i18n.current
templates.env.globals["format_datetime"] = i18n.format_datetime
templates.env.globals["format_number"] = i18n.format_number


def _display(table: str, code: str | None) -> str:
    """A code's display text (case states, actions ...: synthguard.moderation.texts) in the request's language."""
    return texts.label(getattr(texts, table.upper()), code)


def _bilingual(value: object) -> str:
    return bilingual(value)


def _when(value: object) -> str:
    return when(value)  # type: ignore[arg-type]


def _tr(value: object) -> str:
    """A data value marked elsewhere with N_ (policy titles), translated as is: unlike ``_()`` no %-formatting,
    so an operator's own text with a "%" cannot break the page."""
    return _gettext(value) if isinstance(value, str) and value else ("" if value is None else str(value))


def _web_user(request: Any) -> Any:
    """The signed-in user of the page's request (server/session.py), or None: the header's account links."""
    if request is None or getattr(getattr(request, "app", None), "state", None) is None:
        return None
    if getattr(request.app.state, "sg", None) is None:
        return None
    try:
        return current(request)
    except (SQLAlchemyError, SynthGuardError):  # the database is down: the error page still renders, signed out
        return None


templates.env.globals.update(display=_display, bilingual=_bilingual, when=_when, tr=_tr, web_user=_web_user)
