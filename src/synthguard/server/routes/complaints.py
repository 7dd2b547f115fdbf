"""Public complaint routes and pages: no login needed to report (DS-12, DSA-01, US-03).

The complaint form and API, the complainant's status page (ticket + secret, rate limited against brute
force), proof of a complaint or suit (CC-11) and appeals (DSA-08), the published process and time limits
(DS-12, US-03), the public "check a file" page (CA SB 942 / EU-11 public detection), refutation pages (DS-11)
and the viewer's notices on an item.  Forms carry a CSRF token bound to a cookie (double submit, signed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer

from synthguard.auth import _TENANT, authenticate, known_tenant
from synthguard.core import SynthGuard
from synthguard.errors import (
    InputError,
    MediaTooLargeError,
    NotFoundError,
    SynthGuardError,
    UnsupportedMediaError,
)
from synthguard.i18n import N_, current
from synthguard.limits import check_nesting
from synthguard.moderation.policy import Policy
from synthguard.server.deps import SG, Ident, public_work
from synthguard.server.i18n import templates  # the one i18n-aware environment for every page
from synthguard.server.ratelimit import limit, limit_client
from synthguard.server.session import CsrfError

router = APIRouter(tags=["complaints"])
CSRF_COOKIE = "sg_csrf"
CSRF_AGE = 2 * 3600
MAX_JSON = 64 * 1024
_bearer = HTTPBearer(auto_error=False)


# --- CSRF (signed double submit) ---------------------------------------------------------------------
def signer(sg: SynthGuard, purpose: str) -> URLSafeTimedSerializer:
    key = hmac.new(sg.keys.integrity, f"moderation-web:{purpose}".encode(), hashlib.sha256).hexdigest()
    return URLSafeTimedSerializer(key, salt=purpose)


def csrf_pair(sg: SynthGuard, request: Request) -> tuple[str, str]:
    """(cookie nonce, form token); the nonce is reused while the cookie lives."""
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(16)
    return nonce, signer(sg, "csrf").dumps(nonce)


def check_csrf(sg: SynthGuard, request: Request, token: str | None) -> None:
    nonce = request.cookies.get(CSRF_COOKIE)
    try:
        value = signer(sg, "csrf").loads(token or "", max_age=CSRF_AGE)
    except BadSignature:
        raise CsrfError("the form's CSRF token is missing, forged or expired") from None
    if not nonce or not hmac.compare_digest(str(value), nonce):
        raise CsrfError("the form's CSRF token does not match this browser")


def secure_cookies(sg: SynthGuard, request: Request) -> bool:
    """``Secure`` cookies over TLS: the request's scheme (X-Forwarded-Proto from a trusted proxy counts), or the
    ``secure_cookies`` setting when the operator knows better (issue 18 finding 11)."""
    if sg.settings.secure_cookies is not None:
        return sg.settings.secure_cookies
    return request.url.scheme == "https"


def page(sg: SynthGuard, request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a page with a fresh CSRF token and its cookie."""
    nonce, token = csrf_pair(sg, request)
    resp = templates.TemplateResponse(request, name, ctx | {"csrf": token}, status_code=status)
    resp.set_cookie(CSRF_COOKIE, nonce, max_age=CSRF_AGE, httponly=True, samesite="strict",
                    secure=secure_cookies(sg, request))
    resp.headers["Cache-Control"] = "no-store"
    return resp


def client_of(request: Request) -> str:
    return request.client.host if request.client else "-"


