"""A checkpoint witness (c2sp.org/tlog-witness): cosign another log's checkpoint only if it extends the last one.

A SynthGuard deployment in the witness role keeps, per log origin it was told to watch, the latest checkpoint it
cosigned.  ``add-checkpoint`` requests carry the old size, a consistency proof (RFC 6962) and the new checkpoint;
the witness verifies the log's signature against the pinned verifier key, the proof against its own stored root,
and only then stores the new checkpoint and returns an Ed25519 ``cosignature/v1`` line.  A provider that rewrote
its history, or shows a fork to someone, cannot get that history cosigned: verifiers that require k of n witness
cosignatures reject it (issue 19).  Check-and-store is atomic under a file lock, as the spec requires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthguard.errors import ConflictError, ForbiddenError, InputError, LedgerIntegrityError, NotFoundError
from synthguard.ledger.checkpoint import load_ledger_key, parse_checkpoint, parse_vkey, verify_note
from synthguard.ledger.merkle import verify_consistency
from synthguard.locks import file_lock
from synthguard.media import write_atomic
from synthguard.trust import cosign

MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 64 * 1024
EMPTY_ROOT = hashlib.sha256(b"").digest()


class InconsistentCheckpointError(LedgerIntegrityError):
    """The checkpoint does not extend the one the witness cosigned last (a rewritten or forked history)."""

    http_status = 422


class StaleSizeError(ConflictError):
    """The request's old size is not the size the witness cosigned last; the body tells the client that size."""

    def __init__(self, size: int):
        super().__init__("old size does not match the latest cosigned size {size}", values={"size": size})
        self.size = size


@dataclass(frozen=True)
class Request:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str


def parse_request(text: str) -> Request:
    if len(text) > MAX_REQUEST_BYTES:
        raise InputError("add-checkpoint request over {n} bytes", values={"n": MAX_REQUEST_BYTES})
    head, sep, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old "):
        raise InputError("add-checkpoint body: an 'old N' line, proof lines, a blank line, then the checkpoint")
    size = lines[0][4:]
    if not size.isdigit() or str(int(size)) != size:
        raise InputError("the old size is not a decimal without leading zeroes")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise InputError("more than {n} consistency proof lines", values={"n": MAX_PROOF_LINES})
    try:
        proof = tuple(base64.b64decode(x, validate=True) for x in lines[1:])
    except binascii.Error as exc:
        raise InputError("a consistency proof line is not base64") from exc
    if any(len(h) != 32 for h in proof):
        raise InputError("a consistency proof hash is not 32 bytes")
    return Request(int(size), proof, checkpoint)


class Witness:
    """One cosigner (``name`` and Ed25519 key) watching the logs in ``logs`` (origin -> note verifier key)."""

    def __init__(self, name: str, key: Ed25519PrivateKey, logs: dict[str, str], state: Path):
        self.name, self.key, self.logs, self.state = name, key, dict(logs), Path(state)

    @property
    def vkey(self) -> str:
        return cosign.vkey(self.name, self.key)

    def latest(self, origin: str) -> dict[str, Any] | None:
        return self._load().get(origin)

    def add_checkpoint(self, text: str) -> str:
        """The cosignature line(s) for a valid, consistent checkpoint; an error with the spec's status otherwise."""
        req = parse_request(text)
        origin = req.checkpoint.split("\n", 1)[0]
        if origin not in self.logs:
            raise NotFoundError("this witness does not watch the log {origin!r}", values={"origin": origin[:200]})
        try:
            body = verify_note(req.checkpoint, self.logs[origin])
            cp = parse_checkpoint(req.checkpoint)
        except (LedgerIntegrityError, InputError) as exc:
            raise ForbiddenError("no valid signature by the log's pinned key on the checkpoint") from exc
        if req.old_size > cp.tree_size:
            raise InputError("the old size {old} is larger than the checkpoint's size {size}",
                             values={"old": req.old_size, "size": cp.tree_size})
        with self._locked():
            state = self._load()
            last = state.get(origin) or {"size": 0, "root": base64.b64encode(EMPTY_ROOT).decode()}
            if req.old_size != last["size"]:
                raise StaleSizeError(last["size"])
            self._check(req, cp.tree_size, cp.root_hash, base64.b64decode(last["root"]))
            line = cosign.sign_line(self.name, self.key, body)
            state[origin] = {"size": cp.tree_size, "root": base64.b64encode(cp.root_hash).decode(),
                             "checkpoint": req.checkpoint.rstrip("\n") + "\n" + line}
            self._save(state)
        return line

    @staticmethod
    def _check(req: Request, size: int, root: bytes, old_root: bytes) -> None:
        if size == 0 and root != EMPTY_ROOT:
            raise InconsistentCheckpointError("a checkpoint of size 0 must have the empty tree's root")
        if req.old_size == 0 and req.proof:
            raise InconsistentCheckpointError("a proof from size 0 must be empty")
        if req.old_size == size:
            if root != old_root or req.proof:
                raise InconsistentCheckpointError("same size as the cosigned checkpoint but another root: a fork")
            return
        if req.old_size and not verify_consistency(req.old_size, size, old_root, root, req.proof):
            raise InconsistentCheckpointError(
                "the consistency proof from size {old} to {size} does not verify: the log's history changed",
                values={"old": req.old_size, "size": size})

    def _load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.state.read_text(encoding="utf-8"))
            return data
        except FileNotFoundError:
            return {}

    def _save(self, state: dict[str, Any]) -> None:
        write_atomic(self.state, json.dumps(state, indent=1, sort_keys=True).encode())
        os.chmod(self.state, 0o600)

    def _locked(self):  # type: ignore[no-untyped-def]
        return file_lock(f"{self.state}.lock")


# --- configuration: a deployment in the witness role ---------------------------------------------------
KEY_FILE = "witness-ed25519.pem"
LOGS_FILE = "witness-logs.txt"
STATE_FILE = "witness-state.json"


def watched_logs(home: Path) -> dict[str, str]:
    """origin -> note verifier key, from ``<home>/witness-logs.txt`` (one vkey per line, ``#`` comments)."""
    try:
        lines = (Path(home) / LOGS_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    out = {}
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            name, _ = parse_vkey(line)
            out[name] = line.strip()
    return out


def watch(home: Path, log_vkey: str) -> str:
    """Start watching a log (its checkpoint verifier key, as ``synthguard ledger vkey`` prints it)."""
    name, _ = parse_vkey(log_vkey)
    logs = watched_logs(home) | {name: log_vkey.strip()}
    write_atomic(Path(home) / LOGS_FILE, ("".join(v + "\n" for v in logs.values())).encode())
    return name


def from_settings(settings: Any) -> Witness | None:
    """The deployment's witness, or None when ``witness_name`` is not set or ``witness init`` was not run."""
    if not settings.witness_name:
        return None
    key_path = settings.keys_dir / KEY_FILE
    if not key_path.is_file():
        return None
    return Witness(settings.witness_name, load_ledger_key(key_path), watched_logs(settings.home),
                   settings.home / STATE_FILE)
