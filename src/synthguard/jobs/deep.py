"""The deferred deep scan, once per content (issue 28): every upload that needs it is attached to one job.

With ``scan_watermark_search=priors`` the upload scan reads the watermark at the re-encode/resize/crop
geometries only and asks for the full search (rotations, crops with rescaling) in a worker.  Real traffic
repeats: the same bytes arrive many times, often at once.  So the deep scan is one job per content (its
idempotency key and payload depend on the bytes only), and each upload is a row in ``deep_scan_uploads``.
When the job has the full analysis it *delivers* to each row its own result: its declaration (LM-14), the
banks as they are at delivery (DS-09), its policy actions, its own ``scan`` ledger entry naming the job and the
upload (DS-10), the moderation content it belongs to (verdict, restriction, review case) and its callback.

A delivery is claimed with a conditional UPDATE in the same transaction as its ledger entry, so it happens
exactly once however the job worker and a late upload race: an upload attached after the job finished is
delivered by the request that attached it, from the cached full analysis (with ``scan_cache`` off, by the next
worker sweep: the full search never runs in a request).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from synthguard.errors import StoreError, SynthGuardError, ValidationError
from synthguard.jobs.context import JobContext
from synthguard.jobs.queue import jsonable
from synthguard.media import Media
from synthguard.scan import scan_entry

if TYPE_CHECKING:
    from synthguard.scan import Analysis

log = logging.getLogger("synthguard.jobs")
KEY_PREFIX = "deep-scan:"  # + content SHA-256 + ":full"
CALLBACK_SCHEMES = ("http://", "https://")


class _Taken(Exception):
    """Another process delivered this upload first: roll our ledger entry back."""


def check_callback(url: str | None) -> str | None:
    if url is None or url == "":
        return None
    if not url.startswith(CALLBACK_SCHEMES) or len(url) > 2048 or not url.isprintable():
        raise ValidationError("callback_url must be an http(s) URL of at most 2048 characters",
                              hint="Give the platform endpoint that receives deep-scan results, or leave it out.")
    return url


def submit(ctx: JobContext, media: Media, *, tenant: str, declared_ai: bool = False,
           content_ref: str | None = None, callback_url: str | None = None, entry: dict[str, Any] | None = None,
           timings: dict[str, float] | None = None) -> tuple[dict[str, Any], int, bool]:
    """Attach this upload to the deep scan of its content, enqueuing the job on first need.

    Returns ``(job, upload_id, created)``; a job that already finished delivers to the upload at once.  ``entry``:
    the upload scan's own ledger entry (DS-10), appended in the attaching transaction (a repeat's one write).
    ``timings`` receives the seconds spent finding the job, attaching and delivering (Server-Timing)."""
    callback_url = check_callback(callback_url)
    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    key = f"{KEY_PREFIX}{media.sha256}:full"
    known = ctx.deep_jobs.get((tenant, key))  # a repeat: this process already enqueued or found its job
    if known is not None:
        job, created = known, False
    else:
        digest = ctx.blobs.put(media.data, media.sha256)
        payload = {"blob": digest, "name": "upload", "declared_ai": False, "search": "full", "deep": True}
        job, created = ctx.queue.enqueue("scan", payload, tenant=tenant, key=key)
        ctx.deep_jobs.remember((tenant, key), job)
    t1 = time.perf_counter()
    timings["deep_job"] = t1 - t0
    with ctx.units() as uow:
        if entry is not None:
            ctx.ledger.append(uow.session, "scan", entry)
        upload_id, state = uow.deep_scans.attach(job["id"], tenant=tenant, name=media.name, declared_ai=declared_ai,
                                                 content_ref=content_ref, callback_url=callback_url)
    t2 = time.perf_counter()
    timings["attach"] = t2 - t1
    if not created and ctx.scan_cache() is not None and state == "done":
        # finished before we attached: the cached full analysis answers at once -- this upload only; the others
        # are the worker's (a request that delivered a whole burst's uploads took 40-80 ms)
        deliver(ctx, job["id"], media, upload_id=upload_id)
        timings["deliver"] = time.perf_counter() - t2
    return job, upload_id, created  # without the cache, the full search is the workers' job: their sweep delivers


def analysis_for(ctx: JobContext, media: Media) -> Analysis:
    """The full-search analysis: from the verdict cache when on (the deep job stored it there)."""
    if (cache := ctx.scan_cache()) is not None:
        return cache.analysis(media, "full")
    return ctx.scanner().analyse(media, watermark_search="full")


def deliver(ctx: JobContext, job_id: str, media: Media, analysis: Analysis | None = None, *,
            upload_id: int | None = None) -> int:
    """Give every upload attached to ``job_id`` and not yet served (or just ``upload_id``) its own result;
    returns how many."""
    done = 0
    with ctx.units() as uow:
        uploads = uow.deep_scans.undelivered(job_id, upload_id)
    for up in uploads:
        analysis = analysis or analysis_for(ctx, media)
        named = Media.from_bytes(media.data, up.name, **ctx.limits())
        result = ctx.scanner().finish(named, analysis, declared_ai=up.declared_ai, tenant=up.tenant)  # own banks
        body = jsonable(result.to_dict())
        try:
            with ctx.units() as uow:
                entry = ctx.ledger.append(uow.session, "scan", scan_entry(result) | {"job": job_id, "upload": up.id})
                if not uow.deep_scans.mark_delivered(up.id, body, entry.index):
                    raise _Taken
        except _Taken:
            continue
        except StoreError as exc:  # e.g. SQLite busy past its timeout: the row stays undelivered for a sweep
            log.warning("deep scan %s: upload %s not delivered yet: %s", job_id, up.id, exc.message)
            continue
        done += 1
        if up.content_ref:
            _to_content(ctx, up.tenant, up.content_ref, result)
        if up.callback_url:
            _callback(up.callback_url, {"upload_id": up.id, "job_id": job_id, "name": up.name, "result": body})
    return done


def sweep(ctx: JobContext, *, limit: int = 100) -> int:
    """Deliver uploads stranded on finished deep scans (the worker died, or the database was busy, between the
    job's completion and its deliveries); returns how many were delivered."""
    done = 0
    with ctx.units() as uow:
        stranded = uow.deep_scans.stranded(limit=limit)
    for job_id, blob in stranded:
        try:
            data = ctx.blobs.get(blob)
            done += deliver(ctx, job_id, Media.from_bytes(data, "upload", **ctx.limits()))
        except SynthGuardError as exc:  # the upload's bytes were pruned or damaged: say so, keep sweeping
            log.warning("deep scan %s: stranded uploads cannot be delivered: %s", job_id, exc.message)
    return done


def _to_content(ctx: JobContext, tenant: str, ref: str, result: Any) -> None:
    try:
        ctx.rescanned(tenant, ref, result)
    except SynthGuardError as exc:  # the content was deleted meanwhile: the upload's own result is kept anyway
        log.warning("deep scan of %s not applied to content %r: %s", result.sha256[:12], ref, exc.message)


def _callback(url: str, body: dict[str, Any]) -> None:
    """POST the upload's result to the platform's endpoint; best effort (the result stays readable by id)."""
    import httpx

    try:
        httpx.post(url, json=body, timeout=5.0).raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("deep-scan callback for upload %s failed: %s", body["upload_id"], exc)


__all__ = ["KEY_PREFIX", "analysis_for", "check_callback", "deliver", "submit", "sweep"]
