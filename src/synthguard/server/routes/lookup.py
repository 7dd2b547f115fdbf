"""Trace a file and look up a record with its proof: the label-lookup API (LM-24, DS-18, CSL-01)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Response, UploadFile

from synthguard.auth import Role
from synthguard.core import RECORD_HINT
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
        raise NotFoundError("no record {content_id!r}", values={"content_id": content_id}, hint=RECORD_HINT)
    return found


@router.post("/scan")
def scan(sg: SG, p: Scanner, file: Annotated[UploadFile, File()], background: BackgroundTasks, response: Response,
         declared_ai: Annotated[bool, Form()] = False,
         callback_url: Annotated[str | None, Form(max_length=2048)] = None) -> dict[str, Any]:
    """Platform scan of an upload (LM Art. 6): {verdict, label_value, evidence, matches, actions}.

    With ``scan_watermark_search=priors`` a ``deep_scan`` action names the one full-search job of this content
    and this upload's ``upload_id``: every re-upload is attached to the same job, which delivers each upload its
    own result (``GET /v1/jobs/{job_id}/uploads``, and a POST to ``callback_url`` when given).  Identical bytes
    reuse the cached analysis (``Server-Timing``: the time in the service, and ``cache`` hit, shared, miss or off)."""
    t0 = time.perf_counter()
    media = upload_media(sg, file)
    found = sg.scan(media, declared_ai=declared_ai, tenant=p.tenant)
    result = found.to_dict()
    for action in result["actions"]:
        if action["action"] == "deep_scan":
            job, upload_id, created = sg.jobs.deep_scan(media, tenant=p.tenant, declared_ai=declared_ai,
                                                        callback_url=callback_url)
            action |= {"job_id": job["id"], "upload_id": upload_id}
            if created and sg.jobs.inline:  # embedded mode: this process works the queue after responding
                background.add_task(sg.jobs.work)
    t = found.timings  # hit: answered from the cache; shared: waited for a concurrent scan of the same bytes
    cache = "off" if sg.scan_cache is None else "shared" if "shared" in t else "hit" if "cache" in t else "miss"
    response.headers["Server-Timing"] = f"scan;dur={(time.perf_counter() - t0) * 1000:.2f}, cache;desc={cache}"
    return result
