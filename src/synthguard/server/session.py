"""Web sessions for the console and the consent pages (issue 22): sign in with an API token once.

The account model is the API token (one role, one tenant, created by ``synthguard tokens create``, revocable);
there are no passwords to store, reset or phish.  Signing in trades the token for a server-side session
(:mod:`synthguard.store.web_sessions`): the browser gets a random id in an HttpOnly, SameSite=Strict cookie (Secure
over https or with ``secure_cookies``), the database keeps the id's SHA-256, its expiry and last use.  The token
itself is neither stored nor put in the cookie.  Every state-changing form carries the session's CSRF token, an
HMAC of the session id under the server's integrity key, so it needs no storage and dies with the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.responses import Response

from synthguard.auth import Principal, Role
from synthguard.errors import AuthError, RefusedError
from synthguard.i18n import N_
from synthguard.server.ratelimit import limit
from synthguard.store import web_sessions

if TYPE_CHECKING:
    from synthguard.core import SynthGuard

COOKIE = "sg_session"
LIFETIME = timedelta(hours=8)  # a working day; then sign in again
IDLE = timedelta(hours=1)  # unused this long: ended
CONSOLE = (Role.REVIEWER, Role.ADMIN, Role.REGULATOR)
CONSENT = (Role.PROVIDER, Role.PLATFORM, Role.VICTIM, Role.ADMIN)
# where a signed-in browser may be sent after signing in: the session pages only, never another site
_NEXT = ("/console", "/consent")


@dataclass(frozen=True)
class WebUser:
    """The signed-in browser: who it is (the token's principal) and its forms' CSRF token."""

    principal: Principal
    csrf: str
    links: tuple[tuple[str, str], ...]  # (path, N_ title) of the pages this role uses


def csrf_of(sg: SynthGuard, sid: str) -> str:
    mac = hmac.new(sg.keys.integrity, f"web-session-csrf:{sid}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def links_for(role: Role) -> tuple[tuple[str, str], ...]:
    """The pages a role works on, in the order the home page lists them."""
    out: list[tuple[str, str]] = []
    if role in CONSOLE:
        out.append(("/console", N_("Review console")))
    if role in CONSENT:
        out.append(("/consent", N_("Consent for faces and voices")))
    return tuple(out)


def home_of(role: Role) -> str:
    return links_for(role)[0][0] if links_for(role) else "/"


def safe_next(value: str | None, role: Role) -> str:
    """The page to go to after signing in: a session page this role uses, else the role's first page."""
    if value and len(value) <= 200 and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        path = value.split("?", 1)[0].split("#", 1)[0]
        if any(path == p or path.startswith(p + "/") for p in _NEXT) and any(
                path == p or path.startswith(p + "/") for p, _ in links_for(role)):
            return path
    return home_of(role)


def current(request: Request) -> WebUser | None:
    """The signed-in user of this request, or None (looked up once per request)."""
    if hasattr(request.state, "web_user"):
        cached: WebUser | None = request.state.web_user
        return cached
    sg = request.app.state.sg
    sid = request.cookies.get(COOKIE)
    row = web_sessions.lookup(sg.db, sid, idle=IDLE) if sid else None
    user = None
    if row is not None and sid:
        p = Principal(row.token_id, Role(row.role), row.tenant, row.name)
        user = WebUser(p, csrf_of(sg, sid), links_for(p.role))
    request.state.web_user = user
    return user


def require(request: Request, *roles: Role) -> WebUser:
    """The signed-in user, charged to its token's rate bucket like the API; 401 when not signed in, 403 for a
    role outside ``roles``."""
    user = current(request)
    if user is None:
        raise AuthError("not signed in, or the session ended", hint=N_("Sign in at /signin with your API token."))
    user.principal.require(*roles)
    limit(request, user.principal)
    return user


class CsrfError(RefusedError):
    hint = N_("Reload the form and submit it again (the page's security token expired or is missing).")


def check_csrf(user: WebUser, given: str | None) -> None:
    if not given or not hmac.compare_digest(user.csrf, given):
        raise CsrfError("the form's CSRF token is missing or wrong")


def set_cookie(resp: Response, sid: str, secure: bool) -> None:
    resp.set_cookie(COOKIE, sid, max_age=int(LIFETIME.total_seconds()), httponly=True, samesite="strict",
                    secure=secure, path="/")


def clear_cookie(resp: Response, secure: bool) -> None:
    resp.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=secure, path="/")
