"""Which ledger keys a verifier trusts, and why (issue 18 finding 1; DS-18, CSL-01).

A checkpoint proves a record only when it is signed by a key the verifier already trusted *before*
reading the evidence: the deployment's own ledger key, a key pinned by hand (``--trusted-key``), or a
key from a trust list (issue 19 plugs in here by producing more :class:`TrustedKey` values).  The key
carried inside a bundle is never trusted: whoever forged the bundle chose it.  A verification names the
key it used and its source; no trusted key means "origin not verified", never "valid".
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from synthguard.ledger.checkpoint import Checkpoint, _key_hash, load_ledger_public_key, log_id, parse_vkey

__all__ = ["KeySource", "TrustedKey", "find_trusted", "pinned", "pinned_key", "pinned_vkey"]


class KeySource(StrEnum):
    """Where a trusted key came from; every verification result names one."""

    OWN_LEDGER = "own-ledger"      # this deployment's ledger key
    PINNED = "pinned"              # given by the verifier (``--trusted-key key.pem``)
    TRUST_LIST = "trust-list"      # from a trust list the verifier chose (issue 19)


@dataclass(frozen=True)
class TrustedKey:
    """An Ed25519 ledger key, the origin it signs for (None: any origin) and why it is trusted."""

    public_key: Ed25519PublicKey
    source: KeySource
    label: str                       # the file, list or deployment it came from, for the report
    origin: str | None = None
    witnesses: tuple[str, ...] = ()  # cosigner vkeys (c2sp.org/tlog-cosignature) whose cosignatures count
    quorum: int = 0                  # how many of them a checkpoint by this key needs (a trust list's setting)
    fingerprint: str | None = None   # the key's fingerprint as the trust list shows it (SHA256:... of the vkey)

    @property
    def log_id(self) -> str:
        return log_id(self.public_key)

    def describe(self) -> dict[str, Any]:
        return {"log_id": self.log_id, "source": self.source.value, "label": self.label, "origin": self.origin,
                "fingerprint": self.fingerprint, "witnesses_required": self.quorum}


def pinned_key(path: str | Path, *, origin: str | None = None) -> TrustedKey:
    """A key the verifier pinned by hand (a PEM public key); KeyMissingError when unreadable."""
    return TrustedKey(load_ledger_public_key(path), KeySource.PINNED, str(path), origin)


def pinned(ref: str) -> TrustedKey:
    """A key pinned by hand: a PEM public key file, or a signed-note verifier key (``origin+hash+base64``, bound
    to its origin); KeyMissingError / ValidationError when it is neither."""
    if Path(ref).is_file() or "+" not in ref:
        return pinned_key(ref)
    return pinned_vkey(ref)


def vkey_fingerprint(vkey_text: str) -> str:
    """``SHA256:`` and the unpadded base64 SHA-256 of a verifier key: what trust lists show and people compare."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(vkey_text.strip().encode()).digest()).decode().rstrip("=")


def pinned_vkey(text: str) -> TrustedKey:
    """A signed-note verifier key given by the verifier (never a file path: safe for HTTP callers)."""
    origin, key = parse_vkey(text)
    return TrustedKey(key, KeySource.PINNED, f"verifier key {text.strip()[:80]}", origin,
                      fingerprint=vkey_fingerprint(text))


def find_trusted(keys: Iterable[TrustedKey], cp: Checkpoint) -> TrustedKey | None:
    """The trusted key the checkpoint names by log id -- or, for a checkpoint without the optional ``log-id``
    line (C2SP), by its signed-note key hash -- and origin, when the key is bound to one."""
    for key in keys:
        named = key.log_id == cp.log_id if cp.log_id is not None else cp.key_hash == _key_hash(cp.origin,
                                                                                              key.public_key)
        if named and (key.origin is None or key.origin == cp.origin):
            return key
    return None
