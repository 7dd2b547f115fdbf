#!/usr/bin/env python3
"""verify.py - check a SynthGuard evidence bundle without SynthGuard (Python 3.9+ and `cryptography`).

Usage:  python verify.py [BUNDLE.zip | BUNDLE_DIR | evidence.json] [--file SUSPECT]

Checks, from evidence.json:
  1. every file against MANIFEST.sha256 (when the bundle's files are at hand);
  2. leaf hash = SHA-256(0x00 || ledger entry) and the RFC 6962 / RFC 9162 section 2.1.3.2 inclusion
     proof from that leaf to the root (interior nodes SHA-256(0x01 || left || right));
  3. the Ed25519 signature on the checkpoint note (C2SP signed-note) with the ledger public key, and
     that the signed tree head is exactly the root and size the proof leads to;
  4. with --file: that the file's SHA-256 is the one the bundle describes.
Compare the printed log id with the one the provider publishes: the key in the bundle proves
nothing by itself.  Prints OK and exits 0, or FAILED with reasons and exits 1.
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


def signature_ok(cp):
    """Check the signed note; returns (ok, origin, size, root bytes, log id)."""
    body, _, sigs = cp["note"].partition("\n\n")
    body += "\n"
    origin, size, root_b64 = body.split("\n")[:3]
    key = serialization.load_pem_public_key(cp["public_key"].encode())
    if not isinstance(key, Ed25519PublicKey):
        return False, origin, int(size), b"", ""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ok = body == cp["signed_body"] and ("log-id " + hashlib.sha256(der).hexdigest() + "\n") in body
    prefix = "\u2014 " + origin + " "
    for line in sigs.split("\n"):
        if line.startswith(prefix):
            blob = base64.b64decode(line[len(prefix):])
            ok = ok and blob[:4] == _sha(origin.encode() + b"\n\x01" + raw)[:4]
            try:
                key.verify(blob[4:], body.encode())
            except InvalidSignature:
                ok = False
            return ok, origin, int(size), base64.b64decode(root_b64), hashlib.sha256(der).hexdigest()
    return False, origin, int(size), base64.b64decode(root_b64), ""


def load(target):
    """(evidence dict, {name: bytes} of bundle files or None, strict: unlisted files are an error)."""
    if os.path.isdir(target):
        files = {}
        for base, _, names in os.walk(target):
            for n in names:
                full = os.path.join(base, n)
                with open(full, "rb") as fh:
                    files[os.path.relpath(full, target).replace(os.sep, "/")] = fh.read()
        return json.loads(files["evidence.json"]), files, False
    if zipfile.is_zipfile(target):
        with zipfile.ZipFile(target) as zf:
            files = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
        return json.loads(files["evidence.json"]), files, True
    with open(target, "rb") as fh:
        return json.loads(fh.read()), None, True


def verify(doc, files=None, suspect=None, strict=True):
    """List of (ok, message)."""
    out = []
    if files is not None and "MANIFEST.sha256" in files:
        listed = {}
        for line in files["MANIFEST.sha256"].decode().splitlines():
            digest, _, name = line.partition("  ")
            listed[name] = digest
        for name in sorted(listed):
            good = name in files and hashlib.sha256(files[name]).hexdigest() == listed[name]
            out.append((good, "manifest: " + name))
        for name in sorted(set(files) - set(listed) - {"MANIFEST.sha256"}) if strict else ():
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
    out.append((body["index"] == p["leaf_index"] and body["body"]["content_id"] == trace["content_id"],
                f"ledger entry {p['leaf_index']} names content id {trace['content_id']}"))
    path = [bytes.fromhex(h) for h in p["audit_path"]]
    out.append((inclusion_ok(leaf, p["leaf_index"], p["tree_size"], path, root),
                f"inclusion proof: leaf {p['leaf_index']} in a tree of {p['tree_size']} entries"))
    cp = trace.get("checkpoint")
    if cp is None:
        out.append((False, "no signed checkpoint in the bundle"))
        return out
    ok, origin, size, signed_root, log_id = signature_ok(cp)
    out.append((ok, f"Ed25519 checkpoint signature ({origin}, log id {log_id})"))
    out.append((size == p["tree_size"] and signed_root == root, "signed tree head = the proof's root and size"))
    return out


def main(argv):
    args = [a for a in argv if a != "--file"]
    suspect = argv[argv.index("--file") + 1] if "--file" in argv else None
    args = [a for a in args if a != suspect]
    target = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    try:
        doc, files, strict = load(target)
        results = verify(doc, files, suspect, strict)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        print(f"FAILED: cannot read the evidence ({type(exc).__name__}: {exc})")
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
