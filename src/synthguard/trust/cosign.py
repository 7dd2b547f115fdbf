"""Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``).

A cosignature is a signed-note signature line on a checkpoint: ``— <cosigner name> base64(key ID || u64 timestamp ||
Ed25519 signature)``.  The key ID is ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``; the signed message is
``"cosignature/v1\\n" + "time <t>\\n" + the checkpoint's note body``.  Verifiers configured with (name, key) ignore
every other line, so cosignatures from many witnesses travel on one note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from synthguard.errors import LedgerIntegrityError, ValidationError
from synthguard.i18n import N_
from synthguard.ledger.checkpoint import parse_note_vkey

DASH = "\u2014 "
ALG_COSIGNATURE_V1 = 0x04


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + _raw(key)).digest()[:4]


def message(body: str, timestamp: int) -> bytes:
    """What a v1 cosignature signs: header line, time line, then the checkpoint body (ending in a newline)."""
    if not body.endswith("\n"):
        raise ValidationError("a checkpoint body ends with a newline")
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


def sign_line(name: str, key: Ed25519PrivateKey, body: str, *, timestamp: int | None = None) -> str:
    """One signature line ``— name base64(...)`` cosigning ``body`` at ``timestamp`` (default: now)."""
    t = int(time.time()) if timestamp is None else timestamp
    if not 0 < t < 2**63:
        raise ValidationError("a cosignature timestamp is 1 .. 2^63-1")
    blob = key_id(name, key.public_key()) + struct.pack(">Q", t) + key.sign(message(body, t))
    return f"{DASH}{name} {base64.b64encode(blob).decode()}\n"


def vkey(name: str, key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The cosigner's verifier key: ``name+hex(key ID)+base64(0x04 || public key)``."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return f"{name}+{key_id(name, pub).hex()}+{base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + _raw(pub)).decode()}"


def parse_vkey(text: str) -> tuple[str, Ed25519PublicKey]:
    """(cosigner name, Ed25519 public key) of a cosigner verifier key (key ID checked as in the note keys)."""
    return parse_note_vkey(text, ALG_COSIGNATURE_V1, key_id, malformed=N_("malformed cosigner verifier key ({err})"),
                           mismatch=N_("cosigner key ID {kid} does not match its name and key"))


@dataclass(frozen=True)
class Cosignature:
    name: str
    timestamp: int


def verify(note: str, cosigner_vkey: str) -> Cosignature | None:
    """The cosigner's valid cosignature on a checkpoint note, or None (absent, or present but invalid)."""
    name, pub = parse_vkey(cosigner_vkey)
    body, _, sigs = note.rpartition("\n\n")
    kid = key_id(name, pub)
    for line in sigs.split("\n"):
        if not line.startswith(DASH):
            continue
        sig_name, _, b64 = line[len(DASH):].rpartition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            continue
        if sig_name != name or len(blob) != 76 or blob[:4] != kid:
            continue
        (t,) = struct.unpack(">Q", blob[4:12])
        try:
            pub.verify(blob[12:], message(body + "\n", t))
        except InvalidSignature:
            return None
        return Cosignature(name, t)
    return None


def quorum(note: str, witness_vkeys: list[str], k: int) -> list[Cosignature]:
    """The valid cosignatures on ``note`` by the given witnesses; LedgerIntegrityError when fewer than ``k``."""
    found = [c for v in witness_vkeys if (c := verify(note, v)) is not None]
    if len(found) < k:
        raise LedgerIntegrityError("{n} of the required {k} witness cosignatures on the checkpoint",
                                   values={"n": len(found), "k": k},
                                   hint="The checkpoint may be a view only some parties were shown.")
    return found
