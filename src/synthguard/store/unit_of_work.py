"""The storage seam of issue 23: ``with db.unit_of_work() as uow:`` gives the repositories over one transaction.

Everything done through one unit of work commits together or not at all: a record, its ledger entry and the
vault's copy of the client IP (DS-18) cannot be half written.  The repositories are thin, typed views of the
``*_repo`` query modules bound to the unit's session, so a caller names no SQLAlchemy ``Session``;
:attr:`UnitOfWork.session` stays available for the domain objects that still take one (the ledger, the vault).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from synthguard.store import record_repo, user_repo
from synthguard.store.base import named_rows, tenant_rows, tenants_naming
from synthguard.store.compliance_repo import ComplianceRepository
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


class UnitOfWork:
    """One transaction and the repositories over it; made by :meth:`synthguard.store.db.Database.unit_of_work`."""

    def __init__(self, session: Session):
        self.session = session
        self.users = Users(session)
        self.records = Records(session)
        self.compliance = ComplianceRepository(session)


__all__ = ["ComplianceRepository", "Records", "Session", "UnitOfWork", "Users"]
