"""The storage seam of issue 23: ``with db.unit_of_work() as uow:`` gives the repositories over one transaction.

Everything done through one unit of work commits together or not at all: a record, its ledger entry and the
vault's copy of the client IP (DS-18) cannot be half written.  The repositories are thin, typed views of the
``*_repo`` query modules bound to the unit's session, so a caller names no SQLAlchemy ``Session``;
:attr:`UnitOfWork.session` stays available for the domain objects that still take one (the ledger, the vault).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from synthguard.store import bank_repo, consent_repo, job_repo, ledger_repo, record_repo, scan_tables, user_repo
from synthguard.store.bank_tables import HashBank, HashBankAudit, HashBankEntry
from synthguard.store.base import named_rows, tenant_rows, tenants_naming
from synthguard.store.compliance_repo import ComplianceRepository
from synthguard.store.consent_tables import ConsentChallenge, ConsentGrant, ConsentSubject, ConsentTemplate
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


class Consent:
    """The likeness registry's subjects, templates, challenges and grants (DS-15) in one unit of work
    (``consent_repo``)."""

    def __init__(self, session: Session):
        self._s = session

    def subject(self, key: str) -> ConsentSubject | None:
        return consent_repo.subject(self._s, key)

    def subject_in_tenant(self, tenant: str, name: str) -> ConsentSubject | None:
        return consent_repo.subject_in_tenant(self._s, tenant, name)

    def subjects_named(self, name: str, tenant: str | None, *, limit: int) -> list[ConsentSubject]:
        return consent_repo.subjects_named(self._s, name, tenant, limit=limit)

    def tenants_of(self, name: str) -> list[str]:
        return consent_repo.tenants_of(self._s, name)

    def subjects(self, tenant: str | None) -> list[ConsentSubject]:
        return consent_repo.subjects(self._s, tenant)

    def add(self, row: ConsentSubject | ConsentTemplate | ConsentChallenge) -> None:
        consent_repo.add(self._s, row)

    def template_modalities(self, key: str) -> list[str]:
        return consent_repo.template_modalities(self._s, key)

    def templates_of(self, key: str) -> list[ConsentTemplate]:
        return consent_repo.templates_of(self._s, key)

    def gallery_signature(self, modality: str, model_sha256: str, tenant: str | None) -> tuple[Any, ...]:
        return consent_repo.gallery_signature(self._s, modality, model_sha256, tenant)

    def gallery(self, modality: str, model_sha256: str, tenant: str | None) -> list[Any]:
        return consent_repo.gallery(self._s, modality, model_sha256, tenant)

    def has_templates(self, modality: str, *, protected_only: bool = False) -> bool:
        return consent_repo.has_templates(self._s, modality, protected_only=protected_only)

    def delete_templates(self, key: str) -> list[ConsentTemplate]:
        return consent_repo.delete_templates(self._s, key)

    def challenge(self, challenge_id: str) -> ConsentChallenge | None:
        return consent_repo.challenge(self._s, challenge_id)

    def challenges_of(self, key: str) -> list[ConsentChallenge]:
        return consent_repo.challenges_of(self._s, key)

    def delete_challenges(self, key: str) -> None:
        consent_repo.delete_challenges(self._s, key)

    def grant(self, grant_id: str) -> ConsentGrant | None:
        return consent_repo.grant(self._s, grant_id)

    def add_grant(self, g: ConsentGrant) -> None:
        consent_repo.add_grant(self._s, g)

    def evidence_used(self, sha256: str) -> bool:
        return consent_repo.evidence_used(self._s, sha256)

    def grants_of(self, key: str) -> list[ConsentGrant]:
        return consent_repo.grants_of(self._s, key)

    def grants_for(self, key: str, purpose: str, grantees: Sequence[str]) -> list[ConsentGrant]:
        return consent_repo.grants_for(self._s, key, purpose, grantees)

    def grants(self, *, subject_name: str | None, grantee: str | None, tenant: str | None) -> list[ConsentGrant]:
        return consent_repo.grants(self._s, subject_name=subject_name, grantee=grantee, tenant=tenant)


class ScanCacheEntries:
    """The verdict cache's shared table (issue 28, ``scan_tables``) in one unit of work; its hot-path read stays
    on :func:`synthguard.store.scan_tables.cached` (a light connection, no session)."""

    def __init__(self, session: Session):
        self._s = session

    def add(self, key: str, sha256: str, search: str, analysis: dict[str, Any]) -> None:
        scan_tables.cache_add(self._s, key, sha256, search, analysis)

    def prune(self, older_than: timedelta) -> int:
        return scan_tables.cache_prune_in(self._s, older_than)

    def forget(self, sha256: str | None = None) -> int:
        return scan_tables.cache_forget_in(self._s, sha256)


class HashBanks:
    """The named hash banks (DS-09): banks, entries and the audit log that is also their change feed, in one unit
    of work (:mod:`synthguard.store.bank_repo`); the every-scan change check stays on
    :func:`synthguard.store.bank_repo.latest_change` (a light connection, no session)."""

    def __init__(self, session: Session):
        self._s = session

    def bank(self, name: str) -> HashBank | None:
        return bank_repo.bank(self._s, name)

    def bank_exists(self, name: str) -> bool:
        return bank_repo.bank_exists(self._s, name)

    def add_bank(self, row: HashBank) -> bool:
        return bank_repo.add_bank(self._s, row)

    def banks(self) -> list[HashBank]:
        return bank_repo.banks(self._s)

    def banks_with_counts(self, tenant: str | None) -> list[Any]:
        return bank_repo.banks_with_counts(self._s, tenant)

    def names_of_tenant(self, tenant: str) -> set[str]:
        return bank_repo.names_of_tenant(self._s, tenant)

    def share_changes(self, upto: int) -> list[Any]:
        return bank_repo.share_changes(self._s, upto)

    def entry(self, entry_id: int) -> HashBankEntry | None:
        return bank_repo.entry(self._s, entry_id)

    def live_entry_id(self, bank_id: int, h: str) -> int | None:
        return bank_repo.live_entry_id(self._s, bank_id, h)

    def add_entry(self, row: HashBankEntry) -> None:
        bank_repo.add_entry(self._s, row)

    def entries(self, bank_id: int, *, include_removed: bool, limit: int | None, offset: int
                ) -> list[HashBankEntry]:
        return bank_repo.entries(self._s, bank_id, include_removed=include_removed, limit=limit, offset=offset)

    def live_hashes(self, bank_id: int) -> list[Any]:
        return bank_repo.live_hashes(self._s, bank_id)

    def live_data(self, bank_id: int) -> list[Any]:
        return bank_repo.live_data(self._s, bank_id)

    def reasons(self, ids: Sequence[int]) -> dict[int, str]:
        return bank_repo.reasons(self._s, ids)

    def add_audit(self, row: HashBankAudit) -> None:
        bank_repo.add_audit(self._s, row)

    def latest_audit_id(self) -> int:
        return bank_repo.latest_audit_id(self._s)

    def changes(self, after: int, upto: int) -> list[Any]:
        return bank_repo.changes(self._s, after, upto)

    def audit_rows(self, bank_id: int | None) -> list[Any]:
        return bank_repo.audit_rows(self._s, bank_id)


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
        self.consent = Consent(session)
        self.scan_cache = ScanCacheEntries(session)
        self.banks = HashBanks(session)


__all__ = [
    "ComplianceRepository", "Consent", "DeepScans", "HashBanks", "Jobs", "Records", "ScanCacheEntries", "Session",
    "UnitOfWork", "Users"
]
