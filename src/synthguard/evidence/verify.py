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
from collections.abc import Callable, Iterable
from typing import Any

from synthguard.errors import InputError, LedgerIntegrityError, SynthGuardError, ValidationError
from synthguard.ledger import merkle
from synthguard.ledger.checkpoint import log_id, parse_checkpoint, parse_vkey, verify_checkpoint
from synthguard.ledger.trusted import KeySource, TrustedKey, find_trusted
from synthguard.trust import cosign
from synthguard.trust.descriptor import verify as verify_descriptor

MANIFEST = "MANIFEST.sha256"


def _check(checks: list[dict[str, Any]], name: str, ok: bool, detail: str) -> bool:
    checks.append({"check": name, "ok": bool(ok), "detail": detail})
    return bool(ok)


def check_evidence(doc: dict[str, Any], trusted: Iterable[TrustedKey] = (),
                   user_ref: Callable[..., str] | None = None) -> dict[str, Any]:
    """Verify the proof and checkpoint inside an evidence document; never raises for bad evidence.

    ``trusted`` are the keys the verifier trusted beforehand (never the key the bundle carries);
    ``user_ref`` (only the issuing deployment has it) maps the record's account id to the pseudonymous
    reference in the signed entry.  Returns ``{"ok": bool | None, "checks": [...], "trusted_key": ...}``:
    ``ok`` is None when there is nothing to verify, False when a check fails or the origin is not verified.
    """
    trace = doc.get("trace") or {}
    checks: list[dict[str, Any]] = []
    proof, cp = trace.get("proof"), trace.get("checkpoint")
    if not trace.get("found") or not proof:
        return {"ok": None, "checks": checks, "trusted_key": None}
    try:
        entry = proof["entry"].encode()
        leaf = bytes.fromhex(proof["leaf_hash"])
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        root = bytes.fromhex(proof["root"])
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        _check(checks, "proof-format", False, f"the proof is malformed ({type(exc).__name__}: {exc})")
        return {"ok": False, "checks": checks, "trusted_key": None}
    _check(checks, "leaf-hash", merkle.leaf_hash(entry) == leaf,
           "SHA-256(0x00 || ledger entry) equals the proof's leaf hash")
    _check(checks, "inclusion-proof", merkle.verify_inclusion(leaf, index, size, path, root),
           f"the audit path leads from leaf {index} to the root of a tree of {size} entries (RFC 9162 §2.1.3.2)")
    used = None
    entry_checks: list[dict[str, Any]] = []
    if cp is None:
        _check(checks, "checkpoint", False, "no signed checkpoint covers this record yet")
    else:
        used = _check_checkpoint(checks, cp, size, root, trusted)
    # the account check needs the issuing deployment's salt: only when the bundle is this deployment's own
    own = used is not None and used.source is KeySource.OWN_LEDGER
    _check_entry(entry_checks, entry, index, trace, user_ref if own else None)
    checks[2:2] = entry_checks  # reported in the order the evidence is read: proof, entry, checkpoint
    return {"ok": all(c["ok"] for c in checks), "checks": checks,
            "trusted_key": used.describe() if used is not None else None}


# Record fields the signed ledger entry binds (the entry holds a pseudonymous user reference instead of
# the account id, so ``user`` is checked only where the issuing deployment's salt is at hand).
BOUND_FIELDS = ("content_id", "producer", "model", "modality", "input_sha256", "output_sha256", "pixel_sha256",
                "watermark_payload", "marks")


def _check_entry(checks: list[dict[str, Any]], entry: bytes, index: int, trace: dict[str, Any],
                 user_ref: Callable[..., str] | None) -> None:
    try:
        doc = json.loads(entry)
        body = doc["body"]
        record = trace.get("record") or {}
        differ = [f for f in BOUND_FIELDS if body.get(f) != record.get(f)]
        same = doc.get("index") == index and body.get("content_id") == trace.get("content_id") and not differ
    except (ValueError, KeyError, TypeError, AttributeError):
        same, differ, body, record = False, [], {}, {}
    _check(checks, "entry-matches-record", same,
           "the signed ledger entry names the traced content id and index and every recorded field"
           + (f" (differs: {', '.join(differ)})" if differ else ""))
    if user_ref is not None and isinstance(record.get("user"), str):
        _check(checks, "entry-matches-user", _account_ref(user_ref, record) == body.get("user"),
               "the account named in the record (its id in its tenant) is the one whose pseudonymous reference the "
               "entry holds")


