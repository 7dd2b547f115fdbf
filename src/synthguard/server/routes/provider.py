"""Provider routes: label generated files and manage the tenant's users (DS-07, DS-16..19, DS-20, LM-*).

``POST /v1/label`` answers with the labeled file itself (issue 22: base64 inside JSON made a 173 KB PNG an 825 KB
response); videos are labeled by a job whose file is fetched from a tenant-scoped download URL."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from synthguard.errors import ConflictError, NotFoundError
from synthguard.i18n import N_
from synthguard.identity import Method
from synthguard.server.deps import SG, Ident, Provider, tenant_user, upload_media
from synthguard.server.errors import stored_error_view

router = APIRouter(prefix="/v1", tags=["provider"])


class NewUser(BaseModel):
    id: str = Field(min_length=1, max_length=128, description="The provider's pseudonymous account id.")


class Verification(BaseModel):
    method: Method
    identifier: str | None = Field(None, max_length=256, description="Stored only as a salted hash.")
    reference: str | None = Field(None, max_length=128, description="The verifying service's transaction id.")


Responses = dict[int | str, dict[str, Any]]  # FastAPI's ``responses=`` (OpenAPI response objects by status)
LABEL_202: Responses = {202: {"description": "A video: queued as a job; poll ``status_url``, fetch ``download_url``."}}
FILE_200: Responses = {200: {"description": "The labeled file (``Content-Disposition: attachment``); the record id "
                                            "and the label summary in ``X-SynthGuard-*`` headers.",
                             "content": {"application/octet-stream": {}, "application/json": {}}}}


def _wants_json(request: Request, download: bool | None) -> bool:
    """The JSON body with the file in base64 (the form before issue 22, kept for clients that ask for it): with
    ``download=false``, or an ``Accept`` header that names application/json and not the file's type or ``*/*``
    before it.  Everything else gets the file itself."""
    if download is not None:
        return not download
    accept = request.headers.get("accept", "").lower()
    json_at = accept.find("application/json")
    if json_at < 0:
        return False
    others = [accept.find(t) for t in ("*/*", "image/", "audio/", "video/", "text/", "application/octet-stream")]
    return all(i < 0 or i > json_at for i in others)


def _ascii(value: str) -> str:
    return value.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")


def summary_headers(body: dict[str, Any]) -> dict[str, str]:
    """The record id and the label summary as response headers (HTTP headers are ASCII: values are cut to it)."""
    return {"X-SynthGuard-Content-Id": str(body["content_id"]),
            "X-SynthGuard-Marks": ",".join(body.get("marks") or []),
            "X-SynthGuard-Ledger-Index": str(body.get("ledger_index", "")),
            "X-SynthGuard-Sha256": str(body.get("sha256", "")),
            "X-SynthGuard-Producer": _ascii(str(body.get("producer", ""))),
            "X-SynthGuard-Result": json.dumps(body, ensure_ascii=True, separators=(",", ":")),
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def file_response(data: bytes, mime: str, filename: str, body: dict[str, Any]) -> Response:
    return Response(data, media_type=mime, headers=summary_headers(body) | {
        "Content-Disposition": f'attachment; filename="{_ascii(filename)}"'})


@router.post("/label", response_model=None, responses=FILE_200 | LABEL_202)
def label(
    request: Request, sg: SG, p: Provider, background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="The generated file: image, audio, video or text.")],
    user: Annotated[str, Form(min_length=1, max_length=128, description="Account that generated it (DS-07).")],
    producer: Annotated[str | None, Form(description="Provider code (GB-14); default: the server's.")] = None,
    model: Annotated[str | None, Form(max_length=128)] = None,
    visible: Annotated[bool, Form(description="Add the visible label (DS-20 toggle).")] = True,
    download: Annotated[bool | None, Query(description="true: the file (the default); false: the JSON body with "
                                                       "the file in base64 (the former form, for old clients).")
                        ] = None,
    sources: Annotated[list[UploadFile] | None, File(description="Media the edit used: the consent gate checks every "
                                                                 "face/voice in them (DS-15).")] = None,
    purpose: Annotated[str | None, Form(max_length=64, description="With sources: face_swap, voice_clone, ...")] = None,
    technique: Annotated[str | None, Form(max_length=48, description="DS-26 technique recorded with the output "
                                                                     "(default: the purpose).")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128,
                                                  description="Videos: same key, same job.")] = None,
) -> dict[str, Any] | Response:
    """Label one generated file with every mark and record it in the ledger (DS-16..19, LM-05, LM-10, GB-*).

    Answers with the labeled file as a download (``Content-Disposition: attachment``, the file's media type; the
    record id in ``X-SynthGuard-Content-Id``, the marks in ``X-SynthGuard-Marks``, the whole result as JSON in
    ``X-SynthGuard-Result``).  ``Accept: application/json`` or ``download=false`` gives the former JSON body with
    the file in base64.  A video is queued: 202 with the job, ``status_url`` and ``download_url``
    (``GET /v1/label/jobs/{id}``, ``GET /v1/label/jobs/{id}/file``; the provider's tenant only).

    The user must belong to the token's tenant (404 otherwise, as for an unknown user).
    """
    tenant_user(sg, p, user)
    media = upload_media(sg, file)
    source_media = [upload_media(sg, f) for f in sources] if sources else None
    if media.modality.value == "video":
        job, created = sg.jobs.submit_label(media, user=user, tenant=p.tenant, key=idempotency_key,
                                            sources=source_media, producer=producer, model=model, visible=visible,
                                            purpose=purpose, technique=technique)
        if created and sg.jobs.inline:  # embedded mode: this process is the worker, after the response is sent
            background.add_task(sg.jobs.work)
        return JSONResponse(label_job_view(sg, job), status_code=202 if created else 200,
                            headers={"Location": f"/v1/label/jobs/{job['id']}"})
    with tempfile.TemporaryDirectory(prefix="sg-label-") as tmp:
        out = Path(tmp) / f"out.{media.format.lower()}"
        result = sg.label(media, user=user, producer=producer, model=model, visible=visible, output=out,
                          sources=source_media, purpose=purpose, technique=technique,
                          tenant=p.tenant)
        data = out.read_bytes()
    body = result.to_dict() | {"output": None}  # never leak a server path
    mime = media.replace(data).mime
    if _wants_json(request, download):
        return body | {"media_type": mime, "file_base64": base64.b64encode(data).decode()}
    return file_response(data, mime, f"{result.content_id}.{media.format.lower()}", body)


def _label_job(sg: Any, p: Any, job_id: str) -> dict[str, Any]:
    job = sg.jobs.get(job_id, tenant=p.tenant)
    if job["kind"] != "label":  # another kind of job of the tenant is not a label job
        raise NotFoundError("no label job {job_id!r}", values={"job_id": job_id})
    return job


def label_job_view(sg: Any, job: dict[str, Any]) -> dict[str, Any]:
    """A label job as its provider sees it: state, error, the record once done, and where to fetch the file."""
    result = job.get("result") or None
    view = {k: job[k] for k in ("id", "kind", "state", "attempts", "max_attempts", "created_at", "finished_at",
                                "idempotency_key")}
    view |= {"error": stored_error_view(job.get("error"), sg.settings.home),
             "result": {k: v for k, v in result.items() if k != "output_blob"} if result else None,
             "status_url": f"/v1/label/jobs/{job['id']}", "download_url": f"/v1/label/jobs/{job['id']}/file"}
    return view


@router.get("/label/jobs/{job_id}")
def label_job(sg: SG, p: Provider, job_id: Ident) -> dict[str, Any]:
    """A label job of the caller's tenant (another tenant's is a 404, as a missing one)."""
    return label_job_view(sg, _label_job(sg, p, job_id))


@router.get("/label/jobs/{job_id}/file", response_model=None, responses=FILE_200)
def label_job_file(sg: SG, p: Provider, job_id: Ident) -> Response:
    """The labeled file of a finished label job, as ``POST /v1/label`` returns it; 409 while the job is queued
    or running (with ``Retry-After``), the job's own error when it failed."""
    job = _label_job(sg, p, job_id)
    if job["state"] == "dead":
        err = job.get("error") or {}
        raise ConflictError("the label job failed: {reason}", values={"reason": str(err.get("message", ""))[:500]},
                            hint=N_("Read the job's error at its status URL, fix the input and submit it again."))
    if job["state"] != "done":
        exc = ConflictError("the label job is {state}; the file is not ready", values={"state": job["state"]},
                            hint=N_("Poll the job's status URL and fetch the file when its state is done."))
        exc.retry_after = 5  # type: ignore[attr-defined]
        raise exc
    result = dict(job["result"])
    try:
        data = sg.jobs.blobs.get(result.pop("output_blob"))
    except NotFoundError:
        raise NotFoundError("the labeled file of job {job_id} is no longer kept", values={"job_id": job_id},
                            hint=N_("Stored files are pruned after the retention period; label the file again."),
                            ) from None
    return file_response(data, result.pop("media_type"), result.pop("filename"),
                         {k: v for k, v in result.items() if k != "size"})


@router.post("/users", status_code=201)
def add_user(sg: SG, p: Provider, body: NewUser) -> dict[str, Any]:
    """Register a user of the provider's service in the token's tenant (DS-07).  Ids are per tenant: 409 only when
    this tenant already has the id; another tenant's account of the same id is neither revealed nor blocking (issue
    18 finding 13)."""
    return sg.add_user(body.id, tenant=p.tenant)


@router.post("/users/{user_id}/verify")
def verify_user(sg: SG, p: Provider, user_id: Ident, body: Verification) -> dict[str, Any]:
    """Record the provider's attested real-identity verification of its user (DS-07)."""
    tenant_user(sg, p, user_id)
    return sg.verify_user(user_id, body.method.value, identifier=body.identifier, reference=body.reference,
                          tenant=p.tenant)


@router.get("/users")
def list_users(sg: SG, p: Provider) -> list[dict[str, Any]]:
    """The tenant's users and whether each holds a verified identity (DS-07)."""
    return sg.users(tenant=p.tenant)
