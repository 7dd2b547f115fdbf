"""A small job queue on the project's own database: ``SELECT ... FOR UPDATE SKIP LOCKED`` on Postgres.

Why our own ~200 lines and not procrastinate: procrastinate is Postgres-only (its SQLite mode is for tests
and has no locking), while SynthGuard's embedded mode runs the same queue on SQLite; and a job's completion
must commit in the *same* transaction as its ledger entry, which needs the queue to work on our SQLAlchemy
session.  The guarantees:

- **at-least-once**: a job is leased (``running`` until ``lease_expires_at``); a worker that dies loses the
  lease after the visibility timeout and another worker claims the job again;
- **exactly-once effect**: completion is fenced by the lease token (``UPDATE ... WHERE lease_token = :mine``)
  inside the caller's transaction; a worker whose lease was taken over rolls its whole transaction back;
- **idempotency keys**: unique per tenant; enqueuing the same key again returns the first job;
- **retries with exponential backoff**, then the **dead letter** (state ``dead``), which an operator can requeue.

On SQLite ``FOR UPDATE`` does not exist; the claim is one ``UPDATE ... WHERE id = (SELECT ...) RETURNING``
statement, which SQLite runs under its database write lock, so two processes never claim the same job either.

The SQL lives in :mod:`synthguard.store.job_repo`, reached through the unit of work's ``jobs`` repository (the
queue takes ``units``, never a database or a session); the time comes from the queue's ``clock`` (the real UTC
clock unless a test passes its own, so lease and backoff tests move time instead of sleeping; issue 23).
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from synthguard.errors import ConflictError, NotFoundError, StoreError, ValidationError
from synthguard.i18n import N_
from synthguard.store import job_repo
from synthguard.store.base import utcnow
from synthguard.store.job_tables import JOB_STATES, Job
from synthguard.store.protocols import Unit, Units

NOTIFY_CHANNEL = "synthguard_jobs"  # Postgres LISTEN/NOTIFY: an enqueue wakes the idle workers at once
MAX_KEY = 128
BACKOFF_CAP_SECONDS = 3600.0


class LeaseLostError(ConflictError):
    """The job's lease expired and another worker took it over; this worker's result is discarded."""

    hint = "Nothing to do: the job runs (or ran) on the worker that holds the lease. Raise the lease if jobs are slow."


@dataclass(frozen=True)
class Lease:
    """A claimed job: what to run, and the token that fences its completion."""

    id: str
    kind: str
    tenant: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    token: str


def new_job_id(clock: Callable[[], datetime] = utcnow) -> str:
    """Unguessable and time-ordered enough for humans: ``J`` + 12 hex chars of time + 16 random hex chars."""
    return f"J{int(clock().timestamp() * 1000):012x}{secrets.token_hex(8)}"


def backoff_seconds(attempt: int, base: float, *, cap: float = BACKOFF_CAP_SECONDS, jitter: float = 0.1) -> float:
    """Exponential backoff after failed attempt ``attempt`` (1-based): base * 2**(attempt-1), capped, +0..10%."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * (1 + random.uniform(0, jitter))


