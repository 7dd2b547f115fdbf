"""Queries of the accounts and their identity verifications (DS-07), so the core holds no SQL (issue 23).

Plain functions over a ``Session`` the caller opened, so an account's verification commits with its ledger entry;
they return ORM rows or plain values and leave the rules (ids per tenant, issue 18 finding 13) to the core.
``Session`` is re-exported for the domain's type annotations.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from synthguard.store.base import insert_unique
from synthguard.store.schema import IdentityVerification, User


def key_of(s: Session, tenant: str, name: str) -> str | None:
    """The key (``User.id``) of ``tenant``'s account ``name``."""
    return s.scalar(select(User.id).where(User.tenant == tenant, User.name == name))


def user(s: Session, key: str) -> User | None:
    """The account of key ``key``."""
    return s.get(User, key)


def named(s: Session, name: str, tenant: str | None, *, limit: int) -> list[User]:
    """Accounts of id ``name`` (in ``tenant``, or in any tenant with ``None``), by tenant, at most ``limit``."""
    q = select(User).where(User.name == name)
    if tenant is not None:
        q = q.where(User.tenant == tenant)
    return list(s.scalars(q.order_by(User.tenant).limit(limit)))


def tenants_of(s: Session, name: str) -> list[str]:
    """The tenants that have an account of id ``name``, sorted."""
    return list(s.scalars(select(User.tenant).where(User.name == name).order_by(User.tenant)))


def users(s: Session, tenant: str | None) -> list[User]:
    """Every account (of ``tenant`` when given), oldest first."""
    q = select(User).order_by(User.created_at)
    if tenant is not None:
        q = q.where(User.tenant == tenant)
    return list(s.scalars(q))


def add(s: Session, row: User) -> bool:
    """Insert the account now; False when the same id was created in its tenant at the same moment."""
    return insert_unique(s, row)


def add_verification(s: Session, row: IdentityVerification) -> None:
    """Keep a verification; it is written with the transaction (no flush, as before)."""
    s.add(row)


__all__ = ["Session", "add", "add_verification", "key_of", "named", "tenants_of", "user", "users"]
