"""Queries of the job queue (``synthguard.jobs``), so the queue holds no SQL (issue 23).

Plain functions over a ``Session`` the caller opened (``with db.session() as s:``), so what was one transaction
in the queue stays one -- above all a job's completion, which commits with its ledger entry.  They return ORM
rows, result rows or row counts and leave the decisions (retry or dead letter, lease lost, idempotency conflict)
to ``jobs.queue``.  Each function issues exactly the statements the queue issued before (the enqueue is on the
scan's hot path).  ``Session`` is re-exported for the domain's type annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from synthguard.store.job_tables import Job

_NOTIFY = text("SELECT pg_notify(:channel, '')")


def is_duplicate(exc: BaseException) -> bool:
    """Whether a StoreError was caused by a unique constraint (a concurrent enqueue with the same key won)."""
    return isinstance(exc.__cause__, IntegrityError)


def add(s: Session, job: Job) -> None:
    """Insert the job now (its unique idempotency key is checked at this flush)."""
    s.add(job)
    s.flush()


def notify(s: Session, channel: str) -> None:
    """On Postgres, wake the idle workers listening on ``channel`` when this transaction commits."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(_NOTIFY, {"channel": channel})


def get(s: Session, job_id: str) -> Job | None:
    return s.get(Job, job_id)


def by_key(s: Session, tenant: str, key: str) -> Job | None:
    """The tenant's job of idempotency key ``key``."""
    return s.scalars(select(Job).where(Job.tenant == tenant, Job.idempotency_key == key)).first()


def claim(s: Session, *, now: datetime, token: str, worker: str, lease_until: datetime) -> Any:
    """Lease the next runnable job (queued and due, or running with a lease expired at ``now``) in one statement:
    ``(id, kind, tenant, payload, attempts, max_attempts)`` after the bump, or None.  ``FOR UPDATE SKIP LOCKED``
    on Postgres; SQLite runs the ``UPDATE ... RETURNING`` under its write lock."""
    due = or_(and_(Job.state == "queued", Job.run_after <= now),
              and_(Job.state == "running", Job.lease_expires_at < now))
    pick = (select(Job.id).where(due).order_by(Job.run_after, Job.id).limit(1)
            .with_for_update(skip_locked=True).scalar_subquery())
    stmt = (update(Job).where(Job.id == pick)
            .values(state="running", attempts=Job.attempts + 1, lease_token=token, leased_by=worker,
                    lease_expires_at=lease_until, updated_at=now)
            .returning(Job.id, Job.kind, Job.tenant, Job.payload, Job.attempts, Job.max_attempts)
            .execution_options(synchronize_session=False))
    return s.execute(stmt).first()


def update_leased(s: Session, job_id: str, token: str, values: dict[str, Any]) -> int:
    """Set ``values`` on the job if it is still running under lease ``token``; the number of rows changed (0/1)."""
    result = s.execute(update(Job).where(Job.id == job_id, Job.lease_token == token, Job.state == "running")
                       .values(**values).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def recent(s: Session, *, state: str | None, tenant: str | None, limit: int) -> list[Job]:
    """Newest jobs first, of ``state`` and ``tenant`` when given."""
    q = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if state:
        q = q.where(Job.state == state)
    if tenant:
        q = q.where(Job.tenant == tenant)
    return list(s.scalars(q))


def state_counts(s: Session) -> list[Any]:
    """``(state, count)`` of the states that have jobs."""
    return list(s.execute(select(Job.state, func.count()).group_by(Job.state)).all())


def unfinished_payloads(s: Session, kinds: Sequence[str]) -> list[Any]:
    """The payloads of the jobs of ``kinds`` that are not done (queued, running or dead)."""
    return list(s.execute(select(Job.payload).where(Job.kind.in_(tuple(kinds)), Job.state != "done")).scalars())


def outcomes(s: Session, kind: str) -> list[Any]:
    """``(id, state, ledger_index)`` of every job of ``kind``."""
    return list(s.execute(select(Job.id, Job.state, Job.ledger_index).where(Job.kind == kind)).all())


__all__ = ["Job", "Session", "add", "by_key", "claim", "get", "is_duplicate", "notify", "outcomes", "recent",
           "state_counts", "unfinished_payloads", "update_leased"]
