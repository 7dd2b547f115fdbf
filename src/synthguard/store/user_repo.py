"""Queries of the accounts and their identity verifications (DS-07), so the core holds no SQL (issue 23).

Plain functions over a ``Session`` the caller opened, so an account's verification commits with its ledger entry;
they return ORM rows or plain values and leave the rules (ids per tenant, issue 18 finding 13) to the core.
``Session`` is re-exported for the domain's type annotations.  Accounts by name, by tenant and the tenants that use a
name are the queries every tenant-named table shares (:func:`synthguard.store.base.named_rows` and its siblings,
which :class:`synthguard.store.unit_of_work.Users` calls with ``User``).
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


def add(s: Session, row: User) -> bool:
    """Insert the account now; False when the same id was created in its tenant at the same moment."""
    return insert_unique(s, row)


def add_verification(s: Session, row: IdentityVerification) -> None:
    """Keep a verification; it is written with the transaction (no flush, as before)."""
    s.add(row)


__all__ = ["Session", "add", "add_verification", "key_of", "user"]
