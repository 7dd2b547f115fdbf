"""Moderation API (bearer tokens) and the review console (server-rendered pages, signed session cookie).

Roles: platform registers uploads, files counter-notices, runs the sweeper and reads the outbox; reviewer
claims and decides cases; admin does both; regulator reads the queue, cases and reports (read-only).
Tenants are isolated: another tenant's case is a 404 as for a missing one.  The console is used after signing in
at /signin with an API token once (server/session.py: a server-side session; the token itself is never stored or
logged); every console form carries the session's CSRF token.  Media previews are blurred and muted until the
reviewer clicks to reveal, and each reveal is a case-history row (and a ledger entry).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from synthguard.auth import Principal, Role
from synthguard.errors import AuthError, UnsupportedMediaError
from synthguard.i18n import _
from synthguard.moderation.reports import render
from synthguard.server import session
from synthguard.server.deps import SG, CaseRef, CurrentPrincipal, Ident, RowId, upload_media
from synthguard.server.routes.complaints import CsrfError, json_body, templates

router = APIRouter(tags=["moderation"])
CONSOLE_ROLES = session.CONSOLE
DECIDERS = (Role.REVIEWER, Role.ADMIN)
READERS = (Role.REVIEWER, Role.ADMIN, Role.REGULATOR)
PLATFORM = (Role.PLATFORM, Role.ADMIN)


def _gate(*roles: Role) -> Callable[[Principal], Principal]:
    def gate(p: CurrentPrincipal) -> Principal:
        return p.require(*roles)

    return gate


Decider = Annotated[Principal, Depends(_gate(*DECIDERS))]
Reader = Annotated[Principal, Depends(_gate(*READERS))]
Platform = Annotated[Principal, Depends(_gate(*PLATFORM))]
ReportReader = Annotated[Principal, Depends(_gate(Role.REGULATOR, Role.ADMIN, Role.PLATFORM))]


def actor(p: Principal) -> str:
    return f"{p.role.value}:{p.token_id}:{p.name}"[:128]


# --- API ---------------------------------------------------------------------------------------------
@router.post("/v1/moderation/content", status_code=201)
def register_content(sg: SG, p: Platform, file: Annotated[UploadFile, File(description="The upload.")],
                     ref: Annotated[str, Form(max_length=128, description="The platform's content id.")],
                     uploader: Annotated[str | None, Form(max_length=128)] = None,
                     uploader_email: Annotated[str | None, Form(max_length=320)] = None,
                     declared_ai: Annotated[bool, Form()] = False) -> dict[str, Any]:
    """Register an upload: scan, apply the policy, keep it for review; 403 when a stay-down bank matches.

    415 when the declared content type contradicts the bytes (e.g. text sent as image/png)."""
    media = upload_media(sg, file)
    declared = (file.content_type or "").split(";")[0].strip().lower()
    if declared not in ("", "application/octet-stream") and declared.split("/")[0] != media.mime.split("/")[0]:
        raise UnsupportedMediaError("the upload is declared as {declared} but its bytes are {mime}",
                                    hint="Send the file with its real content type.",
                                    values={"declared": declared, "mime": media.mime})
    return sg.moderation.register(p.tenant, ref, media, uploader=uploader,
                                  uploader_email=uploader_email, declared_ai=declared_ai, actor=actor(p))


@router.get("/v1/moderation/content/{ref}")
def get_content(sg: SG, p: CurrentPrincipal, ref: Ident) -> dict[str, Any]:
    p.require(Role.PLATFORM, *READERS)
    return sg.moderation.content(p.tenant, ref)


@router.get("/v1/moderation/queue")
def get_queue(sg: SG, p: Reader) -> list[dict[str, Any]]:
    """Waiting and in-review cases, most urgent deadline first."""
    return sg.moderation.queue(p.tenant)


@router.post("/v1/moderation/claim", response_model=None)
def claim_next(sg: SG, p: Decider) -> dict[str, Any] | Response:
    """Claim the most urgent waiting case (204 when the queue is empty); never one another reviewer holds."""
    got = sg.moderation.claim(p.tenant, actor(p))
    return got if got is not None else Response(status_code=204)


@router.get("/v1/moderation/cases/{case_id}")
def get_case(sg: SG, p: Reader, case_id: CaseRef) -> dict[str, Any]:
    return sg.moderation.case(p.tenant, case_id)


@router.post("/v1/moderation/cases/{case_id}/claim")
def claim_case(sg: SG, p: Decider, case_id: RowId) -> dict[str, Any]:
    got = sg.moderation.claim(p.tenant, actor(p), case_id)
    assert got is not None
    return got


@router.post("/v1/moderation/cases/{case_id}/release")
def release_case(sg: SG, p: Decider, case_id: CaseRef) -> dict[str, Any]:
    return sg.moderation.release(p.tenant, case_id, actor(p))


@router.post("/v1/moderation/cases/{case_id}/actions")
async def act(request: Request, sg: SG, p: Decider, case_id: CaseRef) -> dict[str, Any]:
    """Decide: ``{"action", "reason_code", "note"?, "report_decision"?, "refutation"?: {"title", "text"}}``."""
    data = await json_body(request)
    ref = data.get("refutation")
    return sg.moderation.act(p.tenant, case_id, actor(p), str(data.get("action", "")),
                             str(data.get("reason_code", "")), note=str(data.get("note") or "")[:5000],
                             report_decision=data.get("report_decision"),
                             refutation=ref if isinstance(ref, dict) else None)


@router.post("/v1/moderation/cases/{case_id}/close")
def close_case(sg: SG, p: Decider, case_id: CaseRef) -> dict[str, Any]:
    return sg.moderation.close(p.tenant, case_id, actor(p))


@router.post("/v1/moderation/cases/{case_id}/reveal")
def reveal(sg: SG, p: Decider, case_id: CaseRef) -> dict[str, Any]:
    return sg.moderation.reveal(p.tenant, case_id, actor(p))


@router.get("/v1/moderation/cases/{case_id}/media")
def media(sg: SG, p: Decider, case_id: CaseRef, view: Literal["full", "blurred"] = "full") -> Response:
    """The media of a case: ``full`` only for the reviewer who claimed it, logged as a reveal (finding 9)."""
    data, mime = sg.moderation.media(p.tenant, case_id, actor(p), blurred=view == "blurred")
    return Response(data, media_type=mime, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/v1/moderation/cases/{case_id}/counter-notice")
async def counter_notice(request: Request, sg: SG, p: Platform, case_id: CaseRef) -> dict[str, Any]:
    """The uploader's counter-notice (CC-11), filed by the platform on their behalf."""
    return sg.moderation.counter_notice(p.tenant, case_id, await json_body(request), actor=actor(p))


