"""Queries of the API tokens (``synthguard.auth``), so the auth module holds no SQL (issue 23).

Each function is one transaction on the :class:`Database`, as the auth functions were; they return ORM rows (the
session does not expire them on commit) and leave roles and checks to ``synthguard.auth``.
"""

from __future__ import annotations

from sqlalchemy import select

from synthguard.store.auth_tables import ApiToken
from synthguard.store.base import utcnow
from synthguard.store.db import Database


def add_token(db: Database, *, name: str, role: str, tenant: str, token_hash: str) -> ApiToken:
    with db.session() as s:
        row = ApiToken(name=name, role=role, tenant=tenant, token_hash=token_hash)
        s.add(row)
        s.flush()
        return row


def tenant_has_live_token(db: Database, tenant: str) -> bool:
    with db.session() as s:
        return s.scalar(select(ApiToken.id).where(ApiToken.tenant == tenant, ApiToken.revoked_at.is_(None))
                        .limit(1)) is not None


def tokens(db: Database) -> list[ApiToken]:
    with db.session() as s:
        return list(s.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke(db: Database, token_id: int) -> ApiToken | None:
    """Revoke the token (idempotent: the first revocation time stays); ``None`` when there is no such token."""
    with db.session() as s:
        row = s.get(ApiToken, token_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
        return row


def by_hash(db: Database, token_hash: str) -> ApiToken | None:
    with db.session() as s:
        return s.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


__all__ = ["add_token", "by_hash", "revoke", "tenant_has_live_token", "tokens"]