def _account_ref(user_ref: Callable[..., str], record: dict[str, Any]) -> str:
    """The pseudonym of the record's account.  Ids are per tenant (issue 18 finding 13), so a ``user_ref`` that takes
    a ``tenant`` (``SynthGuard.user_ref``) is given the record's: the same id in another tenant is another account,
    and a record moved to another tenant no longer matches its entry."""
    import inspect

    try:
        takes_tenant = "tenant" in inspect.signature(user_ref).parameters
    except (TypeError, ValueError):
        takes_tenant = False
    tenant = record.get("tenant")
    if takes_tenant:
        return user_ref(record["user"], tenant=tenant if isinstance(tenant, str) else "default")
    return user_ref(record["user"])


def _check_checkpoint(checks: list[dict[str, Any]], cp: dict[str, Any], size: int, root: bytes,
                      trusted: Iterable[TrustedKey]) -> TrustedKey | None:
    try:
        note = parse_checkpoint(cp["note"])
    except (ValidationError, KeyError, TypeError) as exc:
        _check(checks, "checkpoint-signature", False, f"unreadable checkpoint ({exc})")
        return None
    key = find_trusted(trusted, note)
    if key is None:  # the bundle's own key proves nothing: the forger chose it
        named = (note.log_id or note.key_hash.hex())[:16]  # the log-id line is optional (C2SP)
        _check(checks, "checkpoint-origin", False,
               f"origin not verified: the checkpoint for {note.origin!r} names log id {named}…, "
               "which is none of the trusted keys (this deployment's ledger key, --trusted-key pins, trust lists); "
               "the key inside the bundle is never trusted")
        return None
    _check(checks, "checkpoint-origin", True,
           f"signed for {note.origin!r} by trusted key {key.log_id[:16]}… ({key.source.value}: {key.label})")
    try:
        verify_checkpoint(note, key.public_key)
        _check(checks, "checkpoint-signature", True, "Ed25519 signature over the checkpoint note verifies with "
               "the trusted key")
    except LedgerIntegrityError as exc:
        _check(checks, "checkpoint-signature", False, exc.message)
    if key.quorum:  # the trust list requires k of n witness cosignatures (c2sp.org/tlog-cosignature, issue 19)
        found = [c.name for v in key.witnesses if (c := cosign.verify(str(cp.get("note", "")), v)) is not None]
        _check(checks, "witness-cosignatures", len(found) >= key.quorum,
               f"{len(found)} of the {key.quorum} required witness cosignatures verify"
               + (f" ({', '.join(found)})" if found else "") + ": a checkpoint no witness saw may be a split view")
    _check(checks, "checkpoint-covers-proof", note.tree_size == size and note.root_hash == root,
           f"the signed tree head (size {note.tree_size}) is the root the proof leads to")
    _check(checks, "checkpoint-fields", note.body() == cp.get("signed_body") and note.root_hash.hex() == cp.get("root")
           and cp.get("log_id") == key.log_id and cp.get("origin") == note.origin,
           "checkpoint fields in evidence.json agree with the signed note and the trusted key")
    return key


