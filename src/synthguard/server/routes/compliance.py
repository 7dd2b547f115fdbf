"""Compliance routes (issue 11): the audit and the Art. 15 assessment as JSON/HTML/PDF, emergency switches
(DS-05), screening (DS-08/09), registers, terms acceptance (DS-06).

Providers and admins see and change only their own tenant's data; regulators and global operators (admin tokens
of tenant ``*``) may audit every tenant; only global operators flip switches for every tenant ("*").  Audit reports
are tenant-scoped the same way as records (LM-24).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from synthguard.auth import Principal, Role
from synthguard.compliance.report import assessment_blocks, audit_blocks, render
from synthguard.errors import ForbiddenError, NotFoundError
from synthguard.server.deps import SG, Ident, IdentQuery, Provider, _role, tenant_user, upload_media
from synthguard.server.i18n import templates  # the shared i18n-aware page environment

router = APIRouter(tags=["compliance"])

Auditor = Annotated[Principal, Depends(_role(Role.PROVIDER, Role.REGULATOR, Role.ADMIN))]
SwitchAdmin = Annotated[Principal, Depends(_role(Role.PROVIDER, Role.ADMIN))]
Format = Literal["json", "html", "pdf"]
MIME = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


class PromptScreen(BaseModel):
    prompt: str = Field(min_length=1, max_length=100_000, description="Only its SHA-256 is stored.")
    content_id: str | None = Field(None, max_length=64)


class SwitchChange(BaseModel):
    enabled: bool
    reason: str = Field(min_length=1, max_length=2000)
    tenant: str | None = Field(None, max_length=256, description="Global operators: a tenant or '*' (default '*'); "
                                                                "providers and tenant admins: their own.")


class LibraryChange(BaseModel):
    list: str = Field(min_length=1, max_length=48)
    value: str = Field(min_length=1, max_length=500)
    kind: Literal["keyword", "pattern"] = "keyword"
    action: Literal["add", "remove"] = "add"
    reason: str = Field(min_length=1, max_length=2000)


class PolicyVersion(BaseModel):
    kind: str = Field(max_length=64)
    version: str = Field(min_length=1, max_length=32)
    owner: str = Field(min_length=1, max_length=128)
    review_due: str = Field(max_length=10, description="YYYY-MM-DD")
    title: str = Field("", max_length=500)
    evidence: str = Field("", max_length=2000)


class TermsText(BaseModel):
    kind: Literal["service_agreement", "first_use_notice"]
    version: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=200_000)


class DatasetIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=2000)
    legal_basis: str | None = Field(None, max_length=500)
    contains_pi: bool = False
    sensitive_pi: bool = False
    consent_refs: list[str] = Field(default_factory=list, max_length=1000)
    retention: str = Field("", max_length=64)


class Lineage(BaseModel):
    model: str = Field(min_length=1, max_length=128)
    dataset: str = Field(min_length=1, max_length=128)


class Acceptance(BaseModel):
    user: str = Field(min_length=1, max_length=128)
    version: str | None = Field(None, max_length=32)


def _scope(p: Principal, tenant: str | None) -> str | None:
    """Providers and tenant admins: their tenant, always.  Regulators and global operators: the tenant asked for,
    or all (issue 18 finding 10: an admin token of tenant A is not an admin of tenant B)."""
    return tenant if p.role is Role.REGULATOR or p.operator else p.tenant


def _as(fmt: Format, blocks: list[Any], data: dict[str, Any], name: str, font_path: Any) -> Any:
    if fmt == "json":
        return data
    return Response(render(blocks, fmt, data, font_path=font_path), media_type=MIME[fmt],
                    headers={"Content-Disposition": f'inline; filename="{name}.{fmt}"'})


@router.get("/v1/compliance/check", response_model=None)
def check(sg: SG, p: Auditor, profile: Literal["cn", "eu", "us"] | None = None,
          since: Annotated[str, Query(max_length=8)] = "30d", tenant: IdentQuery = None, fmt: Format = "json",
          ) -> dict[str, Any] | Response:
    """Audit the deployment (records re-checked; files cannot be re-read over HTTP: use the CLI's --outputs)."""
    data = sg.compliance.check(profile=profile, since=since, tenant=_scope(p, tenant)).to_dict()
    return _as(fmt, audit_blocks(data), data, "compliance", sg.settings.font_path)


@router.get("/v1/compliance/assessment", response_model=None)
def assessment(sg: SG, p: Auditor, since: Annotated[str, Query(max_length=8)] = "30d", tenant: IdentQuery = None,
               fmt: Format = "pdf") -> dict[str, Any] | Response:
    """The DS Art. 15 security assessment of the face/voice tools, with the filing number (DS-17, DS-22)."""
    data = sg.compliance.assessment(since=since, tenant=_scope(p, tenant))
    return _as(fmt, assessment_blocks(data), data, "security-assessment", sg.settings.font_path)


@router.get("/v1/compliance/switches")
def switches(sg: SG, p: SwitchAdmin) -> list[dict[str, Any]]:
    """The switches that apply to the caller's tenant (global operators: all)."""
    return sg.compliance.switches.list(tenant=None if p.operator else p.tenant)


@router.put("/v1/compliance/switches/{feature}")
def flip(sg: SG, p: SwitchAdmin, feature: Ident, body: SwitchChange) -> dict[str, Any]:
    """Turn a feature off or on now (DS-05); labeling requests that need it are refused with 403 at once."""
    if not p.operator:  # providers and tenant admins: their own tenant only (finding 10)
        if body.tenant not in (None, p.tenant):
            raise ForbiddenError("only a global operator may flip switches of another tenant or of every tenant")
        tenant = p.tenant
    else:
        tenant = body.tenant or "*"
    return sg.compliance.switches.set(feature, enabled=body.enabled, reason=body.reason, tenant=tenant,
                                      actor=f"token:{p.token_id}:{p.name}")


@router.post("/v1/screen")
def screen(sg: SG, p: Provider, body: PromptScreen) -> dict[str, Any]:
    """Screen a prompt against the tenant's feature library before generating (DS-08, DS-03); recorded."""
    return sg.compliance.screen.prompt(body.prompt, tenant=p.tenant, content_id=body.content_id).to_dict()


@router.post("/v1/screen/{stage}")
def screen_media(sg: SG, p: Provider, stage: Literal["reference", "output"],
                 file: Annotated[UploadFile, File()],
                 content_id: Annotated[str | None, Form(max_length=64)] = None,
                 purpose: Annotated[str | None, Form(max_length=64)] = None,
                 user: Annotated[str | None, Form(max_length=128)] = None) -> dict[str, Any]:
    """Screen reference media (hash banks; consent gate with purpose and user) or an output before release."""
    media = upload_media(sg, file)
    scr = sg.compliance.screen
    if stage == "output":
        return scr.output(media, tenant=p.tenant, content_id=content_id).to_dict()
    if user is not None:
        tenant_user(sg, p, user)
    return scr.reference(media, tenant=p.tenant, content_id=content_id, purpose=purpose, user=user).to_dict()


@router.get("/v1/compliance/library")
def library(sg: SG, p: Provider) -> dict[str, Any]:
    scr = sg.compliance.screen
    return {"version": scr.version(tenant=p.tenant), "changes": scr.changes(tenant=p.tenant)}


@router.post("/v1/compliance/library", status_code=201)
def library_change(sg: SG, p: Provider, body: LibraryChange) -> dict[str, Any]:
    """Change the feature library; the append-only change log keeps who, when and why (DS-09)."""
    scr = sg.compliance.screen
    fn = scr.add if body.action == "add" else scr.remove
    return fn(body.list, body.value, kind=body.kind, reason=body.reason, actor=f"token:{p.token_id}:{p.name}",
              tenant=p.tenant)


@router.get("/v1/compliance/policies")
def policies(sg: SG, p: Auditor) -> list[dict[str, Any]]:
    return sg.compliance.register.documents(tenant=_scope(p, None))


@router.post("/v1/compliance/policies", status_code=201)
def policy_add(sg: SG, p: Provider, body: PolicyVersion) -> dict[str, Any]:
    """Register a new version of a management-system document (DS-05)."""
    return sg.compliance.register.add(body.kind, body.version, owner=body.owner, review_due=body.review_due,
                                      title=body.title, evidence=body.evidence, tenant=p.tenant,
                                      actor=f"token:{p.token_id}:{p.name}")


@router.get("/v1/compliance/notice")
def notice(sg: SG, p: Provider) -> dict[str, Any]:
    """First-use notice, current agreement version and the filing-number display text (DS-06, DS-22)."""
    return sg.compliance.terms.notice(tenant=p.tenant)


@router.post("/v1/compliance/terms", status_code=201)
def terms_publish(sg: SG, p: Provider, body: TermsText) -> dict[str, Any]:
    """Publish a new version of the service agreement or the first-use notice (DS-06, LM-19)."""
    return sg.compliance.terms.publish(body.kind, body.version, body.text, actor=f"token:{p.token_id}:{p.name}",
                                       tenant=p.tenant)


@router.get("/v1/compliance/datasets")
def datasets(sg: SG, p: Auditor) -> dict[str, Any]:
    """The training-data register and model lineage (DS-14)."""
    tenant = _scope(p, None)
    return {"datasets": sg.compliance.training.datasets(tenant=tenant),
            "models": sg.compliance.training.models(tenant=tenant)}


@router.post("/v1/compliance/datasets", status_code=201)
def dataset_add(sg: SG, p: Provider, body: DatasetIn) -> dict[str, Any]:
    return sg.compliance.training.add(body.name, source=body.source, legal_basis=body.legal_basis,
                                      contains_pi=body.contains_pi, sensitive_pi=body.sensitive_pi,
                                      consent_refs=body.consent_refs, retention=body.retention,
                                      actor=f"token:{p.token_id}:{p.name}", tenant=p.tenant)


@router.post("/v1/compliance/lineage", status_code=201)
def lineage(sg: SG, p: Provider, body: Lineage) -> dict[str, Any]:
    """Record that a model version was trained on a registered data set (DS-14)."""
    return sg.compliance.training.link(body.model, body.dataset, actor=f"token:{p.token_id}:{p.name}",
                                       tenant=p.tenant)


@router.post("/v1/compliance/terms/accept", status_code=201)
def accept(sg: SG, p: Provider, body: Acceptance) -> dict[str, Any]:
    """Record the user's click-through acceptance of the service agreement (DS-06)."""
    tenant_user(sg, p, body.user)
    return sg.compliance.terms.accept(body.user, version=body.version, tenant=p.tenant)


@router.get("/compliance/notice/{tenant}", response_class=HTMLResponse, include_in_schema=False)
def notice_page(request: Request, sg: SG, tenant: Ident) -> HTMLResponse:
    """Public page: the tenant's first-use notice, service agreement and algorithm filing number (DS-06, DS-22).

    Deliberately public: these texts exist to be shown to anyone before they use the service."""
    terms = sg.compliance.terms
    notice = terms.current("first_use_notice", tenant=tenant)
    agreement = terms.current("service_agreement", tenant=tenant)
    if notice is None and agreement is None:
        raise NotFoundError("no notice published for {tenant!r}", values={"tenant": tenant})
    return templates.TemplateResponse(request, "compliance_notice.html", {
        "notice": notice, "agreement": agreement, "filing": terms.notice(tenant=tenant)["filing_display"],
        "settings": sg.settings})
