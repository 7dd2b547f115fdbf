#!/usr/bin/env python3
"""verify.py - check a SynthGuard evidence bundle without SynthGuard (Python 3.9+ and `cryptography`).

Usage:  python verify.py [BUNDLE.zip | BUNDLE_DIR | evidence.json] [--trusted-key KEY] [--trust-list FILE]
                         [--publisher-key VKEY] [--file SUSPECT]

Checks, from evidence.json, with no network access at all:
  1. every file against MANIFEST.sha256 (when the bundle's files are at hand);
  2. leaf hash = SHA-256(0x00 || ledger entry) and the RFC 6962 / RFC 9162 section 2.1.3.2 inclusion
     proof from that leaf to the root (interior nodes SHA-256(0x01 || left || right));
  3. the Ed25519 signature on the checkpoint note (C2SP signed-note, tlog-checkpoint) with a key YOU trust:
     --trusted-key (repeatable) is a PEM public key file or the provider's note verifier key
     (origin+hash+base64, c2sp.org/signed-note); --trust-list is a SynthGuard trust list file
     (`synthguard trust list` keeps one in <home>/trust-list.json), or a list a publisher signed
     (`synthguard trust publish`) together with --publisher-key, the publisher's verifier key you pinned.
     Get keys and lists from the provider or publisher, not from the bundle.  The signed tree head must be
     exactly the root and size the proof leads to;
  4. when the trust list requires k of n witness cosignatures for the provider, k valid ones on the
     checkpoint (c2sp.org/tlog-cosignature, cosignature/v1);
  5. provider-descriptor.json, when the bundle carries it: signed by the very key that signed the checkpoint;
  6. with --file: that the file's SHA-256 is the one the bundle describes.
The key inside the bundle is never trusted: whoever made the bundle chose it.  Without a trusted key
that signed the checkpoint the result is "origin not verified".  Prints the key it trusted (log id,
fingerprint) and where that key came from, and OK, exit 0; or FAILED with reasons, exit 1.
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


def _raw(key):
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def note_key_hash(name, key, alg=1):
    """c2sp.org/signed-note key ID: SHA-256(name || 0x0A || alg || key)[:4] (alg 1 Ed25519, 4 cosignature/v1)."""
    return _sha(name.encode() + b"\n" + bytes([alg]) + _raw(key))[:4]


def vkey_of(name, key):
    material = base64.b64encode(b"\x01" + _raw(key)).decode()
    return f"{name}+{note_key_hash(name, key).hex()}+{material}"


def fingerprint(vkey_text):
    """What `synthguard trust list` shows for a key: SHA256: and the base64 SHA-256 of the verifier key."""
    return "SHA256:" + base64.b64encode(_sha(vkey_text.strip().encode())).decode().rstrip("=")


def parse_vkey(text, alg=1):
    """(name, Ed25519 public key) of a verifier key name+hex(key ID)+base64(alg || key); ValueError otherwise."""
    name, _, rest = text.strip().partition("+")
    kid, _, material = rest.partition("+")
    blob = base64.b64decode(material, validate=True)
    if not name or len(kid) != 8 or len(blob) != 33 or blob[0] != alg:
        raise ValueError("not a verifier key: " + text.strip()[:80])
    key = Ed25519PublicKey.from_public_bytes(blob[1:])
    if bytes.fromhex(kid) != note_key_hash(name, key, alg):
        raise ValueError("verifier key ID does not match its name and key: " + text.strip()[:80])
    return name, key


def load_key(path):
    with open(path, "rb") as fh:
        key = serialization.load_pem_public_key(fh.read())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(path + " is not an Ed25519 public key")
    return key


def pin(ref):
    """A --trusted-key: a PEM file, or a note verifier key (bound to its origin)."""
    if os.path.isfile(ref) or "+" not in ref:
        return {"key": load_key(ref), "origin": None, "source": "pinned with --trusted-key " + ref,
                "witnesses": [], "quorum": 0, "pem": True}
    origin, key = parse_vkey(ref)
    return {"key": key, "origin": origin, "source": "pinned with --trusted-key (verifier key)",
            "witnesses": [], "quorum": 0}


def canonical(doc):
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def descriptor_key(signed):
    """(descriptor, vkey text, key) of a signed provider descriptor whose signature verifies with its own log key."""
    doc = signed["descriptor"]
    vk = doc["log"]["vkey"]
    _, key = parse_vkey(vk)
    key.verify(base64.b64decode(signed["signature"], validate=True), canonical(doc))  # InvalidSignature
    return doc, vk, key


def load_trust_list(path, publisher_key=None):
    """Trusted providers from a trust list file: a deployment's own (entries with vkey, source, witnesses, quorum)
    or a list a publisher signed (verified with --publisher-key; each descriptor's signature checked)."""
    with open(path, "rb") as fh:
        doc = json.loads(fh.read(MAX_SMALL + 1))
    out = []
    if isinstance(doc.get("list"), dict):
        if not publisher_key:
            raise ValueError(path + " is a signed list: pass --publisher-key with the publisher's verifier key")
        name, pub = parse_vkey(publisher_key)
        pub.verify(base64.b64decode(doc["signature"], validate=True), canonical(doc["list"]))
        for signed in doc["list"]["providers"]:
            d, vk, key = descriptor_key(signed)
            out.append({"key": key, "origin": d["log"]["origin"], "name": d.get("name") or d.get("producer"),
                        "source": f"list {name} {fingerprint(publisher_key)}", "witnesses": [], "quorum": 0})
        return out
    for e in doc["providers"]:
        origin, key = parse_vkey(e["vkey"])
        out.append({"key": key, "origin": origin, "name": e.get("name") or e.get("producer") or origin,
                    "source": e.get("source", "trust list"), "witnesses": list(e.get("witnesses") or []),
                    "quorum": int(e.get("quorum") or 0)})
    return out


def _trusted(pins):
    """Normalise: bare Ed25519 keys (older callers) become pins."""
    return [p if isinstance(p, dict) else {"key": p, "origin": None, "source": "pinned with --trusted-key",
                                           "witnesses": [], "quorum": 0, "pem": True} for p in pins]


def signature_ok(cp, trusted):
    """Check the signed note with the trusted key it names; returns (ok, origin, size, root, log id, pin)."""
    body, _, sigs = cp["note"].partition("\n\n")
    body += "\n"
    origin, size, root_b64 = body.split("\n")[:3]
    ext = dict(line.partition(" ")[::2] for line in body.split("\n")[3:] if line)
    named = ext.get("log-id", "")
    prefix = "\u2014 " + origin + " "
    lines = [base64.b64decode(line[len(prefix):]) for line in sigs.split("\n") if line.startswith(prefix)]
    pin_ = None
    for p in _trusted(trusted):
        if p["origin"] is not None and p["origin"] != origin:
            continue
        # the optional log-id line names the key; without it, the signature line's key ID does (C2SP)
        if (named and log_id_of(p["key"]) == named) or (not named and any(
                b[:4] == note_key_hash(origin, p["key"]) for b in lines)):
            pin_ = p
            break
    if pin_ is None:
        return False, origin, int(size), base64.b64decode(root_b64), named, None
    key = pin_["key"]
    ok = body == cp["signed_body"] and cp.get("origin") == origin and (not named or cp.get("log_id") == named)
    for blob in lines:
        if blob[:4] == note_key_hash(origin, key):
            try:
                key.verify(blob[4:], body.encode())
            except InvalidSignature:
                ok = False
            return ok, origin, int(size), base64.b64decode(root_b64), named or log_id_of(key), pin_
    return False, origin, int(size), base64.b64decode(root_b64), named or log_id_of(key), pin_


def cosigners(note, witness_vkeys):
    """Names of the witnesses whose cosignature/v1 on the checkpoint verifies (c2sp.org/tlog-cosignature)."""
    body, _, sigs = note.rpartition("\n\n")
    found = []
    for vk in witness_vkeys:
        name, key = parse_vkey(vk, alg=4)
        kid = note_key_hash(name, key, 4)
        for line in sigs.split("\n"):
            if not line.startswith("\u2014 " + name + " "):
                continue
            try:
                blob = base64.b64decode(line.rpartition(" ")[2], validate=True)
            except ValueError:
                continue
            if len(blob) != 76 or blob[:4] != kid:
                continue
            t = int.from_bytes(blob[4:12], "big")
            try:
                key.verify(blob[12:], f"cosignature/v1\ntime {t}\n".encode() + body.encode() + b"\n")
                found.append(name)
            except InvalidSignature:
                pass
            break
    return found


MAX_ENTRIES = 1000
MAX_SMALL = 32 << 20  # files read into memory; the others are hashed in chunks (a zip bomb costs no memory)
SMALL = ("evidence.json", "MANIFEST.sha256", "provider-descriptor.json")


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
    """(evidence dict, {name: sha256 hex} of bundle files or None, MANIFEST text, strict: unlisted files fail,
    provider-descriptor.json bytes or None)."""
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
        return (json.loads(files["evidence.json"]), digests, files.get("MANIFEST.sha256"), False,
                files.get("provider-descriptor.json"))
    if zipfile.is_zipfile(target):
        files, digests = _read_zip(target)
        return (json.loads(files["evidence.json"]), digests, files.get("MANIFEST.sha256"), True,
                files.get("provider-descriptor.json"))
    with open(target, "rb") as fh:
        return json.loads(fh.read(MAX_SMALL + 1)), None, None, True, None


BOUND = ("content_id", "producer", "model", "modality", "input_sha256", "output_sha256", "pixel_sha256",
         "watermark_payload", "marks")


def verify(doc, digests=None, manifest=None, suspect=None, strict=True, trusted=(), descriptor=None):
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
    ok, origin, size, signed_root, log_id, pin_ = signature_ok(cp, trusted)
    if pin_ is None:
        out.append((False, f"origin not verified: the checkpoint names log id {log_id}, which is none of the "
                           "trusted keys (--trusted-key, --trust-list; the key inside the bundle proves nothing)"))
    else:
        fp = fingerprint(vkey_of(origin, pin_["key"]))
        who = pin_.get("name") or origin
        if pin_.get("pem"):
            out.append((True, f"trusted key: log id {log_id} (pinned with --trusted-key), fingerprint {fp}"))
        else:
            out.append((True, f"trusted key: {fp} of {who}, log id {log_id} ({pin_['source']})"))
    out.append((ok, f"Ed25519 checkpoint signature ({origin}, log id {log_id})"))
    if pin_ is not None and pin_["quorum"]:
        found = cosigners(cp["note"], pin_["witnesses"])
        out.append((len(found) >= pin_["quorum"], f"witness cosignatures: {len(found)} of the {pin_['quorum']} "
                    "required verify" + (" (" + ", ".join(found) + ")" if found else "")))
    out.append((size == p["tree_size"] and signed_root == root, "signed tree head = the proof's root and size"))
    if descriptor is not None:
        try:
            d, vk, dkey = descriptor_key(json.loads(descriptor))
            same = pin_ is not None and _raw(dkey) == _raw(pin_["key"])
            who = f"{d.get('name') or '-'} ({d.get('producer') or '-'}, filing {d.get('filing_number') or '-'})"
            out.append((same, f"provider descriptor of {who} signed by {fingerprint(vk)}"
                        + (", the trusted key that signed the checkpoint" if same else ", not a trusted key")))
        except (ValueError, KeyError, TypeError, InvalidSignature) as exc:
            out.append((False, f"provider descriptor does not verify ({type(exc).__name__})"))
    return out


def _options(argv):
    """(target, suspect, [trusted key refs], [trust list paths], publisher key); options take a value."""
    rest, suspect, pins, lists, publisher = [], None, [], [], None
    it = iter(argv)
    for a in it:
        if a == "--file":
            suspect = next(it, None)
        elif a == "--trusted-key":
            pins.append(next(it, ""))
        elif a == "--trust-list":
            lists.append(next(it, ""))
        elif a == "--publisher-key":
            publisher = next(it, "")
        else:
            rest.append(a)
    return (rest[0] if rest else os.path.dirname(os.path.abspath(__file__))), suspect, pins, lists, publisher


def main(argv):
    target, suspect, pins, lists, publisher = _options(argv)
    try:
        trusted = [pin(p) for p in pins]
        for path in lists:
            trusted += load_trust_list(path, publisher)
        doc, digests, manifest, strict, descriptor = load(target)
        results = verify(doc, digests, manifest, suspect, strict, trusted, descriptor)
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile, EOFError,
            InvalidSignature) as exc:
        print(f"FAILED: cannot read the evidence, key or trust list ({type(exc).__name__}: {exc})")
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
