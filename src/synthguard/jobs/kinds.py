"""What each job kind does.  A handler runs the work, then commits the job's completion together with its
ledger entry in ONE transaction (fenced by the lease), so a crash can neither lose nor duplicate the entry.
Each handler takes the :class:`~synthguard.jobs.context.JobContext` the composition root built (issue 23).

- ``scan``: the platform's upload scan (LM Art. 6, LM-13..17) of a stored upload; result JSON on the job and
  exactly one ``scan`` ledger entry naming the job (DS-10: what the platform knew and decided).  A deep scan
  (``deep`` in the payload) then delivers to every upload attached to it (jobs/deep.py).
- ``checkpoint``: sign the ledger's tree head (operators schedule it, e.g. every minute).
- ``label``: label a stored upload (a video, too slow for one request: ``POST /v1/label`` answers 202); the
  labeled file goes to the blob store and the job's result names it, for ``GET /v1/label/jobs/{id}/file``.
  The label journey commits the record and its ledger entry itself, so a worker that dies after labeling and before
  completing the job leaves one extra record when the job is retried (the file delivered is the second one).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthguard.jobs.context import JobContext
from synthguard.jobs.deep import deliver
from synthguard.jobs.objects import run_callback, run_object_scan
from synthguard.jobs.queue import Lease, jsonable
from synthguard.ledger.service import checkpoint_dict
from synthguard.media import Media
from synthguard.scan import scan_entry

Handler = Callable[[JobContext, Lease], dict[str, Any]]


def run_scan(ctx: JobContext, lease: Lease) -> dict[str, Any]:
    p = lease.payload
    data = ctx.blobs.get(p["blob"])
    media = Media.from_bytes(data, p.get("name") or "upload", **ctx.limits())
    result = ctx.scanner().scan(media, declared_ai=bool(p.get("declared_ai")), watermark_search=p.get("search"),
                                tenant=lease.tenant, log=False)  # the entry commits with the job, below
    body = jsonable(result.to_dict())
    with ctx.units() as uow:
        entry = ctx.ledger.append(uow.session, "scan", scan_entry(result) | {"job": lease.id})
        ctx.queue.complete(uow, lease, body, ledger_index=entry.index)
    if p.get("deep"):  # one deep scan per content: each attached upload gets its own result (jobs/deep.py)
        body["uploads"] = deliver(ctx, lease.id, media)
    return body


def run_checkpoint(ctx: JobContext, lease: Lease) -> dict[str, Any]:
    with ctx.units() as uow:
        cp = ctx.ledger.checkpoint(uow.session, ctx.private_key())
        body = jsonable(checkpoint_dict(ctx.public_key(), cp))
        ctx.queue.complete(uow, lease, body)
    return body


def run_label(ctx: JobContext, lease: Lease) -> dict[str, Any]:
    p = lease.payload
    limits = ctx.limits()
    media = Media.from_bytes(ctx.blobs.get(p["blob"]), p.get("name") or "upload", **limits)
    sources = [Media.from_bytes(ctx.blobs.get(x["blob"]), x.get("name") or "source", **limits)
               for x in p.get("sources") or []]
    with tempfile.TemporaryDirectory(prefix="sg-label-job-") as tmp:
        out = Path(tmp) / f"out.{media.format.lower()}"
        result = ctx.label(media, user=p["user"], producer=p.get("producer"), model=p.get("model"),
                           visible=bool(p.get("visible", True)), output=out, sources=sources or None,
                           purpose=p.get("purpose"), technique=p.get("technique"), tenant=lease.tenant)
        data = out.read_bytes()
    body = jsonable(result.to_dict() | {"output": None}) | {
        "output_blob": ctx.blobs.put(data), "media_type": media.replace(data).mime, "size": len(data),
        "filename": f"{result.content_id}.{media.format.lower()}"}
    with ctx.units() as uow:
        ctx.queue.complete(uow, lease, body, ledger_index=result.ledger_index)
    return body


def _object_handlers() -> dict[str, Handler]:
    return {"object-scan": run_object_scan, "callback": run_callback}


HANDLERS: dict[str, Handler] = {"scan": run_scan, "checkpoint": run_checkpoint, "label": run_label,
                                **_object_handlers()}
