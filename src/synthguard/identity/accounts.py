"""Accounts and their real-identity verification (DS-07): the ``Identity`` service of issue 23's composition root.

Built from narrow dependencies, not from the core object: a unit-of-work factory, the ledger, the identity salt,
the configured verifier and two settings read when used (a test or the operator may change them on a running
core).  Ids are per tenant (issue 18 finding 13): two tenants' ``alice`` are two accounts with two ledger
pseudonyms.  Registration checks that belong to compliance (DS-24 switch, tenant id) come in as ``admit``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from synthguard.errors import ConflictError, IdentityNotVerifiedError, NotFoundError, ValidationError
from synthguard.i18n import N_
from synthguard.identity import (
    IdentityVerifier,
    Method,
    check_user_id,
    identifier_hash,
    scoped_key,
    tenant_key,
)
from synthguard.ledger.log import Ledger
from synthguard.store.schema import IdentityVerification, User
from synthguard.store.unit_of_work import Session, UnitOfWork, Users

ADD_USER_HINT = N_("Add it first: `synthguard users add USER`.")


class Identity:
    """Register, verify, look up and pseudonymise accounts (DS-07, DS-18 user reference)."""

    def __init__(self, units: Callable[[], AbstractContextManager[UnitOfWork]], ledger: Ledger, *,
                 salt: Callable[[], bytes], verifier: Callable[[], IdentityVerifier],
                 required: Callable[[], bool], admit: Callable[[str], None]):
        self._units = units
        self._ledger = ledger
        self._salt = salt  # read when first needed: a core without keys can still list accounts
        self._verifier = verifier
        self._required = required
        self._admit = admit

    # --- pseudonyms ------------------------------------------------------------------------
    def user_ref(self, key: str) -> str:
        """Pseudonymous reference of the account key ``key`` for the ledger (never the account id itself)."""
        return hmac.new(self._salt(), b"user:" + key.encode(), hashlib.sha256).hexdigest()[:32]

    def account_ref(self, tenant: str, user_id: str, *, session: Session | None = None) -> str:
        """The ledger pseudonym of account ``user_id`` of ``tenant``; for an id that is no account (a grantee named
        freely), of the key it would get.  In the default tenant that is ``user_ref(user_id)``."""
        if session is None:
            with self._units() as uow:
                return self.account_ref(tenant, user_id, session=uow.session)
        key = Users(session).key_of(tenant, user_id)
        return self.user_ref(key or scoped_key(tenant, user_id))

    # --- look-ups --------------------------------------------------------------------------
    def account(self, users: Users, user_id: str, tenant: str | None = None) -> User:
        """The account ``user_id`` of ``tenant``, else NotFoundError; ``tenant`` None: the one account with that
        id in any tenant, ValidationError when several tenants use the id."""
        rows = users.named(user_id, tenant, limit=2)
        if not rows:
            raise NotFoundError("no user {user!r}", values={"user": user_id}, hint=ADD_USER_HINT)
        if len(rows) > 1:
            tenants = ", ".join(users.tenants_of(user_id))
            raise ValidationError("user id {user!r} exists in several tenants ({tenants})",
                                  values={"user": user_id, "tenants": tenants},
                                  hint=N_("Name the tenant: --tenant TENANT (tenant= in the library)."))
        return rows[0]

    def require_verified(self, users: Users, user_id: str, tenant: str | None = None) -> User:
        """The account, refused when the deployment requires a verified real identity and it has none (DS-07)."""
        u = self.account(users, check_user_id(user_id), tenant)
        if self._required() and not is_verified(u):
            raise IdentityNotVerifiedError("user {user!r} has no verified real-identity record (DS-07)",
                                           values={"user": user_id})
        return u

    def get(self, user_id: str, *, tenant: str | None = None) -> dict[str, Any]:
        with self._units() as uow:
            return user_dict(self.account(uow.users, user_id, tenant))

    def all(self, *, tenant: str | None = None) -> list[dict[str, Any]]:
        with self._units() as uow:
            return [user_dict(u) for u in uow.users.all(tenant)]

    # --- changes ---------------------------------------------------------------------------
    def add(self, user_id: str, *, tenant: str = "default") -> dict[str, Any]:
        """Register ``user_id`` in ``tenant``; another tenant's account of the same id neither blocks this one nor
        shows (the conflict is only for the same tenant)."""
        check_user_id(user_id)
        if tenant == "*":
            raise ValidationError("tenant {tenant!r} is not a valid tenant id", values={"tenant": tenant})
        self._admit(tenant)
        with self._units() as uow:
            if uow.users.key_of(tenant, user_id) is not None:
                raise ConflictError("user {user!r} already exists", values={"user": user_id})
            key = scoped_key(tenant, user_id)
            if uow.users.get(key) is not None:  # an older account of another tenant holds the bare id
                key = tenant_key(tenant, user_id)
            if not uow.users.add(User(id=key, name=user_id, tenant=tenant)):
                # the same id created in this tenant at the same moment (unique per tenant)
                raise ConflictError("user {user!r} already exists", values={"user": user_id})
        return self.get(user_id, tenant=tenant)

    def verify(self, user_id: str, method: str, *, identifier: str | None = None, reference: str | None = None,
               verifier: IdentityVerifier | None = None, tenant: str | None = None) -> dict[str, Any]:
        """Check the account's real identity with ``verifier`` (default: the configured one) and keep the result
        with its ledger entry; ValidationError when the verifier refuses."""
        try:
            m = Method(method)
        except ValueError:
            raise ValidationError("unknown verification method {method!r}",
                                  hint=N_("Use one of: {methods}."),
                                  values={"method": method, "methods": ", ".join(x.value for x in Method)}) from None
        result = (verifier or self._verifier()).verify(user_id, m, identifier, reference)
        salt = self._salt() if identifier else b""
        with self._units() as uow:
            u = self.account(uow.users, user_id, tenant)
            tenant = u.tenant
            uow.users.add_verification(IdentityVerification(
                user_id=u.id, method=m.value, result="verified" if result.verified else "failed",
                verifier=result.verifier, reference=result.reference,
                identifier_hash=identifier_hash(salt, m, identifier) if identifier else None,
            ))
            self._ledger.append(uow.session, "identity", {"event": "identity_verification",
                                "user": self.user_ref(u.id), "method": m.value, "verified": result.verified})
        if not result.verified:
            raise ValidationError("identity verification failed: {reason}", values={"reason": result.reason})
        return self.get(user_id, tenant=tenant)


def is_verified(u: User) -> bool:
    return bool(u.verifications) and u.verifications[-1].result == "verified"


def user_dict(u: User) -> dict[str, Any]:
    last = u.verifications[-1] if u.verifications else None
    return {"id": u.name, "tenant": u.tenant, "created_at": u.created_at.isoformat(), "verified": is_verified(u),
            "verification": None if last is None else {
                "method": last.method, "result": last.result, "verified_at": last.verified_at.isoformat(),
                "verifier": last.verifier, "reference": last.reference}}


__all__ = ["ADD_USER_HINT", "Identity", "is_verified", "user_dict"]
