"""Consent routes (DS-15, PI-03/06/07/11/13): enrol, grant, revoke, check, export, erase; protected persons; pages.

API (Bearer token): providers and admins manage their tenant's subjects and grants and run the gate; victims,
platforms and admins register protected persons (files, or embeddings computed on the person's device).  Another
tenant's subject or grant is a 404, exactly as a missing one.  The pages (``/consent``) work in the session opened
at ``/signin`` (server/session.py: the token is typed once there, never in these forms), every form with the
session's CSRF token, and call the same registry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from synthguard.auth import Principal, Role
from synthguard.consent.ownership import verify_request
from synthguard.consent.registry import parse_expiry
from synthguard.errors import NotFoundError, SynthGuardError
from synthguard.i18n import N_, current
from synthguard.server import session
from synthguard.server.deps import SG, CurrentPrincipal, Ident, IdentQuery, upload_media
from synthguard.server.i18n import templates  # the i18n-aware environment every page uses

router = APIRouter(prefix="/v1/consent", tags=["consent"])
pages = APIRouter(include_in_schema=False)

MANAGERS = (Role.PROVIDER, Role.ADMIN)
PROTECTORS = (Role.VICTIM, Role.PLATFORM, Role.ADMIN)


def _managers(p: CurrentPrincipal) -> Principal:
    return p.require(*MANAGERS)


def _protectors(p: CurrentPrincipal) -> Principal:
    return p.require(*PROTECTORS)


def _holders(p: CurrentPrincipal) -> Principal:
    return p.require(*MANAGERS, *PROTECTORS)


Manager = Annotated[Principal, Depends(_managers)]
Protector = Annotated[Principal, Depends(_protectors)]
Holder = Annotated[Principal, Depends(_holders)]
Files = Annotated[list[UploadFile] | None, File()]


class Embedding(BaseModel):
    modality: str = Field(pattern="^(face|voice)$")
    model: str = Field(max_length=64)
    model_sha256: str | None = Field(None, max_length=64)
    embedding: list[float] = Field(min_length=1, max_length=256)


class ProtectedPerson(BaseModel):
    subject: str = Field(min_length=1, max_length=100, description="A pseudonym for the person.")
    signing_key: str | None = Field(None, max_length=4096,
                                    description="The person's Ed25519 public key (PEM): proves later export and "
                                                "erasure requests made by the person.")
    embeddings: list[Embedding] = Field(min_length=1, max_length=16,
                                        description="From `synthguard consent embed` on the person's own device.")


@router.post("/subjects", status_code=201)
def enroll(sg: SG, p: Manager, subject: Annotated[str, Form(max_length=100)], faces: Files = None,
           voices: Files = None, signing_key: Annotated[str | None, Form(max_length=4096)] = None,
           keep_media: Annotated[bool, Form()] = False) -> dict[str, Any]:
    """Enrol a subject from reference photos / voice samples (only embeddings are kept unless keep_media)."""
    return sg.consent.enroll(subject, faces=[upload_media(sg, f) for f in faces or []],
                             voices=[upload_media(sg, f) for f in voices or []], signing_key=signing_key,
                             keep_media=keep_media, tenant=p.tenant)


@router.get("/subjects")
def subjects(sg: SG, p: Manager) -> list[dict[str, Any]]:
    return sg.consent.subjects(tenant=p.tenant)


def _new_or_proved(sg: Any, p: Principal, subject: str, request: Request) -> None:
    """Adding templates to an existing person is the person's (or an admin's) act, not any victim token's."""
    try:
        sg.consent.subject(subject, tenant=p.tenant)
    except NotFoundError:
        return
    _prove(sg, p, subject, "enrol", request)


@router.post("/protected", status_code=201)
def protect(sg: SG, p: Protector, body: ProtectedPerson, request: Request) -> dict[str, Any]:
    """Register a protected person from embeddings computed locally: no photo or recording is sent."""
    _new_or_proved(sg, p, body.subject, request)
    return sg.consent.enroll(body.subject, embeddings=[e.model_dump() for e in body.embeddings], protected=True,
                             tenant=p.tenant, signing_key=body.signing_key)


