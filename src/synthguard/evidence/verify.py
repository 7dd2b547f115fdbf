"""Re-check an evidence bundle: its manifest, the RFC 6962 inclusion proof and the signed checkpoint.

:func:`check_evidence` is run once when a bundle is built (its result is stored in ``evidence.json``)
and again by :func:`verify_bundle` on a bundle received later, with SynthGuard's own ledger code.
The bundle also carries ``verify.py`` (:mod:`synthguard.evidence.standalone`), a second, independent
implementation anyone can run without SynthGuard (DS-18, CSL-01: the signed log is the evidence;
US-07: an evidence pack for law enforcement).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from synthguard.errors import InputError, LedgerIntegrityError, ValidationError
from synthguard.ledger import merkle
from synthguard.ledger.checkpoint import parse_checkpoint, verify_checkpoint

MANIFEST = "MANIFEST.sha256"


def _check(checks: list[dict[str, Any]], name: str, ok: bool, detail: str) -> bool:
    checks.append({"check": name, "ok": bool(ok), "detail": detail})
    return bool(ok)


def check_evidence(doc: dict[str, Any]) -> dict[str, Any]:
    """Verify the proof and checkpoint inside an evidence document; never raises for bad evidence.

    Returns ``{"ok": bool | None, "checks": [{check, ok, detail}]}``; ``ok`` is None when there is
    nothing to verify (no record was found).
    """
    trace = doc.get("trace") or {}
    checks: list[dict[str, Any]] = []
    proof, cp = trace.get("proof"), trace.get("checkpoint")
    if not trace.get("found") or not proof:
        return {"ok": None, "checks": checks}
    try:
        entry = proof["entry"].encode()
        leaf = bytes.fromhex(proof["leaf_hash"])
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        root = bytes.fromhex(proof["root"])
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        _check(checks, "proof-format", False, f"the proof is malformed ({type(exc).__name__}: {exc})")
        return {"ok": False, "checks": checks}
    _check(checks, "leaf-hash", merkle.leaf_hash(entry) == leaf,
           "SHA-256(0x00 || ledger entry) equals the proof's leaf hash")
    _check(checks, "inclusion-proof", merkle.verify_inclusion(leaf, index, size, path, root),
           f"the audit path leads from leaf {index} to the root of a tree of {size} entries (RFC 9162 §2.1.3.2)")
    _check_entry(checks, entry, index, trace)
    if cp is None:
        _check(checks, "checkpoint", False, "no signed checkpoint covers this record yet")
    else:
        _check_checkpoint(checks, cp, size, root)
    return {"ok": all(c["ok"] for c in checks), "checks": checks}


def _check_entry(checks: list[dict[str, Any]], entry: bytes, index: int, trace: dict[str, Any]) -> None:
    try:
        doc = json.loads(entry)
        body = doc["body"]
        same = doc.get("index") == index and body.get("content_id") == trace.get("content_id")
        record = trace.get("record") or {}
        same = same and body.get("output_sha256") == record.get("output_sha256")
    except (ValueError, KeyError, TypeError, AttributeError):
        same = False
    _check(checks, "entry-matches-record", same,
           "the ledger entry names the traced content id, index and output hash")


def _check_checkpoint(checks: list[dict[str, Any]], cp: dict[str, Any], size: int, root: bytes) -> None:
    try:
        note = parse_checkpoint(cp["note"])
        key = load_pem_public_key(cp["public_key"].encode())
        verify_checkpoint(note, key)  # type: ignore[arg-type]
        signed, why = True, "Ed25519 signature over the checkpoint note verifies with the ledger public key"
    except (ValidationError, LedgerIntegrityError) as exc:
        _check(checks, "checkpoint-signature", False, exc.message)
        return
    except (KeyError, TypeError, ValueError) as exc:
        _check(checks, "checkpoint-signature", False, f"unreadable checkpoint or key ({exc})")
        return
    _check(checks, "checkpoint-signature", signed, why)
    _check(checks, "checkpoint-covers-proof", note.tree_size == size and note.root_hash == root,
           f"the signed tree head (size {note.tree_size}) is the root the proof leads to")
    _check(checks, "checkpoint-fields", note.body() == cp.get("signed_body") and note.root_hash.hex() == cp.get("root"),
           "checkpoint fields in evidence.json agree with the signed note")


def manifest_text(files: dict[str, bytes]) -> str:
    """``sha256sum``-compatible lines for every file, sorted by name."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))


def verify_bundle(zip_path: str | os.PathLike[str] | bytes) -> dict[str, Any]:
    """Re-check a bundle zip: every MANIFEST line, then the proof and the signature in ``evidence.json``.

    Returns ``{"ok", "found", "content_id", "checks": [...]}``; raises InputError only when the file
    is not a readable bundle at all.
    """
    try:
        source = io.BytesIO(zip_path) if isinstance(zip_path, bytes) else zip_path
        with zipfile.ZipFile(source) as zf:
            files = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError("not a readable evidence bundle: {exc}",
                         values={"exc": exc}, path=None if isinstance(zip_path, bytes)
                         else os.fspath(zip_path), hint="Pass the .zip written by `synthguard evidence`.") from exc
    if "evidence.json" not in files or MANIFEST not in files:
        raise InputError("not an evidence bundle: evidence.json or MANIFEST.sha256 is missing")
    checks: list[dict[str, Any]] = []
    listed: dict[str, str] = {}
    for line in files[MANIFEST].decode(errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    for name, data in sorted(files.items()):
        if name == MANIFEST:
            continue
        ok = listed.get(name) == hashlib.sha256(data).hexdigest()
        _check(checks, "manifest", ok, f"{name}: " + ("SHA-256 matches" if ok else "altered or not listed"))
    for name in sorted(set(listed) - set(files)):
        _check(checks, "manifest", False, f"{name}: listed but missing from the bundle")
    try:
        doc = json.loads(files["evidence.json"])
    except ValueError:
        _check(checks, "evidence-json", False, "evidence.json is not valid JSON")
        return {"ok": False, "found": None, "content_id": None, "checks": checks}
    result = check_evidence(doc)
    checks += result["checks"]
    cp = (doc.get("trace") or {}).get("checkpoint")
    if cp:
        _check(checks, "checkpoint-file", files.get("checkpoint.txt", b"").decode(errors="replace") == cp["note"],
               "checkpoint.txt is the note in evidence.json")
        _check(checks, "public-key-file", files.get("ledger-public-key.pem", b"").decode(errors="replace")
               == cp["public_key"], "ledger-public-key.pem is the key in evidence.json")
    trace = doc.get("trace") or {}
    return {"ok": all(c["ok"] for c in checks), "found": bool(trace.get("found")),
            "content_id": trace.get("content_id"), "checks": checks}
