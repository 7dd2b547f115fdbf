"""Scan on upload (issue 26): object stores notify, SynthGuard scans each new object and calls the platform back.

``POST /v1/hooks/objects`` takes an S3 event notification (as S3, MinIO or Ceph send it) or the plain form
``{"bucket", "key", "version"?}``; one ``object-scan`` job per object version, 202 with the jobs.  Only buckets
named in the ``upload_buckets`` setting are fetched (403 otherwise), so the hook cannot be turned into a fetcher
of arbitrary URLs.  Platform roles, tenant-isolated like every job.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request

from synthguard.jobs.objects import parse_event
from synthguard.limits import json_document
from synthguard.server.deps import SG, Scanner

router = APIRouter(prefix="/v1/hooks", tags=["jobs"])
MAX_EVENT_BYTES = 256 * 1024


@router.post("/objects", status_code=202)
async def object_created(sg: SG, p: Scanner, request: Request, background: BackgroundTasks) -> dict[str, Any]:
    """Queue a scan of every object an object-created event names; the verdict goes to ``upload_callback_url``."""
    doc = json_document(await request.body(), limit=MAX_EVENT_BYTES, what="event")
    jobs = sg.jobs.submit_objects(parse_event(doc), tenant=p.tenant)
    if jobs and sg.jobs.inline:  # embedded mode: this process is the worker, after the response is sent
        background.add_task(sg.jobs.work)
    return {"jobs": jobs}
