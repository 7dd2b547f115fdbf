"""The storage seam of issue 23: ``with db.unit_of_work() as uow:`` gives the repositories over one transaction.

Everything done through one unit of work commits together or not at all: a record, its ledger entry and the
vault's copy of the client IP (DS-18) cannot be half written.  The repositories are thin, typed views of the
``*_repo`` query modules bound to the unit's session, so a caller names no SQLAlchemy ``Session``;
:attr:`UnitOfWork.session` stays available for the domain objects that still take one (the ledger, the vault).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from synthguard.store import job_repo, ledger_repo, record_repo, scan_tables, user_repo
from synthguard.store.base import named_rows, tenant_rows, tenants_naming
from synthguard.store.compliance_repo import ComplianceRepository
from synthguard.store.job_tables import Job
from synthguard.store.moderation_repo import ModerationStore
from synthguard.store.scan_tables import DeepScanUpload
from synthguard.store.schema import IdentityVerification, Record, User


class Users:
    """The accounts and their identity verifications (DS-07) in one unit of work."""

    def __init__(self, session: Session):
        self._s = session

    def key_of(self, tenant: str, name: str) -> str | None:
        return user_repo.key_of(self._s, tenant, name)

    def get(self, key: str) -> User | None:
        return user_repo.user(self._s, key)

    def named(self, name: str, tenant: str | None, *, limit: int) -> list[User]:
        return named_rows(self._s, User, name, tenant, limit=limit)

    def tenants_of(self, name: str) -> list[str]:
        return tenants_naming(self._s, User, name)

    def all(self, tenant: str | None) -> list[User]:
        return tenant_rows(self._s, User, tenant)

    def add(self, row: User) -> bool:
        return user_repo.add(self._s, row)

    def add_verification(self, row: IdentityVerification) -> None:
        user_repo.add_verification(self._s, row)


class Records:
    """The generation records and their fingerprints (DS-18) in one unit of work."""

    def __init__(self, session: Session):
        self._s = session

    def add(self, rec: Record) -> None:
        record_repo.add(self._s, rec)

    def get(self, content_id: Any) -> Record | None:
        return record_repo.record(self._s, content_id)

    def by_watermark(self, payload: Any) -> Record | None:
        return record_repo.record_by_watermark(self._s, payload)


class Jobs:
    """The job queue's rows (:mod:`synthguard.jobs.queue`) in one unit of work: a job's completion commits with
    the ledger entry appended in the same unit (DS-10)."""

    def __init__(self, session: Session):
        self._s = session

    def add(self, job: Job) -> None:
        job_repo.add(self._s, job)

    def notify(self, channel: str) -> None:
        job_repo.notify(self._s, channel)

    def get(self, job_id: str) -> Job | None:
        return job_repo.get(self._s, job_id)

    def by_key(self, tenant: str, key: str) -> Job | None:
        return job_repo.by_key(self._s, tenant, key)

    def claim(self, *, now: datetime, token: str, worker: str, lease_until: datetime) -> Any:
        return job_repo.claim(self._s, now=now, token=token, worker=worker, lease_until=lease_until)

    def update_leased(self, job_id: str, token: str, values: dict[str, Any]) -> int:
        return job_repo.update_leased(self._s, job_id, token, values)

    def save(self, job: Job) -> None:
        """Write the changes made to ``job`` (a row of :meth:`get`) now, inside the unit."""
        self._s.flush()

    def recent(self, *, state: str | None, tenant: str | None, limit: int) -> list[Job]:
        return job_repo.recent(self._s, state=state, tenant=tenant, limit=limit)

    def state_counts(self) -> list[Any]:
        return job_repo.state_counts(self._s)

    def unfinished_payloads(self, kinds: Sequence[str]) -> list[Any]:
        return job_repo.unfinished_payloads(self._s, kinds)

    def outcomes(self, kind: str) -> list[Any]:
        return job_repo.outcomes(self._s, kind)

    def ledger_entries(self, kind: str) -> list[Any]:
        """``(index, data)`` of the ledger entries of ``kind``: the other side of the jobs' audit."""
        return ledger_repo.entries_of_kind(self._s, kind)


class DeepScans:
    """The uploads attached to deep-scan jobs (issue 28) in one unit of work."""

    def __init__(self, session: Session):
        self._s = session

    def attach(self, job_id: str, *, tenant: str, name: str, declared_ai: bool, content_ref: str | None = None,
               callback_url: str | None = None) -> tuple[int, str | None]:
        return scan_tables.attach_in(self._s, job_id, tenant=tenant, name=name, declared_ai=declared_ai,
                                     content_ref=content_ref, callback_url=callback_url)

    def undelivered(self, job_id: str, upload_id: int | None = None) -> list[DeepScanUpload]:
        return scan_tables.undelivered(self._s, job_id, upload_id)

    def stranded(self, *, limit: int = 100) -> list[tuple[str, str]]:
        return scan_tables.stranded(self._s, limit=limit)

    def mark_delivered(self, upload_id: int, result: dict[str, Any], ledger_index: int | None) -> bool:
        return scan_tables.mark_delivered(self._s, upload_id, result, ledger_index)

    def uploads_of(self, job_id: str) -> list[dict[str, Any]]:
        return scan_tables.uploads_of(self._s, job_id)


class UnitOfWork:
    """One transaction and the repositories over it; made by :meth:`synthguard.store.db.Database.unit_of_work`."""

    def __init__(self, session: Session):
        self.session = session
        self.users = Users(session)
        self.records = Records(session)
        self.jobs = Jobs(session)
        self.deep_scans = DeepScans(session)
        self.moderation = ModerationStore(session)
        self.compliance = ComplianceRepository(session)


__all__ = ["ComplianceRepository", "DeepScans", "Jobs", "Records", "Session", "UnitOfWork", "Users"]
