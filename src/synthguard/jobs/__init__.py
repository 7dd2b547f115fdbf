"""Scans and actions as jobs: a durable queue on the store's database, worker processes, in-process on SQLite.

``sg.jobs.submit_scan(media, tenant=..., key=...)`` stores the upload's bytes durably, enqueues a ``scan`` job
and returns it (the HTTP route answers 202 with it).  On Postgres, ``synthguard worker --concurrency N`` runs
the jobs; on SQLite (the embedded default) ``jobs_inline`` is on and the submitting process runs them itself
(``sg.jobs.work()``), with the same queue, the same guarantees and the same job rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from synthguard.errors import ValidationError
from synthguard.i18n import N_
from synthguard.jobs.blobs import BlobStore
from synthguard.jobs.queue import Lease, LeaseLostError, Queue, backoff_seconds, job_dict
from synthguard.media import Media
from synthguard.store import job_repo
from synthguard.store.base import utcnow
from synthguard.store.scan_tables import uploads_of

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.jobs.worker import Worker
    from synthguard.store.db import Database

__all__ = ["BlobStore", "Jobs", "Lease", "LeaseLostError", "Queue", "backoff_seconds", "job_dict"]


class Jobs:
    """The core object's job service (``sg.jobs``), built from narrow dependencies (issue 23): the database the
    queue lives in, the settings (a getter), the clock leases, backoffs and ``run_after`` are measured with, and
    the core's runners: a new in-process ``worker``, the deep-scan ``attach`` (jobs/deep.py ``submit``) and its
    ``sweep``, which run job handlers and so need the whole core."""

    def __init__(self, db: Database, settings: Callable[[], Settings], *, worker: Callable[[], Worker],
                 attach: Callable[..., tuple[dict[str, Any], int, bool]], sweep: Callable[[], int],
                 clock: Callable[[], datetime] = utcnow):
        self.db, self.settings = db, settings
        self._worker, self._attach, self._sweep = worker, attach, sweep
        st = settings()
        self.queue = Queue(db, lease_seconds=st.job_lease_seconds, max_attempts=st.job_max_attempts,
                           backoff_base=st.job_backoff_seconds, clock=clock)
        self.blobs = BlobStore(st.home / "blobs")
        self.deep_jobs: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()  # (tenant, key) -> its job
        self._deep_lock = threading.Lock()

    def remember_deep_job(self, key: tuple[str, str], job: dict[str, Any], *, entries: int = 10_000) -> None:
        """Keep which job a content's deep scan is (its id, kind and payload never change: jobs are never
        deleted), so a repeat upload attaches to it without the idempotency lookup (issue 28)."""
        with self._deep_lock:
            self.deep_jobs[key] = {"id": job["id"], "kind": job["kind"], "tenant": job["tenant"]}
            self.deep_jobs.move_to_end(key)
            while len(self.deep_jobs) > entries:
                self.deep_jobs.popitem(last=False)

    @cached_property
    def inline(self) -> bool:
        """Run jobs in the submitting process: the setting, else on for SQLite (one process owns the file)."""
        if (inline := self.settings().jobs_inline) is not None:
            return inline
        return self.db.engine.dialect.name == "sqlite"

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

    def deep_scan(self, media: Media, *, tenant: str = "default", declared_ai: bool = False,
                  content_ref: str | None = None, callback_url: str | None = None,
                  entry: dict[str, Any] | None = None,
                  timings: dict[str, float] | None = None) -> tuple[dict[str, Any], int, bool]:
        """Attach an upload to the one deep scan of its content: ``(job, upload_id, created)`` (jobs/deep.py);
        ``entry``: the upload scan's ledger entry, written in the same transaction."""
        return self._attach(media, tenant=tenant, declared_ai=declared_ai, content_ref=content_ref,
                              callback_url=callback_url, entry=entry, timings=timings)

    def uploads(self, job_id: str, *, tenant: str | None = None) -> list[dict[str, Any]]:
        """The uploads attached to a deep-scan job, each with its own result once delivered."""
        self.get(job_id, tenant=tenant)  # NotFound for another tenant's job
        return uploads_of(self.db, job_id)

    def submit(self, kind: str, payload: dict[str, Any] | None = None, *, tenant: str = "default",
               key: str | None = None) -> tuple[dict[str, Any], bool]:
        from synthguard.jobs.kinds import HANDLERS

        if kind not in HANDLERS:
            raise ValidationError("unknown job kind {kind!r}",
                                  values={"kind": kind, "kinds": ", ".join(sorted(HANDLERS))},
                                  hint=N_("Use one of: {kinds}."))
        return self.queue.enqueue(kind, payload or {}, tenant=tenant, key=key)

    def get(self, job_id: str, *, tenant: str | None = None) -> dict[str, Any]:
        return self.queue.get(job_id, tenant=tenant)

    def prune_blobs(self, older_than_days: float) -> int:
        """Delete stored uploads older than ``older_than_days`` whose jobs are done (the result and ledger entry
        are kept); uploads of queued, running or dead jobs stay, so they can still run or be requeued."""
        with self.db.session() as s:
            rows = job_repo.unfinished_payloads(s, ("scan", "label"))
            keep = frozenset(str(b) for p in rows if isinstance(p, dict)
                             for b in [p.get("blob"), *(x.get("blob") for x in p.get("sources") or [])])
        return self.blobs.prune(older_than_days * 86400, keep=keep)

    def work(self, *, max_jobs: int | None = None) -> int:
        """Run runnable jobs in this process until none is left (or ``max_jobs``); returns how many ran."""
        worker = self._worker()
        n = 0
        while max_jobs is None or n < max_jobs:
            if worker.run_one() is None:
                break
            n += 1
        self._sweep()  # uploads a finished deep scan could not deliver to yet (jobs/deep.py)
        return n
