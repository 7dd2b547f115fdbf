"""Scans and actions as jobs: a durable queue on the store's database, worker processes, in-process on SQLite.

``sg.jobs.submit_scan(media, tenant=..., key=...)`` stores the upload's bytes durably, enqueues a ``scan`` job
and returns it (the HTTP route answers 202 with it).  On Postgres, ``synthguard worker --concurrency N`` runs
the jobs; on SQLite (the embedded default) ``jobs_inline`` is on and the submitting process runs them itself
(``sg.jobs.work()``), with the same queue, the same guarantees and the same job rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from synthguard.errors import ValidationError
from synthguard.i18n import N_
from synthguard.jobs import deep, objects
from synthguard.jobs.audit import audit_scans
from synthguard.jobs.blobs import BlobStore
from synthguard.jobs.context import DeepJobs, JobContext
from synthguard.jobs.kinds import HANDLERS
from synthguard.jobs.queue import Lease, LeaseLostError, Queue, backoff_seconds, job_dict
from synthguard.jobs.worker import Worker
from synthguard.ledger.log import Ledger
from synthguard.media import Media
from synthguard.store.base import utcnow
from synthguard.store.protocols import Units

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.labeling import LabelResult
    from synthguard.scan import Scanner
    from synthguard.scan_cache import ScanCache

__all__ = ["BlobStore", "JobContext", "Jobs", "Lease", "LeaseLostError", "Queue", "backoff_seconds", "job_dict"]


class Jobs:
    """The core object's job service (``sg.jobs``), built from narrow dependencies (issue 23): the settings (a
    getter), the store's units of work and its URL (``database``: SQLite runs jobs inline, Postgres workers
    listen), the ledger, and what the job kinds run -- the ``scanner``, the ``scan_cache``, the ``label`` journey,
    the moderation update of a deep scan (``rescanned``), the ledger's keys (checkpoints) and its whole check
    (``verify_ledger``, the audit); ``clock``: what leases, backoffs and ``run_after`` are measured with.  It owns
    the queue, the blob store and the deep-job memory, and hands all of it to the job handlers as one
    :class:`JobContext`."""

    def __init__(self, *, settings: Callable[[], Settings], units: Units, database: Any, ledger: Ledger,
                 scanner: Callable[[], Scanner], scan_cache: Callable[[], ScanCache | None],
                 label: Callable[..., LabelResult], rescanned: Callable[[str, str, Any], Any],
                 private_key: Callable[[], Any], public_key: Callable[[], Any],
                 verify_ledger: Callable[[], dict[str, Any]], clock: Callable[[], datetime] = utcnow):
        self.settings = settings
        st = settings()
        self.queue = Queue(units, lease_seconds=st.job_lease_seconds, max_attempts=st.job_max_attempts,
                           backoff_base=st.job_backoff_seconds, clock=clock)
        self.blobs = BlobStore(st.home / "blobs")
        self.deep_jobs = DeepJobs()  # (tenant, key) -> the content's deep-scan job (issue 28)
        self.context = JobContext(settings=settings, units=units, database=database, ledger=ledger,
                                  queue=self.queue, blobs=self.blobs, deep_jobs=self.deep_jobs, scanner=scanner,
                                  scan_cache=scan_cache, label=label, rescanned=rescanned,
                                  private_key=private_key, public_key=public_key, verify_ledger=verify_ledger)

    @cached_property
    def inline(self) -> bool:
        """Run jobs in the submitting process: the setting, else on for SQLite (one process owns the file)."""
        if (inline := self.settings().jobs_inline) is not None:
            return inline
        return self.context.backend == "sqlite"

    def worker(self, **options: Any) -> Worker:
        """A worker on this queue (``name``, ``handlers``, ``poll``, ``stop``: see :class:`Worker`)."""
        return Worker(self.context, **options)

    def submit_scan(self, media: Media, *, tenant: str = "default", key: str | None = None,
                    declared_ai: bool = False, search: str | None = None) -> tuple[dict[str, Any], bool]:
        """Durably store the upload, then enqueue its scan: ``(job, created)``; a repeated key returns the first job.

        The bytes are fsynced before the job row commits, so an accepted job always finds its upload.
        ``search="full"`` is the deferred deep scan a ``deep_scan`` action asks for."""
        # the bytes were sniffed to a modality the scan reads (else 415 already); decoding is the worker's job, so
        # a truncated upload is accepted and goes dead with its error -- a big video is not decoded in the request
        digest = self.blobs.put(media.data)
        payload = {"blob": digest, "name": media.name[-128:], "declared_ai": bool(declared_ai)}
        if search is not None:
            payload["search"] = search
        return self.queue.enqueue("scan", payload, tenant=tenant, key=key)

    def submit_label(self, media: Media, *, user: str, tenant: str = "default", key: str | None = None,
                     sources: list[Media] | None = None, **params: Any) -> tuple[dict[str, Any], bool]:
        """Durably store a file to label (and the sources the consent gate reads), then enqueue its ``label`` job:
        ``(job, created)``.  ``params``: producer, model, visible, purpose, technique (as ``sg.label``)."""
        payload: dict[str, Any] = {"blob": self.blobs.put(media.data), "name": media.name[-128:], "user": user,
                                   "sources": [{"blob": self.blobs.put(m.data), "name": m.name[-128:]}
                                               for m in sources or []]}
        payload |= {k: v for k, v in params.items() if v is not None}
        return self.queue.enqueue("label", payload, tenant=tenant, key=key)

    def submit_objects(self, refs: list[objects.ObjectRef], *, tenant: str) -> list[dict[str, Any]]:
        """One ``object-scan`` job per object version of watched buckets (issue 26; jobs/objects.py)."""
        return objects.submit(self.settings(), self.queue, refs, tenant=tenant)

    def deep_scan(self, media: Media, *, tenant: str = "default", declared_ai: bool = False,
                  content_ref: str | None = None, callback_url: str | None = None,
                  entry: dict[str, Any] | None = None,
                  timings: dict[str, float] | None = None) -> tuple[dict[str, Any], int, bool]:
        """Attach an upload to the one deep scan of its content: ``(job, upload_id, created)`` (jobs/deep.py);
        ``entry``: the upload scan's ledger entry, written in the same transaction."""
        return deep.submit(self.context, media, tenant=tenant, declared_ai=declared_ai, content_ref=content_ref,
                           callback_url=callback_url, entry=entry, timings=timings)

    def uploads(self, job_id: str, *, tenant: str | None = None) -> list[dict[str, Any]]:
        """The uploads attached to a deep-scan job, each with its own result once delivered."""
        self.get(job_id, tenant=tenant)  # NotFound for another tenant's job
        with self.context.units() as uow:
            rows: list[dict[str, Any]] = uow.deep_scans.uploads_of(job_id)
        return rows

    def submit(self, kind: str, payload: dict[str, Any] | None = None, *, tenant: str = "default",
               key: str | None = None) -> tuple[dict[str, Any], bool]:
        if kind not in HANDLERS:
            raise ValidationError("unknown job kind {kind!r}",
                                  values={"kind": kind, "kinds": ", ".join(sorted(HANDLERS))},
                                  hint=N_("Use one of: {kinds}."))
        return self.queue.enqueue(kind, payload or {}, tenant=tenant, key=key)

    def get(self, job_id: str, *, tenant: str | None = None) -> dict[str, Any]:
        return self.queue.get(job_id, tenant=tenant)

    def recent(self, *, state: str | None = None, tenant: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The most recent jobs, newest first (:meth:`Queue.recent`)."""
        return self.queue.recent(state=state, tenant=tenant, limit=limit)

    def audit(self, *, verify_ledger: bool = True) -> dict[str, Any]:
        """Every scan job done exactly once with exactly one ledger entry (jobs/audit.py; ``synthguard jobs
        audit``), and, with ``verify_ledger``, the ledger's whole check."""
        return audit_scans(self.context.units, verify_ledger=self.context.verify_ledger if verify_ledger else None)

    def prune_blobs(self, older_than_days: float) -> int:
        """Delete stored uploads older than ``older_than_days`` whose jobs are done (the result and ledger entry
        are kept); uploads of queued, running or dead jobs stay, so they can still run or be requeued."""
        with self.context.units() as uow:
            rows = uow.jobs.unfinished_payloads(("scan", "label"))
            keep = frozenset(str(b) for p in rows if isinstance(p, dict)
                             for b in [p.get("blob"), *(x.get("blob") for x in p.get("sources") or [])])
        return self.blobs.prune(older_than_days * 86400, keep=keep)

    def sweep(self) -> int:
        """Deliver the uploads finished deep scans could not deliver to yet (jobs/deep.py); how many."""
        return deep.sweep(self.context)

    def work(self, *, max_jobs: int | None = None) -> int:
        """Run runnable jobs in this process until none is left (or ``max_jobs``); returns how many ran."""
        worker = self.worker()
        n = 0
        while max_jobs is None or n < max_jobs:
            if worker.run_one() is None:
                break
            n += 1
        self.sweep()  # uploads a finished deep scan could not deliver to yet (jobs/deep.py)
        return n