@router.post("/protected/files", status_code=201)
def protect_files(sg: SG, p: Protector, request: Request, subject: Annotated[str, Form(max_length=100)],
                  faces: Files = None, voices: Files = None,
                  signing_key: Annotated[str | None, Form(max_length=4096)] = None) -> dict[str, Any]:
    """Register a protected person from photos / recordings (embedded on the server, then discarded)."""
    _new_or_proved(sg, p, subject, request)
    return sg.consent.enroll(subject, faces=[upload_media(sg, f) for f in faces or []],
                             voices=[upload_media(sg, f) for f in voices or []], protected=True, tenant=p.tenant,
                             signing_key=signing_key)


@router.post("/challenges", status_code=201)
def challenge(sg: SG, p: Manager, subject: Annotated[str, Form()], to: Annotated[str, Form(max_length=128)],
              purpose: Annotated[str, Form(max_length=64)]) -> dict[str, Any]:
    return sg.consent.challenge(subject, grantee=to, purpose=purpose, tenant=p.tenant)


@router.post("/grants", status_code=201)
def grant(sg: SG, p: Manager, subject: Annotated[str, Form()], to: Annotated[str, Form(max_length=128)],
          purpose: Annotated[str, Form(max_length=64)], evidence: Annotated[UploadFile, File()],
          expires: Annotated[str | None, Form(max_length=40)] = None,
          challenge: Annotated[str | None, Form(max_length=40)] = None,
          scope: Annotated[str, Form(max_length=2000)] = "",
          modalities: Annotated[list[str] | None, Form()] = None) -> dict[str, Any]:
    """Record separate consent after verifying the evidence (signed statement or spoken challenge)."""
    return sg.consent.grant(subject, grantee=to, purpose=purpose, evidence=upload_media(sg, evidence),
                            expires=parse_expiry(expires), challenge=challenge, scope=scope, modalities=modalities,
                            tenant=p.tenant)


@router.get("/grants")
def grants(sg: SG, p: Manager, subject: IdentQuery = None) -> list[dict[str, Any]]:
    return sg.consent.grants(subject_id=subject, tenant=p.tenant)


@router.get("/grants/{grant_id}")
def get_grant(sg: SG, p: Manager, grant_id: Ident) -> dict[str, Any]:
    return sg.consent.get_grant(grant_id, tenant=p.tenant)


@router.post("/grants/{grant_id}/revoke")
def revoke(sg: SG, p: Manager, grant_id: Ident, reason: Annotated[str, Form(max_length=64)] = "withdrawn"
           ) -> dict[str, Any]:
    """Withdraw consent (PI-03): effective for the next check."""
    return sg.consent.revoke(grant_id, reason=reason, tenant=p.tenant)


def _prove(sg: Any, p: Principal, subject: str, action: str, request: Request | None) -> None:
    """Admins act on anyone of their tenant; anyone else must present a request signed by the person's key."""
    if p.role is Role.ADMIN:
        return
    headers = request.headers if request is not None else {}
    verify_request(headers.get("x-subject-request"), headers.get("x-subject-signature"), action=action,
                   subject=subject, tenant=p.tenant, registered_key=sg.consent.signing_key(subject, tenant=p.tenant),
                   now=datetime.now(UTC))


def _holder(sg: Any, p: Principal, subject: str, action: str, request: Request | None) -> str:
    """Consent subjects: providers and admins of the tenant.  Protected persons (biometric data possibly registered
    by someone else): only the person, proved by their key, or an admin (issue 18 finding 4, PI-06, PI-11, PI-13).
    Anything else is a 404, as for a subject that does not exist."""
    info = sg.consent.subject(subject, tenant=p.tenant)
    if info["protected"]:
        if not info["erased_at"]:  # erased: nothing personal is left (export answers 410)
            _prove(sg, p, subject, action, request)
    elif p.role not in MANAGERS:
        raise NotFoundError("no subject {subject!r}", values={"subject": subject})
    return p.tenant


@router.get("/subjects/{subject}/export")
def export(sg: SG, p: Holder, subject: Ident, request: Request) -> dict[str, Any]:
    """Everything held on the subject (PI-11, GDPR Arts. 15/20); logged in the ledger with who asked."""
    tenant = _holder(sg, p, subject, "export", request)
    return sg.consent.export(subject, tenant=tenant, actor=p.role.value)


@router.delete("/subjects/{subject}")
def erase(sg: SG, p: Holder, subject: Ident, request: Request) -> dict[str, Any]:
    """Erase the subject (PI-13, GDPR Art. 17); the ledger still verifies."""
    return sg.consent.erase(subject, tenant=_holder(sg, p, subject, "erase", request))


