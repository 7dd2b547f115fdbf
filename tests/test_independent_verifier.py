"""Trace proofs check out with code that shares nothing with SynthGuard (DS-18, CSL-01, US-07).

The verifier below is written from the RFC text: RFC 6962 §2.1 (MTH, PATH) and RFC 9162 §2.1.3.2
(verifying an inclusion proof), leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right);
the checkpoint signature is checked with `cryptography` directly.  The bundle's own verify.py is then
run as a separate process.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from PIL import Image

from synthguard.evidence import build_bundle, write_bundle
from synthguard.ledger import public_key_pem
from tests.conftest import image_bytes


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- RFC 6962 §2.1 reference definitions ------------------------------------------------------------
def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)  # largest power of two smaller than n
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


# --- RFC 9162 §2.1.3.2, step by step ---------------------------------------------------------------
def rfc9162_verify(leaf_index: int, tree_size: int, leaf_hash: bytes, inclusion_path: list[bytes],
                   root_hash: bytes) -> bool:
    if leaf_index >= tree_size:  # 1.
        return False
    fn, sn = leaf_index, tree_size - 1  # 2.
    r = leaf_hash  # 3.
    for p in inclusion_path:  # 4.
        if sn == 0:  # a.
            return False
        if fn & 1 or fn == sn:  # b.
            r = sha256(b"\x01" + p + r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1  # c.
        sn >>= 1
    return sn == 0 and r == root_hash  # 5.


def test_reference_verifier_agrees_with_the_rfc_definitions():
    leaves = [f"entry {i}".encode() for i in range(13)]
    for n in range(1, len(leaves) + 1):
        root = mth(leaves[:n])
        for m in range(n):
            proof = path(m, leaves[:n])
            assert rfc9162_verify(m, n, sha256(b"\x00" + leaves[m]), proof, root)
            assert not rfc9162_verify(m, n, sha256(b"\x00" + b"forged"), proof, root)
            if proof:
                assert not rfc9162_verify(m, n, sha256(b"\x00" + leaves[m]), proof[:-1], root)


def stripped_copy(data: bytes) -> bytes:
    """What a re-uploader does: scale to 60 %, re-encode as JPEG quality 75, no metadata."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    im = im.resize((int(im.width * 0.6), int(im.height * 0.6)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=75)
    return out.getvalue()


@pytest.fixture
def traced(sg, verified_user, tmp_path: Path) -> tuple[dict, Path]:
    """A labeled image, a checkpoint, a stripped copy on disk and the trace of that copy."""
    for _ in range(4):  # a few other records, so the proof has a real audit path
        sg.label(image_bytes(size=(320, 200)), user=verified_user, producer="ACME")
    labeled = sg.label(image_bytes(size=(800, 500)), user=verified_user, producer="ACME",
                       output=tmp_path / "labeled.png")
    sg.label(image_bytes(size=(320, 200)), user=verified_user, producer="ACME")
    sg.checkpoint()
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(stripped_copy((tmp_path / "labeled.png").read_bytes()))
    result = sg.trace(copy)
    assert result["found"] and result["content_id"] == labeled.content_id
    assert "watermark" in result["via"] and not {"sha256", "aigc", "c2pa"} & set(result["via"])
    return result, copy