@router.post("/v1/moderation/sweep")
def sweep(sg: SG, p: Platform) -> dict[str, Any]:
    """Fire due SLA alerts and CC-11 restorations for the tenant."""
    return sg.moderation.sweep(p.tenant)


@router.get("/v1/moderation/outbox")
def outbox(sg: SG, p: Platform, pending: bool = False) -> list[dict[str, Any]]:
    return sg.moderation.outbox(p.tenant, pending_only=pending)


@router.get("/v1/moderation/report", response_model=None)
def report(sg: SG, p: ReportReader, period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
           format: Annotated[str, Query(pattern="^(cac|dsa-sor|csv|html|pdf|json)$")] = "json") -> Any:
    """Counts, time-to-action, refutations and disposals for a month; DSA statements of reasons (DSA-11)."""
    rep = sg.moderation.report(p.tenant, period)
    if format == "json":
        return rep
    body, mime = render(rep, format)
    return Response(body, media_type=mime)


# --- console session -----------------------------------------------------------------------------------
def console_principal(request: Request, sg: SG) -> tuple[Principal, str]:
    """The console user from the web session (server/session.py: signed in once at /signin with an API token;
    a revoked token or a sign-out ends the session at once) and the session's CSRF token.  The console pays
    from the token's rate bucket like the API (finding 12)."""
    user = session.require(request, *CONSOLE_ROLES)
    return user.principal, user.csrf


Console = Annotated[tuple[Principal, str], Depends(console_principal)]


def check_console_csrf(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected, given):
        raise CsrfError("the console form's CSRF token is missing or wrong")


def _console_or_signin(request: Request, sg: SG) -> tuple[Principal, str] | Response:
    """For the console's pages: the console user and CSRF token, or, when nobody is signed in, the redirect to
    /signin that comes back here; a signed-in user of another role still gets the 403 page."""
    try:
        return console_principal(request, sg)
    except AuthError as exc:
        if exc.http_status != 401:
            raise  # signed in, but not a console role: the 403 page
        return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)


