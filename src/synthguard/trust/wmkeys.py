"""Watermark detection material across deployments (issue 19 item 3): what the descriptor publishes, and how a
shared-mode detection key reaches the platforms a provider chose.

Descriptor (``watermark`` member, signed with the descriptor): the mode (``private``, ``shared``, ``public``), the
scheme and sync pattern names, the detection key's id (16 hex), and in ``public`` mode the detection key itself.

Shared mode.  The detection key is secret; the provider seals it to one platform at a time (a *grant*):

1. the platform prints its recipient key (``synthguard trust recipient``: an X25519 key kept 0600 beside the
   trust list) and sends it to the provider;
2. the provider runs ``synthguard provider grant-wm-key RECIPIENT``: the key is encrypted with X25519 ECDH
   (ephemeral key) -> HKDF-SHA256 -> ChaCha20-Poly1305 (the header is the associated data) and the grant is
   signed with the provider's ledger key (Ed25519 over the canonical JSON, like the descriptor);
3. the platform runs ``synthguard trust wm-key PROVIDER grant.json``: the signature must verify with the
   **pinned** key of that trust entry, the grant must name this platform's recipient key and the provider's
   origin, and the decrypted key must have the key id the pinned descriptor publishes; the key is then kept in
   the (0600) trust list entry.

A grant is useless to anyone but the recipient, and a grant forged or replayed from another provider fails the
pinned-key check.  Who can forge marks: in shared mode, the provider and every platform holding its grant (the
detection key embeds as well as detects) -- but not resolvable ones: the token is an HMAC of the content id under
the provider's integrity key, which never leaves it, so only a copy of a genuine token resolves (and resolves to
a record whose output hash is not the file's).  In public mode, anyone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from synthguard.errors import KeyMissingError, LedgerIntegrityError, ValidationError
from synthguard.ledger.checkpoint import parse_vkey
from synthguard.marking import federation as fed
from synthguard.media import write_atomic

if TYPE_CHECKING:
    from synthguard.config import Settings

GRANT_VERSION = "synthguard-wm-key-grant/v1"
RECIPIENT_FILE = "trust-recipient.key"
PRIVATE_SCHEME = "synthguard.image-wm/v1"
_INFO = b"synthguard wm-key grant v1"


class Deployment(Protocol):
    """What publishing this deployment's trust material reads (issue 23: a narrow view, not the core object):
    its settings, its key files (``synthguard.keys.Keys``: watermark and ledger keys, C2PA chain) and its log's
    origin.  ``SynthGuard`` satisfies it."""

    @property
    def settings(self) -> Settings: ...
    @property
    def keys(self) -> Any: ...
    def ledger_origin(self) -> str: ...


def canonical(doc: dict[str, Any]) -> bytes:
    """The descriptor's canonical JSON (sorted keys, no spaces), for the grant's signature and associated data."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def legacy_key_id(watermark_key: bytes) -> str:
    return hashlib.sha256(b"synthguard-wm-key-id\0" + watermark_key).hexdigest()[:16]


def material(settings: Settings, keys: Any) -> dict[str, Any]:
    """The descriptor's ``watermark`` member for this deployment (never the scheme key or a shared key)."""

    schemes = ["synthguard.image-wm", "synthguard.audio-wm", "synthguard.video-wm"]
    try:
        wm = keys.watermark
    except KeyMissingError:  # no watermark key: the provider does not watermark
        return {"mode": "none", "key_id": None, "schemes": []}
    mode = settings.watermark_mode
    if mode == "private":
        return {"mode": "private", "scheme": PRIVATE_SCHEME, "key_id": legacy_key_id(wm), "schemes": schemes}
    key = fed.derive(wm, mode)
    return {"mode": mode, "scheme": fed.SCHEME, "sync": fed.SYNC_NAME.decode(), "key_id": fed.key_id(key),
            "detection_key": key.hex() if mode == "public" else None,
            "token": "HMAC-SHA256(integrity key, 'wm:' || content_id)[:8], hex; the lookup URL resolves it in "
                     "place of the content id", "schemes": schemes}


def detection_key(entry: Any) -> tuple[str, bytes] | None:
    """``(mode, detection key)`` a trust entry lets this deployment use, or None (private mode, or shared mode
    without a grant).  A public key must match the key id its own signed descriptor publishes."""

    wm = (entry.descriptor.get("descriptor") or {}).get("watermark") or {}
    mode, kid = wm.get("mode"), wm.get("key_id")
    if mode == "public" and isinstance(wm.get("detection_key"), str):
        try:
            key = bytes.fromhex(wm["detection_key"])
        except ValueError:
            return None
        return ("public", key) if fed.key_id(key) == kid else None
    held = getattr(entry, "watermark_key", None)
    if mode == "shared" and held:
        key = bytes.fromhex(held)
        return ("shared", key) if fed.key_id(key) == kid else None
    return None