def test_trace_proof_verifies_independently(traced):
    result, _ = traced
    proof, cp = result["proof"], result["checkpoint"]
    entry = proof["entry"].encode()
    leaf = sha256(b"\x00" + entry)
    assert leaf.hex() == proof["leaf_hash"]
    body = json.loads(entry)
    assert body["index"] == proof["leaf_index"] and body["body"]["content_id"] == result["content_id"]
    assert body["body"]["output_sha256"] == result["record"]["output_sha256"]
    audit = [bytes.fromhex(h) for h in proof["audit_path"]]
    assert len(audit) >= 2
    root = bytes.fromhex(proof["root"])
    assert rfc9162_verify(proof["leaf_index"], proof["tree_size"], leaf, audit, root)
    assert not rfc9162_verify(proof["leaf_index"], proof["tree_size"], sha256(b"\x00" + entry + b" "), audit, root)

    # the checkpoint: Ed25519 over the signed note body, naming exactly this root and size
    key = load_pem_public_key(cp["public_key"].encode())
    key.verify(base64.b64decode(cp["signature"]), cp["signed_body"].encode())  # raises InvalidSignature
    origin, size, root_b64 = cp["signed_body"].split("\n")[:3]
    assert int(size) == proof["tree_size"] and base64.b64decode(root_b64) == root
    assert cp["note"].startswith(cp["signed_body"] + "\n\u2014 " + origin + " ")
    blob = base64.b64decode(cp["note"].rstrip("\n").rsplit(" ", 1)[1])
    assert blob[4:] == base64.b64decode(cp["signature"])


def _run_verify(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """verify.py with the provider's key pinned (found in a file a provider published, not the bundle)."""
    args = (*args, "--trusted-key", str(folder.parent / "provider.pem"))
    return subprocess.run([sys.executable, "verify.py", *args], cwd=folder, capture_output=True, text=True,
                          timeout=60, check=False)


def test_bundle_verify_py_standalone(sg, traced, tmp_path: Path):
    _, copy = traced
    (tmp_path / "provider.pem").write_bytes(public_key_pem(sg.keys.ledger_public))
    zpath = write_bundle(build_bundle(sg, copy), tmp_path / "bundle.zip")
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(zpath) as zf:
        zf.extractall(folder)
    script = (folder / "verify.py").read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert all(m.split(".")[0] in {"base64", "hashlib", "json", "os", "sys", "zipfile", "cryptography"}
               for m in imported), imported

    done = _run_verify(folder)
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stdout + done.stderr
    assert "FAIL" not in done.stdout
    assert _run_verify(folder, "--file", str(copy)).returncode == 0
    other = tmp_path / "other.png"
    other.write_bytes(image_bytes())
    assert _run_verify(folder, "--file", str(other)).returncode == 1
    zipped = subprocess.run([sys.executable, str(folder / "verify.py"), str(zpath), "--trusted-key",
                             str(tmp_path / "provider.pem")], capture_output=True, text=True,
                            timeout=60, check=False)
    assert zipped.returncode == 0, zipped.stdout

    # tamper with the audit path: the proof itself (not only the manifest) fails
    doc = json.loads((folder / "evidence.json").read_text())
    first = doc["trace"]["proof"]["audit_path"][0]
    doc["trace"]["proof"]["audit_path"][0] = ("0" if first[0] != "0" else "1") + first[1:]
    (folder / "evidence.json").write_text(json.dumps(doc))
    done = _run_verify(folder)
    assert done.returncode == 1 and "FAILED" in done.stdout
    assert "FAIL  inclusion proof" in done.stdout and "FAIL  manifest: evidence.json" in done.stdout


def test_verify_py_rejects_a_forged_checkpoint(sg, traced, tmp_path: Path):
    _, copy = traced
    bundle = build_bundle(sg, copy)
    folder = tmp_path / "b"
    folder.mkdir()
    (tmp_path / "provider.pem").write_bytes(public_key_pem(sg.keys.ledger_public))
    doc = bundle.evidence
    cp = doc["trace"]["checkpoint"]
    cp["signed_body"] = cp["signed_body"].replace(f"\n{cp['tree_size']}\n", f"\n{cp['tree_size'] + 1}\n")
    signature_line = cp["note"].split("\n\n", 1)[1]
    cp["note"] = cp["signed_body"] + "\n" + signature_line
    (folder / "evidence.json").write_text(json.dumps(doc))
    (folder / "verify.py").write_bytes(bundle.files["verify.py"])
    done = _run_verify(folder, "evidence.json")
    assert done.returncode == 1 and "FAIL  Ed25519 checkpoint signature" in done.stdout, done.stdout
