"""The storage seam of issue 23: ``with db.unit_of_work() as uow:`` gives the repositories over one transaction.

Everything done through one unit of work commits together or not at all: a record, its ledger entry and the
vault's copy of the client IP (DS-18) cannot be half written.  The repositories are thin, typed views of the
``*_repo`` query modules bound to the unit's session, so a caller names no SQLAlchemy ``Session``;
:attr:`UnitOfWork.session` stays available for the domain objects that still take one (the ledger, the vault).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from synthguard.store import consent_repo, record_repo, scan_tables, user_repo
from synthguard.store.base import named_rows, tenant_rows, tenants_naming
from synthguard.store.consent_tables import ConsentChallenge, ConsentGrant, ConsentSubject, ConsentTemplate
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


class UnitOfWork:
    """One transaction and the repositories over it; made by :meth:`synthguard.store.db.Database.unit_of_work`."""

    def __init__(self, session: Session):
        self.session = session
        self.users = Users(session)
        self.records = Records(session)
        self.consent = Consent(session)
        self.scan_cache = ScanCacheEntries(session)


__all__ = ["Consent", "Records", "ScanCacheEntries", "Session", "UnitOfWork", "Users"]
