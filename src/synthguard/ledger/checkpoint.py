"""Signed checkpoints (tree heads) in the C2SP tlog-checkpoint / signed-note format, and ledger keys.

A checkpoint note (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note)::

    synthguard.ledger                      <- origin (also the signed-note key name)
    1234                                   <- tree size
    3q2+7w...=                             <- root hash, standard base64
    time 2026-01-01T00:00:00.000000Z       <- extension lines: signing time, log id
    log-id 5f1c...                         <- SHA-256 of the public key's DER SubjectPublicKeyInfo (as CT)

    — synthguard.ledger AAAA...            <- base64(4-byte key hash || Ed25519 signature over the text above)

The key hash is ``SHA-256(name || 0x0A || 0x01 || raw public key)[:4]`` (signed-note Ed25519 key ID).
The ledger signing key is an Ed25519 PKCS#8 PEM file, mode 0600, at ``<home>/keys/ledger-ed25519.key``
(DS-18, CSL-01: the signature is what makes the retained log evidence).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from synthguard.errors import ConflictError, KeyMissingError, LedgerIntegrityError, ValidationError
from synthguard.store.base import utcnow

__all__ = [
    "Checkpoint",
    "generate_ledger_key",
    "load_ledger_key",
    "load_ledger_public_key",
    "log_id",
    "parse_checkpoint",
    "public_key_pem",
    "sign_checkpoint",
    "verify_checkpoint",
]

_DASH = "\u2014 "


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: datetime
    log_id: str
    key_hash: bytes  # 4 bytes
    signature: bytes  # 64 bytes

    def body(self) -> str:
        """The signed text."""
        time = self.timestamp.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\ntime {time}\nlog-id {self.log_id}\n"

    def to_text(self) -> str:
        sig = base64.b64encode(self.key_hash + self.signature).decode()
        return f"{self.body()}\n{_DASH}{self.origin} {sig}\n"


def _public(key: Ed25519PublicKey | Ed25519PrivateKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def log_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Hex SHA-256 of the public key's DER SubjectPublicKeyInfo (the CT log id convention)."""
    der = _public(key).public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _key_hash(name: str, key: Ed25519PublicKey) -> bytes:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()[:4]


def sign_checkpoint(
    origin: str, tree_size: int, root_hash: bytes, private_key: Ed25519PrivateKey, *, timestamp: datetime | None = None
) -> Checkpoint:
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise ValidationError("checkpoint origin {origin!r} must be non-empty, without spaces or '+'",
                              values={"origin": origin})
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyMissingError("the ledger signing key must be an Ed25519 private key")
    pub = private_key.public_key()
    unsigned = Checkpoint(origin, tree_size, root_hash, timestamp or utcnow(), log_id(pub), _key_hash(origin, pub), b"")
    signature = private_key.sign(unsigned.body().encode())
    return replace(unsigned, signature=signature)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note; ValidationError names what is malformed."""
    body, sep, sigs = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 5:
        raise ValidationError("not a checkpoint note: expected origin, size, root and extension lines, a blank line "
                              "and a signature line")
    origin, size, root, *extensions = lines
    ext = dict(line.partition(" ")[::2] for line in extensions)
    try:
        tree_size = int(size)
        root_hash = base64.b64decode(root, validate=True)
        timestamp = datetime.fromisoformat(ext["time"].replace("Z", "+00:00"))
        sig_line = next(line for line in sigs.split("\n") if line.startswith(_DASH + origin + " "))
        blob = base64.b64decode(sig_line.rsplit(" ", 1)[1], validate=True)
    except (ValueError, KeyError, StopIteration, binascii.Error) as err:
        raise ValidationError("malformed checkpoint note ({name}: {err})",
                              values={"name": type(err).__name__, "err": err}) from err
    if tree_size < 0 or str(tree_size) != size or len(root_hash) != 32 or len(blob) != 68 or "log-id" not in ext:
        raise ValidationError("malformed checkpoint note: bad size, root hash, log id or signature length")
    cp = Checkpoint(origin, tree_size, root_hash, timestamp, ext["log-id"], blob[:4], blob[4:])
    if cp.body() != body + "\n":
        raise ValidationError("checkpoint note is not in canonical form (extra or reordered lines)")
    return cp


def verify_checkpoint(cp: Checkpoint, public_key: Ed25519PublicKey | Ed25519PrivateKey) -> None:
    """Check the checkpoint's signature; raise LedgerIntegrityError saying why it is not trustworthy."""
    pub = _public(public_key)
    expected = log_id(pub)
    if cp.log_id != expected or cp.key_hash != _key_hash(cp.origin, pub):
        raise LedgerIntegrityError(
            "checkpoint at size {tree_size} was signed for log {log_id}…, not by the given key (log {expected}…)",
            values={"tree_size": cp.tree_size, "log_id": cp.log_id[:16], "expected": expected[:16]},
            hint="Verify with the ledger's own public key; a checkpoint signed by another key proves nothing.",
        )
    try:
        pub.verify(cp.signature, cp.body().encode())
    except InvalidSignature:
        raise LedgerIntegrityError(
            "checkpoint at size {tree_size} has an invalid signature (altered note)",
            values={"tree_size": cp.tree_size}) from None


# --- keys ----------------------------------------------------------------------------------
def generate_ledger_key(path: str | Path, *, overwrite: bool = False) -> Ed25519PrivateKey:
    """Create an Ed25519 key as unencrypted PKCS#8 PEM, mode 0600, in a 0700 directory."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ConflictError("ledger key {path} already exists",
                            values={"path": path}, hint="Keep it: checkpoints are signed with it.",
                            path=path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    _write_secret(path, pem)
    return key


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def load_ledger_key(path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyMissingError("the ledger signing key does not exist", path=path) from None
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        raise KeyMissingError("not an unencrypted PEM private key ({err})", values={"err": err}, path=path,
                              hint="Point the settings at the ledger's Ed25519 PKCS#8 PEM key.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMissingError("the ledger key is {name}, not Ed25519", values={"name": type(key).__name__}, path=path)
    return key


def load_ledger_public_key(path: str | Path) -> Ed25519PublicKey:
    """Load a public key PEM (what auditors get) or derive it from the private key PEM."""
    data = Path(path).read_bytes() if Path(path).exists() else None
    if data is None:
        raise KeyMissingError("the ledger public key does not exist", path=path)
    if b"PRIVATE KEY" in data:
        return load_ledger_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as err:
        raise KeyMissingError("not a PEM public key ({err})", values={"err": err}, path=path) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyMissingError("the ledger public key is {name}, not Ed25519",
                              values={"name": type(key).__name__}, path=path)
    return key


def public_key_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    return _public(key).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
