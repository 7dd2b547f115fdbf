"""Client for a remote provider's lookup API (LM-24): fetch a record and verify its proof locally.

The server is not trusted: the record must match the ledger entry, the entry's leaf must be in the tree
by its RFC 6962 inclusion proof, the proof's root must be the checkpoint's root, and the checkpoint must
be signed by the provider's ledger key.  Pin that key (``public_key_pem``) from a channel other than the
server itself; without a pinned key the server's key is used and the result says ``key_pinned=False``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from synthguard import errors
from synthguard.errors import SynthGuardError, ValidationError
from synthguard.ledger import leaf_hash, parse_checkpoint, verify_checkpoint, verify_inclusion

__all__ = ["CheckpointCheck", "ProviderClient", "RecordCheck"]

# Record fields the ledger entry's body also states; each must agree.
_BOUND = ("content_id", "producer", "model", "output_sha256", "pixel_sha256", "watermark_payload")


@dataclass
class CheckpointCheck:
    verified: bool
    key_pinned: bool
    checkpoint: dict[str, Any] | None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RecordCheck:
    content_id: str
    verified: bool
    key_pinned: bool
    record: dict[str, Any] | None
    proof: dict[str, Any] | None
    checkpoint: dict[str, Any] | None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ProviderClient:
    """``ProviderClient(base_url, token)``; ``.record(content_id)``, ``.latest_checkpoint()``, ``.trace(data)``."""

    def __init__(self, base_url: str, token: str | None, *, public_key_pem: bytes | None = None,
                 transport: httpx.BaseTransport | None = None, timeout: float = 30.0):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=base_url, headers=headers, transport=transport, timeout=timeout)
        self._pinned = _load_key(public_key_pem) if public_key_pem is not None else None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls -------------------------------------------------------------------------------
    def latest_checkpoint(self) -> CheckpointCheck:
        """The provider's newest signed checkpoint, its signature checked."""
        cp = self._get("/v1/checkpoints/latest")
        reasons: list[str] = []
        self._check_signature(cp, reasons)
        return CheckpointCheck(not reasons, self._pinned is not None, cp, reasons)

    def record(self, content_id: str) -> RecordCheck:
        """The record with its inclusion proof and checkpoint, all verified here (LM-24, DS-18)."""
        body = self._get(f"/v1/records/{quote(content_id, safe='')}")
        return self.check(content_id, body)

    def trace(self, data: bytes, filename: str = "upload") -> tuple[dict[str, Any], RecordCheck | None]:
        """Trace a file at the provider; when it names a record, that record's proof is verified too."""
        response = self._http.post("/v1/trace", files={"file": (filename, data)})
        result = _json(response)
        if not result.get("found"):
            return result, None
        return result, self.check(str(result["content_id"]), result)

    # --- verification ------------------------------------------------------------------------
    def check(self, content_id: str, body: dict[str, Any]) -> RecordCheck:
        """Verify a ``{record, proof, checkpoint}`` answer; every failed check adds a reason."""
        rec, proof, cp = body.get("record"), body.get("proof"), body.get("checkpoint")
        reasons: list[str] = []
        if not isinstance(rec, dict) or rec.get("content_id") != content_id:
            reasons.append(f"the answer is not about record {content_id}")
        if not isinstance(proof, dict):
            reasons.append("the answer carries no inclusion proof")
        if not isinstance(cp, dict):
            reasons.append("the answer carries no signed checkpoint")
        if not reasons:
            assert isinstance(rec, dict) and isinstance(proof, dict) and isinstance(cp, dict)
            try:
                self._check_entry(rec, proof, reasons)
                self._check_proof(proof, cp, reasons)
            except (KeyError, TypeError, ValueError) as exc:
                reasons.append(f"malformed proof ({type(exc).__name__}: {exc})")
            self._check_signature(cp, reasons)
        return RecordCheck(content_id, not reasons, self._pinned is not None, rec, proof, cp, reasons)

    @staticmethod
    def _check_entry(rec: dict[str, Any], proof: dict[str, Any], reasons: list[str]) -> None:
        entry = json.loads(proof["entry"])
        stated = entry.get("body", {})
        if entry.get("kind") != "generation":
            reasons.append(f"the ledger entry is a {entry.get('kind')!r} event, not a generation")
        for key in _BOUND:
            if stated.get(key) != rec.get(key):
                reasons.append(f"record field {key!r} differs from the signed ledger entry")
        if entry.get("index") != proof["leaf_index"] or rec.get("ledger_index") != proof["leaf_index"]:
            reasons.append("the proof is for a different ledger index than the record's entry")

    @staticmethod
    def _check_proof(proof: dict[str, Any], cp: dict[str, Any], reasons: list[str]) -> None:
        leaf = leaf_hash(proof["entry"].encode("utf-8"))
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        root = bytes.fromhex(proof["root"])
        if not verify_inclusion(leaf, int(proof["leaf_index"]), int(proof["tree_size"]), path, root):
            reasons.append("the inclusion proof does not verify (entry, audit path or root altered)")
        note = parse_checkpoint(cp["note"])
        if note.root_hash != root or note.tree_size != int(proof["tree_size"]):
            reasons.append("the proof's root and size are not the signed checkpoint's")

    def _check_signature(self, cp: dict[str, Any], reasons: list[str]) -> None:
        try:
            note = parse_checkpoint(cp["note"])
            key = self._pinned or _load_key(str(cp["public_key"]).encode())
            verify_checkpoint(note, key)
        except SynthGuardError as exc:
            reasons.append(f"checkpoint: {exc.message}")
        except (KeyError, TypeError) as exc:
            reasons.append(f"checkpoint: malformed ({type(exc).__name__}: {exc})")

    def _get(self, path: str) -> dict[str, Any]:
        return _json(self._http.get(path))


def _load_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem)
    except ValueError as exc:
        raise ValidationError("not a PEM public key ({exc})", values={"exc": exc}) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValidationError("the ledger key must be Ed25519, not {name}", values={"name": type(key).__name__})
    return key


def _json(response: httpx.Response) -> dict[str, Any]:
    """The JSON body, or the server's error raised as the same SynthGuardError class it was on the server."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict):
        return body
    info = body if isinstance(body, dict) else {}
    cls = getattr(errors, str(info.get("error")), None)
    if not (isinstance(cls, type) and issubclass(cls, SynthGuardError)):
        cls = _by_status(response.status_code)
    message = str(info.get("message") or f"HTTP {response.status_code} from {response.request.url.path}")
    raise cls(message, hint=info.get("hint") or None)


def _by_status(status: int) -> type[SynthGuardError]:
    return {401: errors.AuthError, 403: errors.ForbiddenError, 404: errors.NotFoundError, 409: errors.ConflictError,
            413: errors.MediaTooLargeError, 415: errors.UnsupportedMediaError}.get(
        status, errors.InputError if 400 <= status < 500 else errors.StoreError)