def _badge(seconds: float | None) -> tuple[str, str]:
    """(text in the request's language, css class) for the time left before a case's deadline."""
    if seconds is None:
        return _("no deadline"), "none"
    if seconds < 0:
        return _("overdue {time}", time=_dur(-seconds)), "overdue"
    return _("{time} left", time=_dur(seconds)), "urgent" if seconds < 12 * 3600 else "ok"


def _dur(seconds: float) -> str:
    h, m = divmod(int(seconds) // 60, 60)
    return _("{d}d {h}h", d=h // 24, h=h % 24) if h >= 48 else _("{h}h {m}m", h=h, m=f"{m:02d}")


@router.get("/console", response_class=HTMLResponse, include_in_schema=False, response_model=None)
def console_queue(request: Request, sg: SG) -> Response:
    signed_in = _console_or_signin(request, sg)
    if isinstance(signed_in, Response):
        return signed_in
    p, token = signed_in
    rows = [c | {"badge": _badge(c["seconds_left"])} for c in sg.moderation.queue(p.tenant)]
    return templates.TemplateResponse(request, "mod_queue.html", {"p": p, "rows": rows, "csrf": token,
                                                                  "can_decide": p.role in DECIDERS})


@router.post("/console/next", include_in_schema=False)
def console_next(sg: SG, console: Console, csrf: Annotated[str, Form()] = "") -> Response:
    p, token = console
    check_console_csrf(token, csrf)
    p.require(*DECIDERS)
    got = sg.moderation.claim(p.tenant, actor(p))
    return RedirectResponse(f"/console/cases/{got['id']}" if got else "/console", status_code=303)


@router.get("/console/cases/{case_id}", response_class=HTMLResponse, include_in_schema=False, response_model=None)
def console_case(request: Request, sg: SG, case_id: RowId) -> Response:
    signed_in = _console_or_signin(request, sg)
    if isinstance(signed_in, Response):
        return signed_in
    p, token = signed_in
    case = sg.moderation.case(p.tenant, case_id)
    mine = case["state"] == "in_review" and case["claimed_by"] == actor(p)
    return templates.TemplateResponse(request, "mod_case.html", {
        "p": p, "c": case, "csrf": token, "mine": mine, "badge": _badge(case["seconds_left"]),
        "can_decide": p.role in DECIDERS, "now": datetime.now(UTC)})


@router.post("/console/cases/{case_id}/claim", include_in_schema=False)
def console_claim(sg: SG, console: Console, case_id: RowId, csrf: Annotated[str, Form()] = "") -> Response:
    p, token = console
    check_console_csrf(token, csrf)
    p.require(*DECIDERS)
    sg.moderation.claim(p.tenant, actor(p), case_id)
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/console/cases/{case_id}/act", include_in_schema=False)
def console_act(sg: SG, console: Console, case_id: RowId, action: Annotated[str, Form(max_length=24)],
                reason_code: Annotated[str, Form(max_length=48)], csrf: Annotated[str, Form()] = "",
                note: Annotated[str, Form(max_length=5000)] = "", title: Annotated[str, Form(max_length=200)] = "",
                text: Annotated[str, Form(max_length=5000)] = "") -> Response:
    p, token = console
    check_console_csrf(token, csrf)
    p.require(*DECIDERS)
    refutation = {"title": title, "text": text} if action == "refute" else None
    sg.moderation.act(p.tenant, case_id, actor(p), action, reason_code, note=note, refutation=refutation)
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/console/cases/{case_id}/reveal", include_in_schema=False)
def console_reveal(sg: SG, console: Console, case_id: RowId, csrf: Annotated[str, Form()] = "") -> dict[str, Any]:
    p, token = console
    check_console_csrf(token, csrf)
    p.require(*DECIDERS)
    return sg.moderation.reveal(p.tenant, case_id, actor(p))


@router.get("/console/cases/{case_id}/media", include_in_schema=False)
def console_media(sg: SG, console: Console, case_id: RowId, view: Literal["full", "blurred"] = "blurred") -> Response:
    p, _ = console
    p.require(*DECIDERS)
    data, mime = sg.moderation.media(p.tenant, case_id, actor(p), blurred=view == "blurred")
    return Response(data, media_type=mime, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