# --- the platform's recipient key -----------------------------------------------------------------------
def recipient_key(home: Path, create: bool = True) -> X25519PrivateKey:
    path = Path(home) / RECIPIENT_FILE
    try:
        return X25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip()))
    except FileNotFoundError:
        if not create:
            raise KeyMissingError("no recipient key (run `synthguard trust recipient`)", path=path) from None
    except ValueError:
        raise KeyMissingError("the recipient key file is not 64 hex characters", path=path) from None
    key = X25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, key.private_bytes_raw().hex().encode() + b"\n")
    os.chmod(path, 0o600)
    return key


def recipient_public(home: Path) -> str:
    """This platform's recipient key (base64 X25519), created on first use, to send to providers."""
    return base64.b64encode(recipient_key(home).public_key().public_bytes_raw()).decode()


def _aead_key(shared: bytes, eph: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=_INFO + eph + recipient).derive(shared)


def _recipient_bytes(recipient_b64: str) -> bytes:
    try:
        raw = base64.b64decode(recipient_b64.strip(), validate=True)
        X25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise ValidationError("not a recipient key (base64 of a 32-byte X25519 public key)") from exc
    return raw


# --- the provider seals its shared detection key ---------------------------------------------------------
def grant(sg: Deployment, recipient_b64: str, *, platform: str | None = None) -> dict[str, Any]:
    """A grant of this provider's shared-mode detection key to one platform (module docstring)."""

    if sg.settings.watermark_mode != "shared":
        raise ValidationError("watermark_mode is {mode!r}: only a shared-mode detection key is granted",
                              values={"mode": sg.settings.watermark_mode},
                              hint="Public mode publishes the key in the descriptor; private mode is not federated.")
    recipient = _recipient_bytes(recipient_b64)
    key = fed.derive(sg.keys.watermark, "shared")
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes_raw()
    aead = ChaCha20Poly1305(_aead_key(eph.exchange(X25519PublicKey.from_public_bytes(recipient)), eph_pub, recipient))
    header = {"version": GRANT_VERSION, "origin": sg.ledger_origin(), "key_id": fed.key_id(key),
              "recipient": base64.b64encode(recipient).decode(), "platform": platform,
              "issued": datetime.now(UTC).isoformat(timespec="seconds")}
    nonce = secrets.token_bytes(12)
    doc = header | {"ephemeral": base64.b64encode(eph_pub).decode(), "nonce": base64.b64encode(nonce).decode(),
                    "ciphertext": base64.b64encode(aead.encrypt(nonce, key, canonical(header))).decode()}
    return {"grant": doc, "signature": base64.b64encode(sg.keys.ledger_private.sign(canonical(doc))).decode()}


def open_grant(signed: Any, entry: Any, home: Path) -> bytes:
    """The detection key in ``signed``, after checking it against the pinned trust ``entry`` (module docstring)."""
    doc = signed.get("grant") if isinstance(signed, dict) else None
    if not isinstance(doc, dict) or doc.get("version") != GRANT_VERSION:
        raise ValidationError("not a SynthGuard watermark key grant")
    _, pub = parse_vkey(entry.vkey)
    try:
        pub.verify(base64.b64decode(str(signed.get("signature")), validate=True), canonical(doc))
    except (ValueError, InvalidSignature) as exc:
        raise LedgerIntegrityError("the grant is not signed by the pinned key of {origin}",
                                   values={"origin": entry.origin}) from exc
    if doc.get("origin") != entry.origin:
        raise LedgerIntegrityError("the grant is for {got}, not {origin}",
                                   values={"got": str(doc.get("origin"))[:200], "origin": entry.origin})
    wm = (entry.descriptor.get("descriptor") or {}).get("watermark") or {}
    if wm.get("mode") != "shared" or wm.get("key_id") != doc.get("key_id"):
        raise LedgerIntegrityError("the grant's key id {got} is not the shared key id {want} of the pinned descriptor",
                                   values={"got": str(doc.get("key_id"))[:20], "want": str(wm.get("key_id"))})
    me = recipient_key(home, create=False)
    mine = me.public_key().public_bytes_raw()
    if _recipient_bytes(str(doc.get("recipient"))) != mine:
        raise ValidationError("the grant is sealed to another recipient key",
                              hint="Send the provider the key `synthguard trust recipient` prints.")
    header = {k: doc.get(k) for k in ("version", "origin", "key_id", "recipient", "platform", "issued")}
    try:
        eph = base64.b64decode(str(doc["ephemeral"]), validate=True)
        nonce = base64.b64decode(str(doc["nonce"]), validate=True)
        ct = base64.b64decode(str(doc["ciphertext"]), validate=True)
        shared = me.exchange(X25519PublicKey.from_public_bytes(eph))
        key = ChaCha20Poly1305(_aead_key(shared, eph, mine)).decrypt(nonce, ct, canonical(header))
    except (KeyError, ValueError, InvalidTag) as exc:
        raise LedgerIntegrityError("the grant does not decrypt with this platform's recipient key") from exc
    if fed.key_id(key) != doc["key_id"]:
        raise LedgerIntegrityError("the granted key does not have the key id it claims")
    return key
