"""Sign-in and sign-out of the web pages (issue 22): one session for the review console and the consent pages.

``GET /signin`` shows the form; ``POST /signin`` takes the API token once (CSRF-checked, rate limited per client
address like every anonymous route), opens a server-side session (:mod:`synthguard.server.session`) and sends the
browser to the page its role uses.  ``POST /signout`` ends the session for good (CSRF-checked, so another site
cannot sign anyone out).  ``GET /console/login`` (the console's former sign-in page) redirects here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from synthguard import i18n
from synthguard.auth import authenticate
from synthguard.errors import SynthGuardError
from synthguard.i18n import current as current_lang
from synthguard.server import session
from synthguard.server.deps import SG
from synthguard.server.ratelimit import limit_client
from synthguard.server.routes.complaints import check_csrf, client_of, page, secure_cookies
from synthguard.store import web_sessions

router = APIRouter(include_in_schema=False)
Next = Annotated[str, Query()]  # an unusable value is ignored (safe_next), never a 422 to a browser


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, sg: SG, next: Next = "") -> HTMLResponse:
    return page(sg, request, "signin.html", {"next": next[:200], "account": session.current(request),
                                             "signed_out": request.query_params.get("signed_out") == "1"})


@router.post("/signin", response_model=None)
def signin(request: Request, sg: SG, token: Annotated[str, Form(max_length=200)],
           csrf: Annotated[str, Form(max_length=200)] = "", next: Annotated[str, Form(max_length=200)] = ""
           ) -> Response:
    """Trade an API token for a session; a wrong token re-renders the form with the error (401)."""
    try:
        limit_client(request)  # the anonymous limiter: bounds guessing per address (429 with Retry-After)
        check_csrf(sg, request, csrf)
        p = authenticate(sg.db, token.strip())
    except SynthGuardError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if getattr(exc, "retry_after", None) else {}  # type: ignore[attr-defined]
        resp = page(sg, request, "signin.html", {"next": next, "error": exc.to_dict(current_lang()), "account": None},
                    exc.http_status)
        resp.headers.update(headers)
        return resp
    old = request.cookies.get(session.COOKIE)
    if old:  # a new id at every sign-in: a planted cookie never becomes a signed-in one (session fixation)
        web_sessions.end(sg.db, old)
    web_sessions.purge(sg.db)
    sid = web_sessions.open_session(sg.db, p.token_id, lifetime=session.LIFETIME, client=client_of(request))
    done = RedirectResponse(session.safe_next(next, p.role), status_code=303)
    session.set_cookie(done, sid, secure_cookies(sg, request))
    done.headers["Cache-Control"] = "no-store"
    return done


@router.post("/signout", response_model=None)
def signout(request: Request, sg: SG, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """End the session (the cookie is worthless afterwards, even if copied) and clear the cookie."""
    user = session.current(request)
    if user is not None:
        session.check_csrf(user, csrf)  # 403 for a forged sign-out
        web_sessions.end(sg.db, request.cookies.get(session.COOKIE))
    resp = RedirectResponse("/signin?signed_out=1", status_code=303)
    session.clear_cookie(resp, secure_cookies(sg, request))
    return resp


@router.get("/console/login")
def console_login(request: Request) -> RedirectResponse:
    """The console's former sign-in address (bookmarks): the shared sign-in page, back to the console after."""
    lang = i18n.normalize(request.query_params.get("lang"))
    return RedirectResponse("/signin?next=/console" + (f"&lang={lang}" if lang else ""), status_code=303)
