"""The job queue's table: one row per job, claimed with a lease (see :mod:`synthguard.jobs.queue`).

States: ``queued`` (waiting, possibly until ``run_after`` for a retry backoff), ``running`` (leased to a
worker until ``lease_expires_at``; an expired lease is claimable again: the visibility timeout), ``done``
(result stored, in the same transaction as its ledger entry) and ``dead`` (the dead letter: retries
exhausted or a permanent input error).  ``lease_token`` fences a worker whose lease was taken over: its
completion no longer matches and rolls back, so a job completes exactly once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from synthguard.store.base import Base, UTCDateTime, utcnow

JOB_STATES = ("queued", "running", "done", "dead")


class Job(Base):
    """A unit of work (a scan, a checkpoint ...) with its payload, attempts, lease and outcome."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("tenant", "idempotency_key", name="uq_jobs_tenant_idempotency_key"),
        Index("ix_jobs_claim", "state", "run_after"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    leased_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