@router.post("/check")
def check(sg: SG, p: Manager, sources: Annotated[list[UploadFile], File()], purpose: Annotated[str, Form()],
          user: Annotated[str, Form(max_length=128)], targets: Files = None) -> dict[str, Any]:
    """The consent gate: 200 with the decision when allowed, 403 ConsentDeniedError with every person on deny."""
    return sg.consent_gate.enforce([upload_media(sg, f) for f in sources], purpose=purpose, user=user,
                                   tenant=p.tenant, targets=[upload_media(sg, f) for f in targets or []],
                                   log_allow=False).to_dict()


# --- web pages: forms of the signed-in session (server/session.py), each with the session's CSRF token --------
@pages.get("/consent", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    """The consent forms a signed-in role may use; a sign-in link otherwise (no token is ever typed here)."""
    user = session.current(request)
    role = user.principal.role if user else None
    resp = templates.TemplateResponse(request, "consent_index.html", {
        "account": user, "csrf": user.csrf if user else "", "can_manage": role in MANAGERS,
        "can_protect": role in PROTECTORS})
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _page_principal(request: Request, csrf: str, roles: tuple[Role, ...]) -> Principal:
    """The session's principal for a consent form: 401 when not signed in, 403 for another role or a wrong CSRF
    token; charged to the token's rate bucket like the API (finding 12)."""
    user = session.require(request, *roles)
    session.check_csrf(user, csrf)
    return user.principal


def _render(request: Request, title: str, run: Any) -> HTMLResponse:
    try:
        result = run()
    except SynthGuardError as exc:
        return templates.TemplateResponse(request, "consent_result.html",
                                          {"title": title, "error": exc.to_dict(current()),
                                           "signin": exc.http_status == 401},
                                          status_code=exc.http_status)
    return templates.TemplateResponse(request, "consent_result.html", {"title": title, "result": result})


Csrf = Annotated[str, Form(max_length=200)]


@pages.post("/consent/enroll", response_class=HTMLResponse)
def page_enroll(request: Request, sg: SG, subject: Annotated[str, Form(max_length=100)], csrf: Csrf = "",
                faces: Files = None, voices: Files = None,
                protected: Annotated[bool, Form()] = False) -> HTMLResponse:
    def run() -> Any:
        p = _page_principal(request, csrf, PROTECTORS if protected else MANAGERS)
        return sg.consent.enroll(subject, faces=[upload_media(sg, f) for f in faces or [] if f.filename],
                                 voices=[upload_media(sg, f) for f in voices or [] if f.filename],
                                 protected=protected, tenant=p.tenant)
    return _render(request, N_("Protected person registered") if protected else N_("Subject enrolled"), run)


@pages.post("/consent/grant", response_class=HTMLResponse)
def page_grant(request: Request, sg: SG, subject: Annotated[str, Form(max_length=100)],
               to: Annotated[str, Form(max_length=128)], purpose: Annotated[str, Form(max_length=64)],
               evidence: Annotated[UploadFile, File()], csrf: Csrf = "",
               expires: Annotated[str, Form(max_length=40)] = "", challenge: Annotated[str, Form(max_length=40)] = ""
               ) -> HTMLResponse:
    def run() -> Any:
        p = _page_principal(request, csrf, MANAGERS)
        return sg.consent.grant(subject, grantee=to, purpose=purpose, evidence=upload_media(sg, evidence),
                                expires=parse_expiry(expires or None), challenge=challenge or None, tenant=p.tenant)
    return _render(request, N_("Consent granted"), run)


@pages.post("/consent/revoke", response_class=HTMLResponse)
def page_revoke(request: Request, sg: SG, grant_id: Annotated[str, Form(max_length=256)], csrf: Csrf = ""
                ) -> HTMLResponse:
    def run() -> Any:
        return sg.consent.revoke(grant_id, tenant=_page_principal(request, csrf, MANAGERS).tenant)
    return _render(request, N_("Consent revoked"), run)


@pages.post("/consent/export", response_class=HTMLResponse)
def page_export(request: Request, sg: SG, subject: Annotated[str, Form(max_length=256)], csrf: Csrf = ""
                ) -> HTMLResponse:
    def run() -> Any:
        p = _page_principal(request, csrf, MANAGERS)
        return sg.consent.export(subject, tenant=_holder(sg, p, subject, "export", None), actor=p.role.value)
    return _render(request, N_("Data export"), run)
