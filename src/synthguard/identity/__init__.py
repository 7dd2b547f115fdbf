"""Service users and real-identity verification (DS-07, DSP Art. 9).

Providers must verify users by mobile number, ID number, unified social credit code or the
national network-identity service before offering publication services. We store the method,
result, time, verifier and a provider reference, and only a salted HMAC of the identifier.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from synthguard.errors import ValidationError


class Method(enum.StrEnum):
    MOBILE = "mobile"
    ID_NUMBER = "id_number"
    CREDIT_CODE = "credit_code"
    NETID = "netid"  # national network-identity public service (国家网络身份认证公共服务)


USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


# Subject ids of other kinds of data in the same vault (complaints, likeness, uploaders): a user id spelled like one
# would share its key, and erase_user on it would shred someone else's data (issue 18 finding 17).
RESERVED_PREFIXES = ("complaint:", "likeness:", "uploader:", "subject:", "user:", "system:")


def check_user_id(user_id: str) -> str:
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        raise ValidationError(
            "invalid user id {user_id!r}", values={"user_id": user_id},
            hint="Use the service's pseudonymous account id: 1-128 letters, digits and ._:@- (no real names).",
        )
    if user_id.lower().startswith(RESERVED_PREFIXES):
        raise ValidationError("user id {user_id!r} uses a reserved prefix", values={"user_id": user_id},
                              hint="Do not start account ids with complaint:, likeness:, uploader:, subject:, user: "
                                   "or system:.")
    return user_id


DEFAULT_TENANT = "default"


def scoped_key(tenant: str, name: str, *, limit: int = 128) -> str:
    """The storage key of a tenant-owned object whose id the tenant chose: a user or a consent subject (issue 18
    finding 13).  Ids are per tenant: tenant ``acme``'s ``alice`` and tenant ``bcorp``'s ``alice`` are two accounts.
    Each row keeps the id it was given (``name``) and this key, which is unique in the deployment and is what the
    vault (crypto-shredding), the ledger pseudonyms and the foreign keys use.

    The default tenant keeps the id itself as its key, so a single-tenant deployment stores exactly what it stored
    before; another tenant's key is ``<tenant>/<id>`` (ids never contain ``/``), or, past ``limit`` characters,
    ``~`` and the SHA-256 of it.  Rows made before ids were per tenant keep their id as their key."""
    if tenant == DEFAULT_TENANT:
        return name
    return tenant_key(tenant, name, limit=limit)


def tenant_key(tenant: str, name: str, *, limit: int = 128) -> str:
    """``<tenant>/<id>`` (or its hash past ``limit``): the key :func:`scoped_key` gives outside the default tenant,
    and the default tenant's key when an older row of another tenant already holds the bare id."""
    key = f"{tenant}/{name}"
    return key if len(key) <= limit else "~" + hashlib.sha256(key.encode()).hexdigest()


def identifier_hash(salt: bytes, method: Method, identifier: str) -> str:
    """Salted HMAC so the same person is recognisable across records without storing the identifier."""
    normalized = re.sub(r"[\s-]", "", identifier).upper()
    return hmac.new(salt, f"{method.value}:{normalized}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class VerificationResult:
    method: Method
    verified: bool
    verifier: str
    reference: str | None = None  # the verifying service's transaction id
    reason: str | None = None


@runtime_checkable
class IdentityVerifier(Protocol):
    """Seam for real verifiers (carrier APIs, eID, the national netid service)."""

    name: str

    def verify(self, user_id: str, method: Method, identifier: str | None, reference: str | None
               ) -> VerificationResult: ...


class OperatorAttestedVerifier:
    """Built-in: the operator has verified the user elsewhere and attests the result (with its reference)."""

    name = "operator"

    def verify(self, user_id: str, method: Method, identifier: str | None, reference: str | None
               ) -> VerificationResult:
        if method is Method.CREDIT_CODE and identifier and not re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", identifier):
            return VerificationResult(method, False, self.name, reference, "not an 18-character credit code")
        if method is Method.MOBILE and identifier and not re.fullmatch(r"\+?[0-9 ()-]{6,20}", identifier):
            return VerificationResult(method, False, self.name, reference, "not a phone number")
        return VerificationResult(method, True, self.name, reference)


__all__ = [
    "IdentityVerifier",
    "Method",
    "OperatorAttestedVerifier",
    "VerificationResult",
    "check_user_id",
    "identifier_hash",
    "scoped_key",
    "tenant_key",
]
