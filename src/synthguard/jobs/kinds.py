"""What each job kind does.  A handler runs the work, then commits the job's completion together with its
ledger entry in ONE transaction (fenced by the lease), so a crash can neither lose nor duplicate the entry.

- ``scan``: the platform's upload scan (LM Art. 6, LM-13..17) of a stored upload; result JSON on the job and
  exactly one ``scan`` ledger entry naming the job (DS-10: what the platform knew and decided).  A deep scan
  (``deep`` in the payload) then delivers to every upload attached to it (jobs/deep.py).
- ``checkpoint``: sign the ledger's tree head (operators schedule it, e.g. every minute).
- ``label``: label a stored upload (a video, too slow for one request: ``POST /v1/label`` answers 202); the
  labeled file goes to the blob store and the job's result names it, for ``GET /v1/label/jobs/{id}/file``.
  ``sg.label`` commits the record and its ledger entry itself, so a worker that dies after labeling and before
  completing the job leaves one extra record when the job is retried (the file delivered is the second one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synthguard.jobs.deep import deliver
from synthguard.jobs.objects import run_callback, run_object_scan
from synthguard.jobs.queue import jsonable
from synthguard.ledger.service import checkpoint_dict
from synthguard.media import Media
from synthguard.scan import scan_entry

if TYPE_CHECKING:
    from synthguard.core import SynthGuard
    from synthguard.jobs.queue import Lease

Handler = Callable[["SynthGuard", "Lease"], dict[str, Any]]


def run_scan(sg: SynthGuard, lease: Lease) -> dict[str, Any]:
    p = lease.payload
    data = sg.jobs.blobs.get(p["blob"])
    media = Media.from_bytes(data, p.get("name") or "upload", max_bytes=sg.settings.max_bytes,
                             max_pixels=sg.settings.max_pixels)
    result = sg.scanner.scan(media, declared_ai=bool(p.get("declared_ai")), watermark_search=p.get("search"),
                             tenant=lease.tenant, log=False)  # the entry commits with the job, below
    body = jsonable(result.to_dict())
    with sg.db.session() as s:
        entry = sg.ledger.append(s, "scan", scan_entry(result) | {"job": lease.id})
        sg.jobs.queue.complete(s, lease, body, ledger_index=entry.index)
    if p.get("deep"):  # one deep scan per content: each attached upload gets its own result (jobs/deep.py)
        body["uploads"] = deliver(sg, lease.id, media)
    return body


def run_checkpoint(sg: SynthGuard, lease: Lease) -> dict[str, Any]:
    with sg.db.session() as s:
        cp = sg.ledger.checkpoint(s, sg.keys.ledger_private)
        body = jsonable(checkpoint_dict(sg.keys.ledger_public, cp))
        sg.jobs.queue.complete(s, lease, body)
    return body


def run_label(sg: SynthGuard, lease: Lease) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    p = lease.payload
    limits = {"max_bytes": sg.settings.max_bytes, "max_pixels": sg.settings.max_pixels}
    media = Media.from_bytes(sg.jobs.blobs.get(p["blob"]), p.get("name") or "upload", **limits)
    sources = [Media.from_bytes(sg.jobs.blobs.get(x["blob"]), x.get("name") or "source", **limits)
               for x in p.get("sources") or []]
    with tempfile.TemporaryDirectory(prefix="sg-label-job-") as tmp:
        out = Path(tmp) / f"out.{media.format.lower()}"
        result = sg.label(media, user=p["user"], producer=p.get("producer"), model=p.get("model"),
                          visible=bool(p.get("visible", True)), output=out, sources=sources or None,
                          purpose=p.get("purpose"), technique=p.get("technique"), tenant=lease.tenant)
        data = out.read_bytes()
    body = jsonable(result.to_dict() | {"output": None}) | {
        "output_blob": sg.jobs.blobs.put(data), "media_type": media.replace(data).mime, "size": len(data),
        "filename": f"{result.content_id}.{media.format.lower()}"}
    with sg.db.session() as s:
        sg.jobs.queue.complete(s, lease, body, ledger_index=result.ledger_index)
    return body


def _object_handlers() -> dict[str, Handler]:
    return {"object-scan": run_object_scan, "callback": run_callback}


HANDLERS: dict[str, Handler] = {"scan": run_scan, "checkpoint": run_checkpoint, "label": run_label,
                                **_object_handlers()}
