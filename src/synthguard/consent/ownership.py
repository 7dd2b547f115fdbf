"""Who may export or erase a protected person: the person, proved by their key, or an admin (issue 18 finding 4).

A protected person's record holds decrypted-on-export face and voice embeddings (PI-06 sensitive personal
information).  A victim or platform token of the same tenant is not the person: it may have registered someone
else.  So export and erasure by anyone but an admin need a *subject request* signed with the Ed25519 key the
person registered (``signing_key``; ``synthguard consent keygen``)::

    synthguard-subject-request/1
    <action>            export | erase | enrol (adding templates to an existing person)
    <subject id>
    <tenant>
    <UTC time, ISO 8601>

sent as the ``X-Subject-Request`` header (base64 of that text) with ``X-Subject-Signature`` (base64 signature).
The time must be within :data:`MAX_SKEW` of the server's clock, so a captured request is short-lived.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthguard.consent.evidence import load_public_key
from synthguard.errors import ForbiddenError, ValidationError
from synthguard.i18n import N_

__all__ = ["ACTIONS", "MAX_SKEW", "SubjectProofError", "request_text", "sign_request", "verify_request"]

HEADER = "synthguard-subject-request/1"
ACTIONS = ("export", "erase", "enrol")
MAX_SKEW = timedelta(minutes=5)


class SubjectProofError(ForbiddenError):
    """The caller did not prove to be the protected person (nor is an admin)."""

    hint = N_("Sign the request with the person's key: `synthguard consent sign-request KEYFILE --action export "
              "SUBJECT`, and send X-Subject-Request and X-Subject-Signature; or ask an admin.")


def request_text(action: str, subject: str, tenant: str, at: datetime) -> str:
    stamp = at.astimezone(UTC).isoformat(timespec="seconds")
    return f"{HEADER}\n{action}\n{subject}\n{tenant}\n{stamp}\n"


def sign_request(private_key_path: str | Path, *, action: str, subject: str, tenant: str,
                 at: datetime | None = None) -> dict[str, str]:
    """The two headers, made on the person's own device with their private key."""
    if action not in ACTIONS:
        raise ValidationError("action must be one of {actions}", values={"actions": ", ".join(ACTIONS)})
    try:
        key = serialization.load_pem_private_key(Path(private_key_path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ValidationError("cannot read the private key: {exc}", values={"exc": exc}, path=private_key_path) \
            from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError("the signing key must be an Ed25519 private key", path=private_key_path)
    text = request_text(action, subject, tenant, at or datetime.now(UTC)).encode()
    return {"X-Subject-Request": base64.b64encode(text).decode(),
            "X-Subject-Signature": base64.b64encode(key.sign(text)).decode()}


def verify_request(request_b64: str | None, signature_b64: str | None, *, action: str, subject: str, tenant: str,
                   registered_key: str | None, now: datetime) -> None:
    """SubjectProofError unless the request names this action, subject and tenant, is fresh and is signed by the
    person's registered key."""
    if not registered_key:
        raise SubjectProofError("this protected person registered no key: only an admin may {action} the record",
                                values={"action": action})
    if not request_b64 or not signature_b64:
        raise SubjectProofError("{action} of a protected person needs a request signed with the person's key",
                                values={"action": action})
    try:
        text = base64.b64decode(request_b64, validate=True)
        signature = base64.b64decode(signature_b64, validate=True)
        lines = text.decode().split("\n")
        at = datetime.fromisoformat(lines[5 - 1])
    except (binascii.Error, UnicodeDecodeError, ValueError, IndexError):
        raise SubjectProofError("the subject request is malformed") from None
    if text.decode() != request_text(action, subject, tenant, at):
        raise SubjectProofError("the subject request is for another action, person or tenant")
    if at.tzinfo is None or abs(now - at) > MAX_SKEW:
        raise SubjectProofError("the subject request is stale or from the future (clock skew over 5 minutes)")
    try:
        load_public_key(registered_key).verify(signature, text)
    except InvalidSignature:
        raise SubjectProofError("the subject request is not signed by the person's registered key") from None
