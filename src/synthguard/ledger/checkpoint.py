"""Signed checkpoints (tree heads) in the C2SP tlog-checkpoint / signed-note format, and ledger keys.

A checkpoint note (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note)::

    synthguard.ledger                      <- origin (also the signed-note key name)
    1234                                   <- tree size
    3q2+7w...=                             <- root hash, standard base64
    time 2026-01-01T00:00:00.000000Z       <- extension lines: signing time, log id
    log-id 5f1c...                         <- SHA-256 of the public key's DER SubjectPublicKeyInfo (as CT)

    — synthguard.ledger AAAA...            <- base64(4-byte key hash || Ed25519 signature over the text above)

The key hash is ``SHA-256(name || 0x0A || 0x01 || raw public key)[:4]`` (signed-note Ed25519 key ID).  The origin
is configurable and unique per log (``Settings.ledger_origin``; by default ``synthguard.ledger/`` and the first 16
hex digits of the log id).  Others verify with the note *verifier key* (:func:`vkey`,
``<name>+<hex key ID>+base64(0x01 || public key)``).  Extension lines are optional both ways: the C2SP spec's
own example has none and parses, unknown ones are kept verbatim so their signature still verifies (issue 20).
The ledger signing key is an Ed25519 PKCS#8 PEM file, mode 0600, at ``<home>/keys/ledger-ed25519.key``
(DS-18, CSL-01: the signature is what makes the retained log evidence).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from synthguard.errors import ConflictError, KeyMissingError, LedgerIntegrityError, ValidationError
from synthguard.i18n import N_
from synthguard.times import utcnow

__all__ = [
    "Checkpoint",
    "default_origin",
    "generate_ledger_key",
    "load_ledger_key",
    "load_ledger_public_key",
    "log_id",
    "parse_checkpoint",
    "parse_note_vkey",
    "parse_vkey",
    "public_key_pem",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_note",
    "vkey",
]

_DASH = "\u2014 "


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: datetime | None  # the ``time`` extension line, when present
    log_id: str | None  # the ``log-id`` extension line, when present
    key_hash: bytes  # 4 bytes
    signature: bytes  # 64 bytes
    other_extensions: tuple[str, ...] = ()  # extension lines we do not interpret, in their order

    def extensions(self) -> list[str]:
        lines = []
        if self.timestamp is not None:
            lines.append("time " + self.timestamp.astimezone(UTC).isoformat(timespec="microseconds")
                         .replace("+00:00", "Z"))
        if self.log_id is not None:
            lines.append(f"log-id {self.log_id}")
        return lines + list(self.other_extensions)

    def body(self) -> str:
        """The signed text."""
        root = base64.b64encode(self.root_hash).decode()
        return "".join(f"{line}\n" for line in [self.origin, str(self.tree_size), root, *self.extensions()])

    def to_text(self) -> str:
        sig = base64.b64encode(self.key_hash + self.signature).decode()
        return f"{self.body()}\n{_DASH}{self.origin} {sig}\n"


def format_time(t: datetime) -> str:
    """An entry's time as the ledger stores and hashes it: ISO 8601, microseconds, ``Z`` for UTC."""
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _public(key: Ed25519PublicKey | Ed25519PrivateKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def log_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Hex SHA-256 of the public key's DER SubjectPublicKeyInfo (the CT log id convention)."""
    der = _public(key).public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _key_hash(name: str, key: Ed25519PublicKey) -> bytes:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()[:4]


def default_origin(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """A per-log origin when the operator configured none: two deployments never share one (C2SP: "unique")."""
    return f"synthguard.ledger/{log_id(key)[:16]}"


def _check_origin(origin: str) -> None:
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise ValidationError("checkpoint origin {origin!r} must be non-empty, without spaces or '+'",
                              values={"origin": origin})


def sign_checkpoint(
    origin: str, tree_size: int, root_hash: bytes, private_key: Ed25519PrivateKey, *, timestamp: datetime | None = None,
    extensions: bool = True,
) -> Checkpoint:
    """Sign a tree head; ``extensions=False`` writes the bare three-line body (what witnesses cosign)."""
    _check_origin(origin)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyMissingError("the ledger signing key must be an Ed25519 private key")
    pub = private_key.public_key()
    time = (timestamp or utcnow()) if extensions else None
    unsigned = Checkpoint(origin, tree_size, root_hash, time, log_id(pub) if extensions else None,
                          _key_hash(origin, pub), b"")
    signature = private_key.sign(unsigned.body().encode())
    return replace(unsigned, signature=signature)


def _note(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(signed body, [(key name, signature blob)]) of a signed note (c2sp.org/signed-note)."""
    body, sep, sigs = text.rpartition("\n\n")
    if not sep or not body:
        raise ValidationError("not a signed note: expected the text, a blank line and signature lines")
    out = []
    for line in sigs.removesuffix("\n").split("\n"):
        name, _, blob = line.removeprefix(_DASH).rpartition(" ")
        if not line.startswith(_DASH) or not name:
            raise ValidationError("malformed signature line {line!r} in a signed note", values={"line": line[:80]})
        try:
            out.append((name, base64.b64decode(blob, validate=True)))
        except binascii.Error as err:
            raise ValidationError("signature of {name!r} is not base64 ({err})", values={"name": name, "err": err}
                                  ) from err
    return body + "\n", out


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note; ValidationError names what is malformed. Extension lines are optional; ``time`` and
    ``log-id`` are read when present, others kept in order."""
    body, sigs = _note(text)
    lines = body[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise ValidationError("not a checkpoint note: expected origin, size and root hash lines (then optional "
                              "extension lines), a blank line and a signature line")
    origin, size, root, *extensions = lines
    timestamp: datetime | None = None
    lid: str | None = None
    others: list[str] = []
    try:
        tree_size = int(size)
        root_hash = base64.b64decode(root, validate=True)
        for line in extensions:
            key, _, value = line.partition(" ")
            if key == "time" and timestamp is None and lid is None and not others:
                timestamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            elif key == "log-id" and lid is None and not others:
                lid = value
            else:
                others.append(line)
        blob = next(b for name, b in sigs if name == origin and len(b) == 68)
    except (ValueError, StopIteration, binascii.Error) as err:
        raise ValidationError("malformed checkpoint note ({name}: {err})",
                              values={"name": type(err).__name__, "err": err}) from err
    if tree_size < 0 or str(tree_size) != size or len(root_hash) != 32:
        raise ValidationError("malformed checkpoint note: bad size or root hash")
    cp = Checkpoint(origin, tree_size, root_hash, timestamp, lid, blob[:4], blob[4:], tuple(others))
    if cp.body() != body:
        raise ValidationError("checkpoint note is not in canonical form (extension lines it cannot reproduce)")
    return cp


def vkey(origin: str, key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The signed-note verifier key: ``name+hex(key ID)+base64(0x01 || Ed25519 public key)``."""
    _check_origin(origin)
    pub = _public(key)
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    material = base64.b64encode(b"\x01" + raw).decode()
    return f"{origin}+{_key_hash(origin, pub).hex()}+{material}"


def parse_vkey(text: str) -> tuple[str, Ed25519PublicKey]:
    """(key name, Ed25519 public key) of a verifier key; the key ID must match the name and key."""
    return parse_note_vkey(text, 0x01, _key_hash, malformed=N_("malformed Ed25519 verifier key ({err})"),
                           mismatch=N_("verifier key ID {kid} does not match its name and key"))


def parse_note_vkey(text: str, alg: int, key_hash: Callable[[str, Ed25519PublicKey], bytes], *, malformed: str,
                    mismatch: str) -> tuple[str, Ed25519PublicKey]:
    """(name, key) of a signed-note verifier key ``name+hex(key ID)+base64(alg || 32 key bytes)``, whose key ID
    ``key_hash(name, key)`` must be; ``malformed`` (``{err}``) and ``mismatch`` (``{kid}``) are the two errors'
    templates (the ledger's note keys here, the witnesses' cosigner keys in :mod:`synthguard.trust.cosign`)."""
    name, _, rest = text.strip().partition("+")
    kid, _, material = rest.partition("+")
    try:
        blob = base64.b64decode(material, validate=True)
        if not name or len(kid) != 8 or len(blob) != 33 or blob[0] != alg:
            raise ValueError(f"expected name+8 hex digits+base64 of 0x{alg:02x} and 32 key bytes")
        pub = Ed25519PublicKey.from_public_bytes(blob[1:])
        ok = bytes.fromhex(kid) == key_hash(name, pub)
    except (ValueError, binascii.Error) as err:
        raise ValidationError(malformed, values={"err": err}) from err
    if not ok:
        raise ValidationError(mismatch, values={"kid": kid})
    return name, pub


def verify_note(text: str, verifier_key: str) -> str:
    """Verify a signed note against a vkey; returns the signed text. Other signatures are ignored (signed-note)."""
    name, pub = parse_vkey(verifier_key)
    body, sigs = _note(text)
    kid = _key_hash(name, pub)
    for sig_name, blob in sigs:
        if sig_name == name and blob[:4] == kid:
            try:
                pub.verify(blob[4:], body.encode())
            except InvalidSignature:
                break
            return body
    raise LedgerIntegrityError("no valid signature by {name} on the note", values={"name": name})


def verify_checkpoint(cp: Checkpoint, public_key: Ed25519PublicKey | Ed25519PrivateKey) -> None:
    """Check the checkpoint's signature; raise LedgerIntegrityError saying why it is not trustworthy."""
    pub = _public(public_key)
    expected = log_id(pub)
    if (cp.log_id is not None and cp.log_id != expected) or cp.key_hash != _key_hash(cp.origin, pub):
        raise LedgerIntegrityError(
            "checkpoint at size {tree_size} was signed for log {log_id}…, not by the given key (log {expected}…)",
            values={"tree_size": cp.tree_size, "log_id": (cp.log_id or cp.key_hash.hex())[:16],
                    "expected": expected[:16]},
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
