"""API tokens: create, list, revoke, authenticate (the HTTP service's roles and tenants).

A token is ``"sg_" + base64url(32 random bytes)``.  Only its SHA-256 is stored, so a copy of the
database does not let anyone call the API; the secret is shown once, at creation.  Lookup is by
hash, and the stored hash is compared with :func:`hmac.compare_digest` (constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from synthguard.errors import AuthError, ForbiddenError, NotFoundError, ValidationError
from synthguard.i18n import N_
from synthguard.store import auth_repo as repo
from synthguard.store.auth_tables import ApiToken
from synthguard.store.db import Database

__all__ = [
    "PREFIX", "Principal", "Role", "authenticate", "create_token", "list_tokens", "principal_dict", "revoke_token",
]

PREFIX = "sg_"
OPERATOR = "*"  # the tenant of a global operator's admin token
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Role(StrEnum):
    """Who calls the API (REQUIREMENTS.md role codes: PROV, PLAT, VICTIM, plus reviewers and authorities)."""

    PROVIDER = "provider"
    PLATFORM = "platform"
    REVIEWER = "reviewer"
    VICTIM = "victim"
    REGULATOR = "regulator"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: one token, one role, one tenant."""

    token_id: int
    role: Role
    tenant: str
    name: str

    @property
    def operator(self) -> bool:
        """A global operator: an admin token created for tenant ``*``.  Every other admin is its tenant's only
        (issue 18 finding 10)."""
        return self.role is Role.ADMIN and self.tenant == OPERATOR

    def require(self, *roles: Role) -> Principal:
        if self.role not in roles:
            raise ForbiddenError("role {role!r} may not do this; allowed: {allowed}",
                                 values={"role": self.role.value, "allowed": ", ".join(r.value for r in roles)})
        return self


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _token_dict(t: ApiToken) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "role": t.role, "tenant": t.tenant, "created_at": t.created_at.isoformat(),
            "revoked": t.revoked_at is not None,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}


def create_token(db: Database, role: Role | str, tenant: str, name: str = "") -> tuple[str, dict[str, Any]]:
    """Make a token; return ``(secret, info)``.  The secret is never stored or retrievable again."""
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError("unknown role {role!r}",
                              values={"role": role, "roles": ", ".join(Role)},
                              hint=N_("Use one of: {roles}.")) from None
    if tenant == OPERATOR and role is not Role.ADMIN:
        raise ValidationError("only admin tokens may be global operators (tenant '*')")
    if tenant != OPERATOR and not _TENANT.match(tenant):
        raise ValidationError("tenant {tenant!r} is not a valid tenant id", values={"tenant": tenant},
                              hint="Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    if len(name) > 128:
        raise ValidationError("token name is longer than 128 characters")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = repo.add_token(db, name=name, role=role.value, tenant=tenant, token_hash=_hash(secret))
    return secret, _token_dict(row)


def known_tenant(db: Database, tenant: str) -> bool:
    """A tenant exists when it is ``default`` or holds a live token (complaints to made-up tenants are refused:
    issue 18 finding 6)."""
    if tenant == "default":
        return True
    return repo.tenant_has_live_token(db, tenant)


def list_tokens(db: Database) -> list[dict[str, Any]]:
    return [_token_dict(t) for t in repo.tokens(db)]


def revoke_token(db: Database, token_id: int) -> dict[str, Any]:
    """Revoke a token (idempotent); the row stays so the audit trail names who held it."""
    row = repo.revoke(db, token_id)
    if row is None:
        raise NotFoundError("no API token {token_id}",
                            values={"token_id": token_id}, hint="List tokens with `synthguard tokens list`.")
    return _token_dict(row)


def authenticate(db: Database, secret: str | None) -> Principal:
    """The principal for a bearer secret; AuthError (401) for a missing, unknown or revoked token."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 128:
        raise AuthError("missing or malformed API token")
    digest = _hash(secret)
    row = repo.by_hash(db, digest)
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise AuthError("unknown API token")
    if row.revoked_at is not None:
        raise AuthError("the API token was revoked")
    return Principal(row.id, Role(row.role), row.tenant, row.name)


def principal_dict(p: Principal) -> dict[str, Any]:
    return asdict(p) | {"role": p.role.value}
