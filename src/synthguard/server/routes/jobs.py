"""Asynchronous scans: enqueue an upload (202 + job), poll the job (platform roles, tenant-isolated).

The upload's bytes are fsynced to the blob store and the job row committed before the 202 goes out, so an
accepted upload is never lost; ``Idempotency-Key`` makes a client's retry return the same job (200).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, File, Form, Header, Query, Response, UploadFile

from synthguard.server.deps import SG, Ident, Scanner, upload_media
from synthguard.server.errors import stored_error_view

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
State = Literal["queued", "running", "done", "dead"]


@router.post("/scan", status_code=202)
def enqueue_scan(
    sg: SG, p: Scanner, background: BackgroundTasks, response: Response,
    file: Annotated[UploadFile, File(description="The upload to scan.")],
    declared_ai: Annotated[bool, Form(description="The uploader declared AI content (LM-14).")] = False,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128,
                                                  description="Same key, same job: safe client retries.")] = None,
) -> dict[str, Any]:
    """Accept an upload for scanning (LM Art. 6): 202 with the job; poll ``GET /v1/jobs/{id}`` for the verdict."""
    media = upload_media(sg, file)
    job, created = sg.jobs.submit_scan(media, tenant=p.tenant, key=idempotency_key, declared_ai=declared_ai)
    response.headers["Location"] = f"/v1/jobs/{job['id']}"
    if not created:
        response.status_code = 200
    elif sg.jobs.inline:  # embedded mode: this process is the worker, after the response is sent
        background.add_task(sg.jobs.work)
    return job


@router.get("/{job_id}")
def get_job(sg: SG, p: Scanner, job_id: Ident) -> dict[str, Any]:
    """A job of the caller's tenant with its state, attempts, error and (when done) the scan result."""
    job = sg.jobs.get(job_id, tenant=p.tenant)
    return job | {"error": stored_error_view(job["error"], sg.settings.home)}


@router.get("/{job_id}/uploads")
def job_uploads(sg: SG, p: Scanner, job_id: str) -> list[dict[str, Any]]:
    """The uploads attached to a deep-scan job (one job per content), each with its own result when delivered."""
    return sg.jobs.uploads(job_id, tenant=p.tenant)


@router.get("")
def list_jobs(sg: SG, p: Scanner, state: Annotated[State | None, Query()] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
    """The tenant's most recent jobs, newest first."""
    return [j | {"error": stored_error_view(j["error"], sg.settings.home)}
            for j in sg.jobs.recent(state=state, tenant=p.tenant, limit=limit)]
