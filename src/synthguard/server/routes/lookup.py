"""Trace a file and look up a record with its proof: the label-lookup API (LM-24, DS-18, CSL-01)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, UploadFile

from synthguard.auth import Role
from synthguard.errors import NotFoundError
from synthguard.server.deps import SG, Ident, RecordReader, Scanner, Tracer, upload_media

router = APIRouter(prefix="/v1", tags=["lookup"])


@router.post("/trace")
def trace(sg: SG, p: Tracer, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Which record made this file (watermark, AIGC ProduceID, C2PA, fingerprints), with an inclusion proof."""
    return sg.trace(upload_media(sg, file))


@router.get("/records/{content_id}")
def record(sg: SG, p: RecordReader, content_id: Ident) -> dict[str, Any]:
    """The record, its RFC 6962 inclusion proof and the signed checkpoint (LM-24 label lookup for authorities).

    Providers see only their own tenant's records; any other record is 404 as if it did not exist.
    """
    found = sg.record(content_id)
    if p.role is Role.PROVIDER and found["record"]["tenant"] != p.tenant:
        raise NotFoundError(f"no record {content_id!r}")
    return found


@router.post("/scan")
def scan(sg: SG, p: Scanner, file: Annotated[UploadFile, File()], background: BackgroundTasks,
         declared_ai: Annotated[bool, Form()] = False) -> dict[str, Any]:
    """Platform scan of an upload (LM Art. 6): {verdict, label_value, evidence, matches, actions}.

    With ``scan_watermark_search=priors`` a ``deep_scan`` action is queued as a full-search scan job (the same
    upload is scanned once per tenant: the idempotency key is its SHA-256); the action names the job."""
    media = upload_media(sg, file)
    result = sg.scan(media, declared_ai=declared_ai).to_dict()
    for action in result["actions"]:
        if action["action"] == "deep_scan":
            job, created = sg.jobs.submit_scan(media, tenant=p.tenant, key=f"deep-scan:{media.sha256}",
                                               declared_ai=declared_ai, search="full")
            action["job_id"] = job["id"]
            if created and sg.jobs.inline:  # embedded mode: this process works the queue after responding
                background.add_task(sg.jobs.work)
    return result