def manifest_text(files: dict[str, bytes]) -> str:
    """``sha256sum``-compatible lines for every file, sorted by name."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))


MAX_ENTRIES = 1000           # a bundle has about ten files
MAX_SMALL_FILE = 32 << 20    # evidence.json, the manifest, the note and the key are read into memory
DESCRIPTOR = "provider-descriptor.json"
_SMALL = frozenset({"evidence.json", MANIFEST, "checkpoint.txt", "ledger-public-key.pem", DESCRIPTOR})


def _read_bundle(zf: zipfile.ZipFile) -> tuple[dict[str, bytes], dict[str, str]]:
    """The small files' bytes and every file's SHA-256, streamed: a zip bomb costs time, not memory (finding 14).

    The declared size bounds what zipfile inflates per member, so it is checked before reading.
    """
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > MAX_ENTRIES:
        raise InputError("not an evidence bundle: {n} entries (at most {limit})",
                         values={"n": len(infos), "limit": MAX_ENTRIES})
    files: dict[str, bytes] = {}
    digests: dict[str, str] = {}
    for info in infos:
        small = info.filename in _SMALL
        if small and info.file_size > MAX_SMALL_FILE:
            raise InputError("not an evidence bundle: {name} inflates to {size} bytes (at most {limit})",
                             values={"name": info.filename, "size": info.file_size, "limit": MAX_SMALL_FILE})
        h, chunks = hashlib.sha256(), []
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
                if small:
                    chunks.append(chunk)
        digests[info.filename] = h.hexdigest()
        if small:
            files[info.filename] = b"".join(chunks)
    return files, digests


def verify_bundle(zip_path: str | os.PathLike[str] | bytes, trusted: Iterable[TrustedKey] = (),
                  user_ref: Callable[..., str] | None = None) -> dict[str, Any]:
    """Re-check a bundle zip: every MANIFEST line, then the proof and the signature in ``evidence.json``.

    Returns ``{"ok", "found", "content_id", "trusted_key", "checks": [...]}``; ``trusted_key`` names the key
    that signed the checkpoint and why it is trusted (None: origin not verified).  Raises InputError only
    when the file is not a readable bundle at all.
    """
    try:
        source = io.BytesIO(zip_path) if isinstance(zip_path, bytes) else zip_path
        with zipfile.ZipFile(source) as zf:
            files, digests = _read_bundle(zf)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
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
    for name, digest in sorted(digests.items()):
        if name == MANIFEST:
            continue
        ok = listed.get(name) == digest
        _check(checks, "manifest", ok, f"{name}: " + ("SHA-256 matches" if ok else "altered or not listed"))
    for name in sorted(set(listed) - set(digests)):
        _check(checks, "manifest", False, f"{name}: listed but missing from the bundle")
    try:
        doc = json.loads(files["evidence.json"])
    except ValueError:
        _check(checks, "evidence-json", False, "evidence.json is not valid JSON")
        return {"ok": False, "found": None, "content_id": None, "trusted_key": None, "checks": checks}
    result = check_evidence(doc, trusted, user_ref)
    checks += result["checks"]
    cp = (doc.get("trace") or {}).get("checkpoint")
    if cp:
        _check(checks, "checkpoint-file", files.get("checkpoint.txt", b"").decode(errors="replace") == cp["note"],
               "checkpoint.txt is the note in evidence.json")
        _check(checks, "public-key-file", files.get("ledger-public-key.pem", b"").decode(errors="replace")
               == cp["public_key"], "ledger-public-key.pem is the key in evidence.json")
    if DESCRIPTOR in files:
        _check_descriptor(checks, files[DESCRIPTOR], result["trusted_key"])
    trace = doc.get("trace") or {}
    return {"ok": all(c["ok"] for c in checks), "found": bool(trace.get("found")),
            "content_id": trace.get("content_id"), "trusted_key": result["trusted_key"], "checks": checks}


def _check_descriptor(checks: list[dict[str, Any]], data: bytes, used: dict[str, Any] | None) -> None:
    """The provider descriptor in the bundle is signed by the very key the checkpoint was trusted with (issue 19):
    it says who the provider is (name, producer code, filing number) only if that key vouches for it."""
    try:
        got = verify_descriptor(json.loads(data))
        key_log_id = log_id(parse_vkey(got["vkey"])[1])
    except (SynthGuardError, ValueError) as exc:
        _check(checks, "provider-descriptor", False, f"the provider descriptor does not verify ({exc})")
        return
    d = got["descriptor"]
    who = f"{d.get('name') or '-'} ({d.get('producer') or '-'}, filing {d.get('filing_number') or '-'})"
    if used is None:
        _check(checks, "provider-descriptor", False, f"the descriptor of {who} is signed by {got['fingerprint']}, "
               "which is not a trusted key: who the provider is stays unverified")
        return
    _check(checks, "provider-descriptor", key_log_id == used["log_id"],
           f"the descriptor of {who} is signed by {got['fingerprint']}"
           + (", the trusted key that signed the checkpoint" if key_log_id == used["log_id"]
              else ", not by the key that signed the checkpoint"))
