"""Trace a file and look up a record with its proof: the label-lookup API (LM-24, DS-18, CSL-01)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Response, UploadFile
from fastapi.responses import Response as RawResponse

from synthguard.auth import Role
from synthguard.errors import MediaTooLargeError, NotFoundError, ValidationError
from synthguard.evidence import build_bundle, verify_bundle
from synthguard.evidence.bundle import bundle_bytes, verifier_keys
from synthguard.ledger.trusted import pinned_vkey
from synthguard.scan import scan_entry
from synthguard.server.deps import SG, Ident, RecordReader, Scanner, Tracer, upload_media
from synthguard.store.db import lock_waited
from synthguard.trace import RECORD_HINT

router = APIRouter(prefix="/v1", tags=["lookup"])


@router.post("/trace")
def trace(sg: SG, p: Tracer, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Which record made this file (watermark, AIGC ProduceID, C2PA, fingerprints), with an inclusion proof."""
    return sg.tracer.trace(upload_media(sg, file)).to_dict()


@router.post("/evidence", response_class=RawResponse,
             responses={200: {"content": {"application/zip": {}}, "description": "The evidence bundle (zip)."}})
def evidence(sg: SG, p: Tracer, file: Annotated[UploadFile, File()]) -> RawResponse:
    """An evidence bundle for a file found in the wild (US-07, CC-10): marks, the trace with its inclusion proof and
    the (witness-cosigned) checkpoint, the provider's signed descriptor, report and verify.py.  A record of another
    provider is resolved at that provider and verified against this deployment's trust list (issue 19).  The file
    itself is not put in the bundle."""
    bundle = build_bundle(sg, upload_media(sg, file))
    return RawResponse(bundle_bytes(bundle), media_type="application/zip",
                       headers={"content-disposition": 'attachment; filename="evidence.zip"',
                                "x-synthguard-found": str(bundle.found).lower()})


@router.post("/evidence/verify")
def evidence_verify(sg: SG, p: Tracer, bundle: Annotated[UploadFile, File()],
                    trusted_key: Annotated[list[str] | None, Form()] = None) -> dict[str, Any]:
    """Re-check a bundle with no network: manifest, inclusion proof, checkpoint signed by a trusted key (this
    deployment's, its trust list's with their witness quorums, or a verifier key given as ``trusted_key``), the
    provider descriptor.  ``ok`` false and the failing checks when it does not verify (the key inside the bundle is
    never trusted)."""
    limit = sg.settings.max_bytes + (32 << 20)
    data = bundle.file.read(limit + 1)
    if len(data) > limit:
        raise MediaTooLargeError("bundle is over the limit of {limit:,} bytes", values={"limit": limit})
    pins = [k for k in trusted_key or [] if k.strip()]
    if len(pins) > 16 or any(len(k) > 512 for k in pins):
        raise ValidationError("at most 16 trusted keys of at most 512 characters each")
    keys = [pinned_vkey(k) for k in pins] + verifier_keys(sg)
    return verify_bundle(data, keys, sg.user_ref)


@router.get("/records/{content_id}")
def record(sg: SG, p: RecordReader, content_id: Ident) -> dict[str, Any]:
    """The record, its RFC 6962 inclusion proof and the signed checkpoint (LM-24 label lookup for authorities).

    Providers see only their own tenant's records; any other record is 404 as if it did not exist.
    """
    found = sg.tracer.record(content_id)
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
    t0, waited = time.perf_counter(), lock_waited()
    media = upload_media(sg, file)
    t_upload = time.perf_counter()
    found = sg.scanner.scan(media, declared_ai=declared_ai, tenant=p.tenant, log=False)
    result = found.to_dict()
    deep = next((a for a in result["actions"] if a["action"] == "deep_scan"), None)
    if deep is None:
        sg.scanner.log(found)
    else:  # its scan entry (DS-10) and its attachment to the content's deep scan: one transaction
        job, upload_id, created = sg.jobs.deep_scan(media, tenant=p.tenant, declared_ai=declared_ai,
                                                    callback_url=callback_url, entry=scan_entry(found),
                                                    timings=found.timings)  # deep_job, attach, deliver
        deep |= {"job_id": job["id"], "upload_id": upload_id}
        if created and sg.jobs.inline:  # embedded mode: this process works the queue after responding
            background.add_task(sg.jobs.work)
    t = found.timings  # hit: answered from the cache; shared: waited for a concurrent scan of the same bytes
    cache = "off" if sg.scan_cache is None else "shared" if "shared" in t else "hit" if "cache" in t else "miss"
    t["db_lock"] = lock_waited() - waited  # of which: queued behind other writers (store/db.py)
    stages = "".join(f", {k};dur={v * 1000:.2f}" for k, v in t.items() if k != "shared")
    response.headers["Server-Timing"] = (f"scan;dur={(time.perf_counter() - t0) * 1000:.2f}, cache;desc={cache}"
                                         f", upload;dur={(t_upload - t0) * 1000:.2f}{stages}")
    return result