def job_dict(job: Job) -> dict[str, Any]:
    """The public view of a job (no lease token: it is the worker's secret)."""
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"id": job.id, "kind": job.kind, "tenant": job.tenant, "state": job.state,
            "idempotency_key": job.idempotency_key, "attempts": job.attempts, "max_attempts": job.max_attempts,
            "created_at": iso(job.created_at), "updated_at": iso(job.updated_at), "run_after": iso(job.run_after),
            "finished_at": iso(job.finished_at), "ledger_index": job.ledger_index, "result": job.result,
            "error": job.error}


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Evidence may hold tuples or numpy scalars; the job row stores plain JSON (every job kind's result)."""
    out: dict[str, Any] = json.loads(json.dumps(data, default=str, ensure_ascii=False))
    return out


class Queue:
    """Enqueue, claim, complete, fail: each a short transaction (``complete`` joins the caller's).

    ``units``: the store's units of work (``Database.unit_of_work``); ``clock``: the aware UTC now that leases,
    backoffs and ``run_after`` are measured with."""

    def __init__(self, units: Units, *, lease_seconds: float = 300, max_attempts: int = 5,
                 backoff_base: float = 2.0, clock: Callable[[], datetime] = utcnow):
        self.units = units
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base

    # --- producers -----------------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any], *, tenant: str = "default", key: str | None = None,
                max_attempts: int | None = None) -> tuple[dict[str, Any], bool]:
        """Add a job; with ``key``, a second enqueue returns the first job (``created`` False).

        The same key with a different kind or payload is a client bug: ConflictError, nothing enqueued."""
        if key is not None and not (0 < len(key) <= MAX_KEY and key.isprintable()):
            raise ValidationError("idempotency key must be 1-{max} printable characters", values={"max": MAX_KEY},
                                  hint="Use a UUID or the client's own upload id.")
        if key is not None:
            existing = self._by_key(tenant, key, kind, payload)
            if existing is not None:
                return existing, False
        try:
            with self.units() as uow:
                job = Job(id=new_job_id(self.clock), kind=kind, tenant=tenant, idempotency_key=key, state="queued",
                          payload=payload, attempts=0, max_attempts=max_attempts or self.max_attempts,
                          run_after=self.clock())
                uow.jobs.add(job)
                uow.jobs.notify(NOTIFY_CHANNEL)  # wakes idle workers when this commits (Postgres)
                return job_dict(job), True
        except StoreError as exc:  # a concurrent enqueue with the same key won the unique constraint
            if key is None or not job_repo.is_duplicate(exc):
                raise
            found = self._by_key(tenant, key, kind, payload)
            if found is None:
                raise
            return found, False

    def _by_key(self, tenant: str, key: str, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        with self.units() as uow:
            job = uow.jobs.by_key(tenant, key)
            if job is None:
                return None
            if job.kind != kind or job.payload != payload:
                raise ConflictError("idempotency key {key!r} was already used for a different request",
                                    values={"key": key},
                                    hint="Use a new key for a new upload; reuse a key only to retry the same one.")
            return job_dict(job)

    # --- workers -------------------------------------------------------------------------------------
    def claim(self, worker: str) -> Lease | None:
        """Lease the next runnable job (queued and due, or running with an expired lease), or None."""
        while True:
            now = self.clock()
            token = secrets.token_hex(16)
            with self.units() as uow:
                row = uow.jobs.claim(now=now, token=token, worker=worker[:128], lease_until=now + self.lease)
            if row is None:
                return None
            lease = Lease(row.id, row.kind, row.tenant, row.payload, row.attempts, row.max_attempts, token)
            if lease.attempts <= lease.max_attempts:
                return lease
            # re-leased after its worker died too often (a poison job that kills workers): dead letter
            self.fail(lease, {"error": "LeaseExpired", "message": f"the job's worker was lost {lease.max_attempts} "
                              "times (killed or timed out)", "hint": "Inspect the payload; requeue when fixed."},
                      retry=False)

    def complete(self, uow: Unit, lease: Lease, result: dict[str, Any], *, ledger_index: int | None = None) -> None:
        """Mark done inside the caller's unit of work (with the job's ledger entry); LeaseLostError (the caller's
        unit rolls back) when another worker holds the lease now."""
        now = self.clock()
        done = uow.jobs.update_leased(lease.id, lease.token, {
            "state": "done", "result": result, "error": None, "finished_at": now, "updated_at": now,
            "lease_expires_at": None, "ledger_index": ledger_index})
        if done != 1:
            raise LeaseLostError("job {job} is no longer leased to this worker", values={"job": lease.id})

    def fail(self, lease: Lease, error: dict[str, Any], *, retry: bool) -> str | None:
        """Record a failure: back to ``queued`` after a backoff, or ``dead``. None when the lease was lost."""
        now = self.clock()
        again = retry and lease.attempts < lease.max_attempts
        values: dict[str, Any] = {"error": error | {"attempt": lease.attempts}, "updated_at": now,
                                  "lease_expires_at": None}
        if again:
            delay = backoff_seconds(lease.attempts, self.backoff_base)
            values |= {"state": "queued", "run_after": now + timedelta(seconds=delay)}
        else:
            values |= {"state": "dead", "finished_at": now}
        with self.units() as uow:
            n = uow.jobs.update_leased(lease.id, lease.token, values)
        return values["state"] if n == 1 else None

    # --- operators -----------------------------------------------------------------------------------
    def get(self, job_id: str, *, tenant: str | None = None) -> dict[str, Any]:
        """One job; another tenant's job is NotFound exactly like a missing one."""
        with self.units() as uow:
            job = uow.jobs.get(job_id) if isinstance(job_id, str) and len(job_id) <= 32 else None
            if job is None or (tenant is not None and job.tenant != tenant):
                raise NotFoundError("no job {job!r}", values={"job": str(job_id)[:64]},
                                    hint="List jobs with `synthguard jobs list`.")
            return job_dict(job)

    def recent(self, *, state: str | None = None, tenant: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        if state is not None and state not in JOB_STATES:
            raise ValidationError("unknown job state {state!r}",
                                  values={"state": state, "job_states": ", ".join(JOB_STATES)},
                                  hint=N_("Use one of: {job_states}."))
        with self.units() as uow:
            return [job_dict(j) for j in uow.jobs.recent(state=state, tenant=tenant, limit=max(1, min(limit, 1000)))]

    def stats(self) -> dict[str, int]:
        """Jobs per state (every state present, zero when empty)."""
        with self.units() as uow:
            rows = uow.jobs.state_counts()
        return {st: 0 for st in JOB_STATES} | {st: int(n) for st, n in rows}

    def pending(self) -> int:
        """Jobs not finished yet (queued, including backoffs, or running)."""
        st = self.stats()
        return st["queued"] + st["running"]

    def requeue(self, job_id: str) -> dict[str, Any]:
        """Give a dead job a fresh set of attempts (after fixing whatever killed it)."""
        now = self.clock()
        with self.units() as uow:
            job = uow.jobs.get(job_id)
            if job is None:
                raise NotFoundError("no job {job!r}", values={"job": job_id})
            if job.state != "dead":
                raise ConflictError("job {job} is {state}, not dead", values={"job": job_id, "state": job.state},
                                    hint="Only dead jobs can be requeued.")
            job.state, job.attempts, job.run_after, job.updated_at = "queued", 0, now, now
            job.finished_at = job.lease_token = job.lease_expires_at = None
            uow.jobs.save(job)
            return job_dict(job)


def due_in(job: dict[str, Any], now: datetime | None = None) -> float:
    """Seconds until a queued job may run (0 when due)."""
    run_after = datetime.fromisoformat(job["run_after"])
    return max(0.0, (run_after - (now or utcnow())).total_seconds())


__all__ = ["Lease", "LeaseLostError", "Queue", "backoff_seconds", "due_in", "job_dict", "new_job_id"]