async def json_body(request: Request) -> dict[str, Any]:
    """A JSON object body: 415 for another content type, 400 for malformed JSON (never a 500)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise UnsupportedMediaError("expected Content-Type application/json, got {ctype!r}",
                                    hint="Send the complaint as a JSON object.", values={"ctype": ctype or "none"})
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_JSON:  # refused before reading (issue 18 finding 16)
        raise MediaTooLargeError("the JSON body is over {limit} bytes", values={"limit": MAX_JSON})
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON:  # chunked, or a Content-Length that lied
            raise MediaTooLargeError("the JSON body is over {limit} bytes", values={"limit": MAX_JSON})
    # json.loads recurses: refuse deep nesting first
    check_nesting(bytes(raw), what="JSON body", error=InputError, hint="Send a flat JSON object.")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("malformed JSON: {exc}", hint="Send a valid JSON object.", values={"exc": exc}) from None
    if not isinstance(data, dict):
        raise InputError("the JSON body must be an object")
    return data


def _known(sg: SynthGuard, value: Any) -> str:
    """The tenant a public complaint names, if it exists (finding 6: made-up tenants are refused)."""
    tenant = _tenant(value)
    if not known_tenant(sg.db, tenant):
        raise NotFoundError("no platform {tenant!r} takes complaints here", values={"tenant": tenant},
                            hint=N_("Check the link you followed; it names the platform."))
    return tenant


def _tenant(value: Any) -> str:
    t = value if isinstance(value, str) and value else "default"
    if not _TENANT.match(t):
        raise InputError("bad tenant {tenant!r}", values={"tenant": t})
    return t


# --- the complaint API and form --------------------------------------------------------------------------
@router.post("/v1/complaints", status_code=201)
async def submit_complaint(request: Request, sg: SG,
                           creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                           ) -> dict[str, Any]:
    """File a complaint, victim notice or (with a regulator token) a regulator request. No login needed.

    Returns the ticket and its secret (shown once): the status page needs both."""
    role, tenant = None, None
    if creds is not None:  # a token pays from its own bucket (finding 12), the public from its address's
        p = authenticate(sg.db, creds.credentials)
        limit(request, p)
        role, tenant = p.role.value, p.tenant
    else:
        limit_client(request)
    data = await json_body(request)
    if tenant is None:
        tenant = _known(sg, data.get("tenant"))
    return sg.moderation.submit(tenant, data, role=role, actor=f"{role or 'public'}")


@router.post("/v1/complaints/status")
async def complaint_status(request: Request, sg: SG) -> dict[str, Any]:
    """The complainant's view by ticket + secret; 429 after repeated wrong secrets."""
    data = await json_body(request)
    return sg.moderation.status(str(data.get("ticket", "")), str(data.get("secret", "")), client=client_of(request))


@router.get("/report", response_class=HTMLResponse, include_in_schema=False)
def report_form(request: Request, sg: SG, tenant: str = "default", location: str = "") -> HTMLResponse:
    return page(sg, request, "mod_report.html", {"policy": sg.moderation.policy, "tenant": _tenant(tenant),
                                                 "location": location[:2000], "form": {}})


@router.post("/report", response_class=HTMLResponse, include_in_schema=False)
async def report_submit(request: Request, sg: SG) -> HTMLResponse:
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    tenant = data.pop("tenant", None)
    try:
        check_csrf(sg, request, data.pop("csrf", None))
        limit_client(request)
        tenant = _known(sg, tenant)
        receipt = sg.moderation.submit(tenant, data)
    except SynthGuardError as exc:
        safe = tenant if isinstance(tenant, str) and len(tenant) <= 64 else "default"
        return page(sg, request, "mod_report.html", {"policy": sg.moderation.policy, "tenant": safe,
                                                     "location": data.get("location", ""), "form": data,
                                                     "error": exc.to_dict(current())}, exc.http_status)
    return page(sg, request, "mod_receipt.html", {"receipt": receipt})


@router.get("/complaints/status", response_class=HTMLResponse, include_in_schema=False)
def status_form(request: Request, sg: SG) -> HTMLResponse:
    return page(sg, request, "mod_status.html", {})


@router.post("/complaints/status", response_class=HTMLResponse, include_in_schema=False)
async def status_page(request: Request, sg: SG, ticket: Annotated[str, Form(max_length=32)],
                      secret: Annotated[str, Form(max_length=64)], csrf: Annotated[str, Form()] = "",
                      op: Annotated[str, Form()] = "view", reason: Annotated[str, Form(max_length=2000)] = "",
                      proof: Annotated[UploadFile | None, File()] = None) -> HTMLResponse:
    """View the status; also answer a counter-notice with proof of suit (CC-11) or appeal a dismissal (DSA-08)."""
    mod = sg.moderation
    try:
        check_csrf(sg, request, csrf)
        if op == "proof":
            data = proof.file.read(sg.settings.max_bytes + 1) if proof is not None else b""
            if len(data) > sg.settings.max_bytes:
                raise MediaTooLargeError("the proof file is over the limit of {max_bytes:,} bytes",
                                         values={"max_bytes": sg.settings.max_bytes})
            view = mod.prove_suit(ticket, secret, data, client=client_of(request))
        elif op == "appeal":
            view = mod.appeal(ticket, secret, reason, client=client_of(request))
        else:
            view = mod.status(ticket, secret, client=client_of(request))
    except SynthGuardError as exc:
        return page(sg, request, "mod_status.html", {"error": exc.to_dict(current())}, exc.http_status)
    return page(sg, request, "mod_status.html", {"view": view, "ticket": ticket, "secret": secret})


