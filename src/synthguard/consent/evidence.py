"""Evidence of *separate* consent (DS-15, PI-07): a statement signed by the subject, or their spoken consent.

Why two kinds.  A ToS checkbox ticked by the provider's user is not the depicted person's consent (PI-07: bundled
consent does not count), so the evidence must come from the subject:

* **statement**: a small JSON document naming subject, grantee, purpose, modalities, scope and expiry, signed with
  the subject's own Ed25519 key (made on their device with ``synthguard consent keygen``; only the public key is
  registered at enrolment).  Any edit to the document breaks the signature.
* **spoken**: a recording of the subject reading a random challenge phrase issued for this grant.  The recording
  must be speech in the subject's enrolled voice (speaker match above the calibrated threshold).  The words are
  not transcribed (no offline speech recogniser ships here): the phrase and the recording are kept, encrypted, for
  a human to check, and the grant says ``phrase_checked: false``.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from synthguard.errors import ConflictError, ValidationError
from synthguard.i18n import N_
from synthguard.media import write_atomic

STATEMENT_TYPE = "synthguard.consent-statement/v1"
STATEMENT_FIELDS = ("type", "subject", "grantee", "purpose", "modalities", "scope", "expires", "nonce", "signed_at",
                    "text", "public_key")
_WORDS = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "indigo", "juniper", "kestrel",
          "lagoon", "meadow", "nectar", "orchid", "pebble", "quartz", "river", "saffron", "tundra", "umber", "violet",
          "willow", "zephyr")
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


class TamperedEvidenceError(ValidationError):
    """Consent evidence whose signature or hash no longer matches: never treated as consent."""

    hint = N_("Ask the subject for a new signed statement or recording; do not edit evidence files.")


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def generate_key(path: str | Path) -> str:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) for a subject; return the public key PEM."""
    import os

    path = Path(path)
    if path.exists():
        raise ConflictError("a key file already exists here", path=path, hint="Choose another path; keys are not "
                            "overwritten.")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    write_atomic(path, pem)
    os.chmod(path, 0o600)
    return public_pem(key.public_key())


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise ValidationError("not a PEM public key: {exc}", values={"exc": exc}) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValidationError("the subject's signing key must be an Ed25519 public key",
                              hint="Create one with `synthguard consent keygen KEYFILE`.")
    return key


def _raw_public(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def sign_statement(private_key_path: str | Path, *, subject: str, grantee: str, purpose: str,
                   modalities: list[str], scope: str = "", expires: str | None = None,
                   text: str | None = None) -> dict[str, Any]:
    """The subject signs their consent on their own device; the result is the evidence file's content."""
    try:
        key = serialization.load_pem_private_key(Path(private_key_path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ValidationError("cannot read the private key: {exc}", path=private_key_path,
                              values={"exc": exc}) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError("the signing key must be an Ed25519 private key", path=private_key_path)
    body = {
        "type": STATEMENT_TYPE, "subject": subject, "grantee": grantee, "purpose": purpose,
        "modalities": sorted(modalities), "scope": scope, "expires": expires, "nonce": secrets.token_hex(16),
        "signed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "text": text or (f"I, the person registered as {subject!r}, separately consent to {grantee!r} processing my "
                         f"{' and '.join(sorted(modalities))} for the purpose {purpose!r} within the scope stated "
                         "here, until the expiry date, and I know I can withdraw this consent at any time."),
        "public_key": _raw_public(key.public_key()),
    }
    return body | {"signature": base64.b64encode(key.sign(canonical(body))).decode()}


def verify_statement(data: bytes, *, subject: str, grantee: str, purpose: str, modalities: list[str],
                     expires: datetime | None, registered_key: str | None) -> dict[str, Any]:
    """Check a signed statement against the grant asked for; TamperedEvidenceError / ValidationError otherwise."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError("the consent statement is not JSON: {exc}",
                              hint="Pass the file `synthguard consent statement` wrote, unchanged.",
                              values={"exc": exc}) from None
    if not isinstance(doc, dict) or doc.get("type") != STATEMENT_TYPE:
        raise ValidationError("not a SynthGuard consent statement (type must be {STATEMENT_TYPE!r})",
                              values={"STATEMENT_TYPE": STATEMENT_TYPE})
    missing = [f for f in (*STATEMENT_FIELDS, "signature") if f not in doc]
    if missing:
        raise TamperedEvidenceError("the consent statement lacks {missing}",
                                    values={"missing": ", ".join(missing)})
    if registered_key is None:
        raise ValidationError("subject {subject!r} has no registered signing key, so a signed statement cannot be "
                              "attributed to them", hint="Enrol the subject with --signing-key PUBLIC.pem, or use "
                              "spoken consent (`synthguard consent challenge`).", values={"subject": subject})
    key = load_public_key(registered_key)
    if doc["public_key"] != _raw_public(key):
        raise TamperedEvidenceError("the statement was signed with a key that is not the subject's registered key")
    body = {k: doc[k] for k in STATEMENT_FIELDS}
    try:
        key.verify(base64.b64decode(doc["signature"], validate=True), canonical(body))
    except (InvalidSignature, ValueError):
        raise TamperedEvidenceError("the consent statement's signature does not verify: it was altered after "
                                    "signing, or not signed by the subject") from None
    wanted = {"subject": subject, "grantee": grantee, "purpose": purpose}
    for name, value in wanted.items():
        if doc[name] != value:
            raise ValidationError("the statement consents to {name} {doc_name!r}, not {value!r}",
                                  hint="The subject must sign a statement for exactly this grant.",
                                  values={"name": name, "doc_name": doc[name], "value": value})
    if not set(modalities) <= set(doc["modalities"] or []):
        raise ValidationError("the statement covers {modalities}, not {requested}",
                              values={"modalities": doc["modalities"], "requested": sorted(modalities)})
    signed_exp = doc["expires"]
    if signed_exp is not None and (expires is None or expires.date().isoformat() > str(signed_exp)):
        raise ValidationError("the grant would outlive the statement's expiry {signed_exp}",
                              hint=N_("Pass --expires {signed_exp} or earlier."), values={"signed_exp": signed_exp})
    return {"kind": "statement", "signature": "valid", "key": doc["public_key"], "signed_at": doc["signed_at"],
            "nonce": doc["nonce"], "scope": doc["scope"]}


def challenge_phrase(grantee: str, purpose: str) -> str:
    code = " ".join(secrets.choice(_DIGITS) for _ in range(4))
    words = " ".join(secrets.choice(_WORDS) for _ in range(2))
    return (f"I consent to {grantee} using my likeness for {purpose.replace('_', ' ')}. "
            f"My code is {code}, {words}.")


def write_statement(path: str | Path, statement: dict[str, Any]) -> Path:
    return write_atomic(path, json.dumps(statement, ensure_ascii=False, indent=2).encode() + b"\n")
