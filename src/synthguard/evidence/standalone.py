#!/usr/bin/env python3
"""verify.py - check a SynthGuard evidence bundle without SynthGuard (Python 3.9+ and `cryptography`).

Usage:  python verify.py [BUNDLE.zip | BUNDLE_DIR | evidence.json] --trusted-key KEY.pem [--file SUSPECT]

Checks, from evidence.json:
  1. every file against MANIFEST.sha256 (when the bundle's files are at hand);
  2. leaf hash = SHA-256(0x00 || ledger entry) and the RFC 6962 / RFC 9162 section 2.1.3.2 inclusion
     proof from that leaf to the root (interior nodes SHA-256(0x01 || left || right));
  3. the Ed25519 signature on the checkpoint note (C2SP signed-note) with a key YOU trust, given with
     --trusted-key (repeatable; get it from the provider, not from the bundle), its log id and origin,
     and that the signed tree head is exactly the root and size the proof leads to;
  4. with --file: that the file's SHA-256 is the one the bundle describes.
The key inside the bundle is never trusted: whoever made the bundle chose it.  Without a trusted key
that signed the checkpoint the result is "origin not verified".  Prints the fingerprint (log id) of
the key it trusted and OK, exit 0; or FAILED with reasons, exit 1.
(This file is written into every bundle by synthguard.evidence; it must not import synthguard.)
"""

import base64
import hashlib
import json
import os
import sys
import zipfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def _sha(data):
    return hashlib.sha256(data).digest()