# --- published process, public checks, refutations, viewer notices -------------------------------------
def process_rows(policy: Policy) -> list[dict[str, Any]]:
    return [{"id": t.id, "title": t.title, "hours": t.deadline_hours, "takedown": t.takedown,
             "required": ", ".join(t.required), "cite": ", ".join(t.cite)}
            for t in policy.complaint_types.values() if not t.roles]


@router.get("/process", response_class=HTMLResponse, include_in_schema=False)
def process(request: Request, sg: SG) -> HTMLResponse:
    """The published handling process and time limits (DS-12, US-03)."""
    pol = sg.moderation.policy
    return page(sg, request, "mod_process.html", {"policy": pol, "rows": process_rows(pol)})


@router.get("/v1/process")
def process_json(sg: SG) -> dict[str, Any]:
    pol = sg.moderation.policy
    return {"jurisdiction": pol.jurisdiction, "version": pol.version, "title": pol.title,
            "counter_notice_days": pol.counter_notice_days, "appeal_window_days": pol.appeal_window_days,
            "complaint_types": process_rows(pol)}


PLAIN = {  # marked N_: the page shows them in the reader's language (issue 12)
    "ai_generated": N_("This file carries an AI-generation label (metadata, watermark or signed manifest): "
                       "it was made or changed with AI."),
    "possibly_ai": N_("The uploader declared this file as AI-generated; no label was found in the file itself."),
    "suspected_ai": N_("We found traces of AI generation (for example a watermark or a visible AI label), but "
                       "no complete label. It is probably AI-generated."),
    "none": N_("We found no AI label or trace. That does not prove the file is authentic: labels can be removed."),
}


@router.get("/check", response_class=HTMLResponse, include_in_schema=False)
def check_form(request: Request, sg: SG) -> HTMLResponse:
    return page(sg, request, "mod_check.html", {})


@router.post("/check", response_class=HTMLResponse, include_in_schema=False)
def check_file(request: Request, sg: SG, file: Annotated[UploadFile, File()],
               csrf: Annotated[str, Form()] = "") -> HTMLResponse:
    """Anyone may check a file: the scan's verdict explained in plain language. Nothing is stored."""
    try:
        check_csrf(sg, request, csrf)
        result = public_work(sg, request, file, "check")
    except SynthGuardError as exc:
        return page(sg, request, "mod_check.html", {"error": exc.to_dict(current())}, exc.http_status)
    # the verdict only: whether a file matches removed content (perhaps a victim's) is not public information
    return page(sg, request, "mod_check.html", {"result": result, "plain": PLAIN[result["verdict"]]})


@router.get("/refutations/{slug}", response_class=HTMLResponse, include_in_schema=False)
def refutation_page(request: Request, sg: SG, slug: Ident) -> HTMLResponse:
    try:
        r = sg.moderation.refutation(slug)
    except SynthGuardError as exc:
        return page(sg, request, "mod_refutation.html", {"error": exc.to_dict(current())}, exc.http_status)
    return page(sg, request, "mod_refutation.html", {"r": r})


@router.get("/v1/refutations/{slug}")
def refutation_json(sg: SG, slug: Ident) -> dict[str, Any]:
    """A public refutation notice (DS-11)."""
    return sg.moderation.refutation(slug)


@router.get("/v1/public/content/{tenant}/{ref}")
def viewer_notices(sg: SG, tenant: Ident, ref: Ident) -> dict[str, Any]:
    """What viewers see next to an item: labels, notices, refutations, availability (DS-11, LM-13)."""
    return sg.moderation.notices(_tenant(tenant), ref)


@router.get("/c/{tenant}/{ref}", response_class=HTMLResponse, include_in_schema=False)
def viewer_page(request: Request, sg: SG, tenant: Ident, ref: Ident) -> HTMLResponse:
    try:
        v = viewer_notices(sg, tenant, ref)
    except SynthGuardError as exc:
        return page(sg, request, "mod_content.html", {"error": exc.to_dict(current())}, exc.http_status)
    return page(sg, request, "mod_content.html", {"v": v, "tenant": tenant})


@router.get("/c/{tenant}/{ref}/media", include_in_schema=False)
def viewer_media(sg: SG, tenant: Ident, ref: Ident) -> Response:
    """The item itself while it is available; 404 once removed (the stored copy stays for the case)."""
    data, mime = sg.moderation.public_media(_tenant(tenant), ref)
    return Response(data, media_type=mime, headers={"X-Content-Type-Options": "nosniff"})