def inclusion_ok(leaf, index, size, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _sha(b"\x01" + p + r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = _sha(b"\x01" + r + p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def log_id_of(key):
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_key(path):
    with open(path, "rb") as fh:
        key = serialization.load_pem_public_key(fh.read())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(path + " is not an Ed25519 public key")
    return key


def signature_ok(cp, trusted):
    """Check the signed note with the trusted key it names; returns (ok, origin, size, root, log id, key)."""
    body, _, sigs = cp["note"].partition("\n\n")
    body += "\n"
    origin, size, root_b64 = body.split("\n")[:3]
    ext = dict(line.partition(" ")[::2] for line in body.split("\n")[3:] if line)
    named = ext.get("log-id", "")
    key = next((k for k in trusted if log_id_of(k) == named), None)
    if key is None:
        return False, origin, int(size), base64.b64decode(root_b64), named, None
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ok = body == cp["signed_body"] and cp.get("log_id") == named and cp.get("origin") == origin
    prefix = "\u2014 " + origin + " "
    for line in sigs.split("\n"):
        if line.startswith(prefix):
            blob = base64.b64decode(line[len(prefix):])
            ok = ok and blob[:4] == _sha(origin.encode() + b"\n\x01" + raw)[:4]
            try:
                key.verify(blob[4:], body.encode())
            except InvalidSignature:
                ok = False
            return ok, origin, int(size), base64.b64decode(root_b64), named, key
    return False, origin, int(size), base64.b64decode(root_b64), named, key


MAX_ENTRIES = 1000
MAX_SMALL = 32 << 20  # files read into memory; the others are hashed in chunks (a zip bomb costs no memory)
SMALL = ("evidence.json", "MANIFEST.sha256")


def _read_zip(target):
    """({small name: bytes}, {name: sha256 hex}) streaming every member."""
    files, digests = {}, {}
    with zipfile.ZipFile(target) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ENTRIES:
            raise ValueError("too many entries in the zip")
        for info in infos:
            small = info.filename in SMALL
            if small and info.file_size > MAX_SMALL:
                raise ValueError(info.filename + " is too large")
            h, chunks = hashlib.sha256(), []
            with zf.open(info) as fh:
                chunk = fh.read(1 << 20)
                while chunk:
                    h.update(chunk)
                    if small:
                        chunks.append(chunk)
                    chunk = fh.read(1 << 20)
            digests[info.filename] = h.hexdigest()
            if small:
                files[info.filename] = b"".join(chunks)
    return files, digests


def load(target):
    """(evidence dict, {name: sha256 hex} of bundle files or None, MANIFEST text, strict: unlisted files fail)."""
    if os.path.isdir(target):
        files, digests = {}, {}
        for base, _, names in os.walk(target):
            for n in names:
                full = os.path.join(base, n)
                name = os.path.relpath(full, target).replace(os.sep, "/")
                h = hashlib.sha256()
                with open(full, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023
                        h.update(chunk)
                digests[name] = h.hexdigest()
                if name in SMALL:
                    with open(full, "rb") as fh:
                        files[name] = fh.read(MAX_SMALL + 1)
        return json.loads(files["evidence.json"]), digests, files.get("MANIFEST.sha256"), False
    if zipfile.is_zipfile(target):
        files, digests = _read_zip(target)
        return json.loads(files["evidence.json"]), digests, files.get("MANIFEST.sha256"), True
    with open(target, "rb") as fh:
        return json.loads(fh.read(MAX_SMALL + 1)), None, None, True


BOUND = ("content_id", "producer", "model", "modality", "input_sha256", "output_sha256", "pixel_sha256",
         "watermark_payload", "marks")


def verify(doc, digests=None, manifest=None, suspect=None, strict=True, trusted=()):
    """List of (ok, message)."""
    out = []
    if digests is not None and manifest is not None:
        listed = {}
        for line in manifest.decode().splitlines():
            digest, _, name = line.partition("  ")
            listed[name] = digest
        for name in sorted(listed):
            out.append((digests.get(name) == listed[name], "manifest: " + name))
        for name in sorted(set(digests) - set(listed) - {"MANIFEST.sha256"}) if strict else ():
            out.append((False, f"manifest: {name} is in the bundle but not listed"))
    if suspect is not None:
        with open(suspect, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        out.append((digest == doc["file"]["sha256"], "the given file is the file this bundle describes"))
    trace = doc["trace"]
    if not trace.get("found"):
        out.append((True, "bundle records that no ledger record was found: there is no proof to check"))
        return out
    p = trace["proof"]
    entry = p["entry"].encode()
    leaf = _sha(b"\x00" + entry)
    root = bytes.fromhex(p["root"])
    out.append((leaf.hex() == p["leaf_hash"], "leaf hash = SHA-256(0x00 || entry)"))
    body = json.loads(entry)
    record = trace.get("record") or {}
    differ = [f for f in BOUND if body["body"].get(f) != record.get(f)]
    out.append((body["index"] == p["leaf_index"] and body["body"]["content_id"] == trace["content_id"]
                and not differ, f"ledger entry {p['leaf_index']} names content id {trace['content_id']} and the "
                "recorded producer, model and hashes" + (" (differs: " + ", ".join(differ) + ")" if differ else "")))
    path = [bytes.fromhex(h) for h in p["audit_path"]]
    out.append((inclusion_ok(leaf, p["leaf_index"], p["tree_size"], path, root),
                f"inclusion proof: leaf {p['leaf_index']} in a tree of {p['tree_size']} entries"))
    cp = trace.get("checkpoint")
    if cp is None:
        out.append((False, "no signed checkpoint in the bundle"))
        return out
    ok, origin, size, signed_root, log_id, key = signature_ok(cp, trusted)
    if key is None:
        out.append((False, f"origin not verified: the checkpoint names log id {log_id}, which is none of the "
                           "--trusted-key keys (the key inside the bundle proves nothing)"))
    else:
        out.append((True, f"trusted key: log id {log_id} (pinned with --trusted-key)"))
    out.append((ok, f"Ed25519 checkpoint signature ({origin}, log id {log_id})"))
    out.append((size == p["tree_size"] and signed_root == root, "signed tree head = the proof's root and size"))
    return out


def _options(argv):
    """(target, suspect, [trusted key paths]); --file and --trusted-key take a value."""
    rest, suspect, pins = [], None, []
    it = iter(argv)
    for a in it:
        if a == "--file":
            suspect = next(it, None)
        elif a == "--trusted-key":
            pins.append(next(it, ""))
        else:
            rest.append(a)
    return (rest[0] if rest else os.path.dirname(os.path.abspath(__file__))), suspect, pins


def main(argv):
    target, suspect, pins = _options(argv)
    try:
        trusted = [load_key(p) for p in pins]
        doc, digests, manifest, strict = load(target)
        results = verify(doc, digests, manifest, suspect, strict, trusted)
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile, EOFError) as exc:
        print(f"FAILED: cannot read the evidence or key ({type(exc).__name__}: {exc})")
        return 1
    for good, message in results:
        print(("  ok    " if good else "  FAIL  ") + message)
    if all(good for good, _ in results):
        print("OK")
        return 0
    print("FAILED")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
