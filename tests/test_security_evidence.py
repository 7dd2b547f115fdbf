"""Issue 18 findings 1 and 14: forged evidence bundles and zip bombs (DS-18, CSL-01, US-07).

The forger rewrites the record and its ledger entry, rebuilds a one-leaf tree, signs a fresh checkpoint with
a fresh Ed25519 key and swaps that key into the bundle.  Every hash and signature inside the bundle is then
self-consistent, so only a key trusted beforehand can expose it.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthguard.errors import InputError
from synthguard.evidence import build_bundle, bundle_bytes, verify_bundle
from synthguard.evidence.bundle import own_keys
from synthguard.evidence.verify import manifest_text
from synthguard.ledger import log_id, merkle, public_key_pem, sign_checkpoint
from synthguard.ledger.trusted import KeySource, TrustedKey, pinned_key
from tests.conftest import zip_bytes


def forge(bundle_files: dict[str, bytes], *, producer: str = "EVIL", user: str = "mallory") -> bytes:
    """The attack of finding 1: a fully self-consistent bundle under the forger's own key."""
    doc = json.loads(bundle_files["evidence.json"])
    trace = doc["trace"]
    entry = json.loads(trace["proof"]["entry"])
    entry["index"] = 0
    entry["body"]["producer"] = producer
    trace["record"]["producer"], trace["record"]["user"], trace["producer"] = producer, user, producer
    text = json.dumps(entry, sort_keys=True)
    leaf = merkle.leaf_hash(text.encode())
    trace["proof"] = {"entry": text, "leaf_hash": leaf.hex(), "audit_path": [], "root": leaf.hex(),
                      "leaf_index": 0, "tree_size": 1}
    key = Ed25519PrivateKey.generate()
    cp = sign_checkpoint(trace["checkpoint"]["origin"], 1, leaf, key)
    trace["checkpoint"] = {"origin": cp.origin, "tree_size": 1, "root": leaf.hex(), "log_id": cp.log_id,
                           "timestamp": cp.timestamp.isoformat(), "note": cp.to_text(), "signed_body": cp.body(),
                           "signature": base64.b64encode(cp.signature).decode(),
                           "public_key": public_key_pem(key).decode()}
    files = {"evidence.json": json.dumps(doc).encode(), "checkpoint.txt": cp.to_text().encode(),
             "ledger-public-key.pem": public_key_pem(key), "verify.py": bundle_files["verify.py"]}
    files["MANIFEST.sha256"] = manifest_text(files).encode()
    return zip_bytes(files)


def test_genuine_bundle_names_the_trusted_key(sg, labeled):
    result = verify_bundle(bundle_bytes(build_bundle(sg, labeled)), own_keys(sg), sg.user_ref)
    assert result["ok"], [c for c in result["checks"] if not c["ok"]]
    used = result["trusted_key"]
    assert used["source"] == "own-ledger" and used["origin"] == sg.ledger.origin
    assert {"checkpoint-origin", "checkpoint-signature", "entry-matches-user"} <= {c["check"] for c in result["checks"]}


def test_forged_bundle_with_a_swapped_key_does_not_verify(sg, labeled):
    forged = forge(build_bundle(sg, labeled).files)
    # without any trusted key nothing verifies, even though every hash inside is consistent
    bare = verify_bundle(forged)
    assert not bare["ok"] and bare["trusted_key"] is None
    failed = {c["check"]: c["detail"] for c in bare["checks"] if not c["ok"]}
    assert set(failed) == {"checkpoint-origin"} and "origin not verified" in failed["checkpoint-origin"]
    mine = verify_bundle(forged, own_keys(sg))
    assert not mine["ok"] and mine["trusted_key"] is None


def test_forged_key_pinned_by_origin_only_is_not_enough(sg, labeled, tmp_path):
    """A pinned key is matched by its log id: a note claiming the right origin under another key fails."""
    pem = tmp_path / "provider.pem"
    pem.write_bytes(public_key_pem(sg.keys.ledger_public))
    forged = forge(build_bundle(sg, labeled).files)
    result = verify_bundle(forged, [pinned_key(pem, origin=sg.ledger.origin)])
    assert not result["ok"] and result["trusted_key"] is None
    genuine = verify_bundle(bundle_bytes(build_bundle(sg, labeled)), [pinned_key(pem)])
    assert genuine["ok"] and genuine["trusted_key"]["source"] == "pinned"
    assert genuine["trusted_key"]["label"] == str(pem)


def test_trusted_key_bound_to_another_origin_is_refused(sg, labeled):
    other = TrustedKey(sg.keys.ledger_public, KeySource.TRUST_LIST, "list", origin="other.example/log")
    result = verify_bundle(bundle_bytes(build_bundle(sg, labeled)), [other])
    assert not result["ok"] and result["trusted_key"] is None


def test_rewritten_record_fields_fail_against_the_signed_entry(sg, labeled):
    bundle = build_bundle(sg, labeled)
    for field, value in (("producer", "EVIL"), ("user", "someone-else"), ("output_sha256", "0" * 64)):
        doc = json.loads(bundle.files["evidence.json"])
        doc["trace"]["record"][field] = value
        files = dict(bundle.files, **{"evidence.json": json.dumps(doc).encode()})
        files["MANIFEST.sha256"] = manifest_text({k: v for k, v in files.items()
                                                  if k != "MANIFEST.sha256"}).encode()
        result = verify_bundle(zip_bytes(files), own_keys(sg), sg.user_ref)
        failed = {c["check"] for c in result["checks"] if not c["ok"]}
        assert not result["ok"] and failed & {"entry-matches-record", "entry-matches-user"}, field


def test_cli_refuses_forged_and_unpinned_bundles(sg, labeled, tmp_path, capsys, monkeypatch):
    import synthguard.cli.evidence  # noqa: F401
    from synthguard.cli import main

    bundle = build_bundle(sg, labeled)
    forged = tmp_path / "forged.zip"
    forged.write_bytes(forge(bundle.files))
    genuine = tmp_path / "genuine.zip"
    genuine.write_bytes(bundle_bytes(bundle))
    assert main(["evidence-verify", str(forged), "--json"]) == 7
    out = json.loads(capsys.readouterr().out)
    assert out["trusted_key"] is None and not out["ok"]
    assert main(["evidence-verify", str(genuine), "--json"]) == 0  # this deployment's own key
    assert json.loads(capsys.readouterr().out)["trusted_key"]["source"] == "own-ledger"
    # a court without the deployment: only what it pinned counts
    pem = tmp_path / "provider.pem"
    pem.write_bytes(public_key_pem(sg.keys.ledger_public))
    monkeypatch.setenv("SYNTHGUARD_HOME", str(tmp_path / "court"))
    assert main(["evidence-verify", str(genuine), "--json"]) == 7
    assert "origin not verified" in capsys.readouterr().out
    assert main(["evidence-verify", str(genuine), "--trusted-key", str(pem)]) == 0
    assert "pinned" in capsys.readouterr().out
    assert main(["evidence-verify", str(forged), "--trusted-key", str(pem)]) == 7


def _verify_py(bundle_zip: Path, *args: str) -> subprocess.CompletedProcess:
    script = bundle_zip.parent / "verify.py"
    with zipfile.ZipFile(bundle_zip) as zf:
        script.write_bytes(zf.read("verify.py"))
    return subprocess.run([sys.executable, str(script), str(bundle_zip), *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_standalone_verify_py_takes_a_pinned_key(sg, labeled, tmp_path):
    bundle = build_bundle(sg, labeled)
    pem = tmp_path / "provider.pem"
    pem.write_bytes(public_key_pem(sg.keys.ledger_public))
    genuine = tmp_path / "g" / "genuine.zip"
    genuine.parent.mkdir()
    genuine.write_bytes(bundle_bytes(bundle))
    done = _verify_py(genuine, "--trusted-key", str(pem))
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stdout
    assert f"trusted key: log id {log_id(sg.keys.ledger_public)}" in done.stdout
    unpinned = _verify_py(genuine)
    assert unpinned.returncode == 1 and "origin not verified" in unpinned.stdout
    forged = tmp_path / "f" / "forged.zip"
    forged.parent.mkdir()
    forged.write_bytes(forge(bundle.files))
    attacked = _verify_py(forged, "--trusted-key", str(pem))
    assert attacked.returncode == 1 and "FAIL  origin not verified" in attacked.stdout, attacked.stdout


def _bomb(files: dict[str, bytes], size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        with zf.open("suspect/bomb.bin", "w", force_zip64=True) as fh:
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)
    return buf.getvalue()


def test_zip_bomb_costs_no_memory(sg, labeled, tmp_path):
    """Finding 14: a 256 MB member is hashed in chunks, not inflated into memory."""
    bundle = build_bundle(sg, labeled)
    bomb = _bomb(bundle.files, 256 << 20)
    assert len(bomb) < 1 << 20
    tracemalloc.start()
    result = verify_bundle(bomb, own_keys(sg))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 32 << 20, peak
    assert not result["ok"] and any("bomb.bin" in c["detail"] and not c["ok"] for c in result["checks"])
    path = tmp_path / "b" / "bomb.zip"
    path.parent.mkdir()
    path.write_bytes(bomb)
    done = _verify_py(path)
    assert done.returncode == 1 and "manifest: suspect/bomb.bin is in the bundle but not listed" in done.stdout


def test_oversized_evidence_json_is_refused():
    bomb = _bomb({"MANIFEST.sha256": b""}, 0)
    buf = io.BytesIO(bomb)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("evidence.json", "w", force_zip64=True) as fh:
        for _ in range(40):
            fh.write(b" " * (1 << 20))
    with pytest.raises(InputError, match="inflates"):
        verify_bundle(buf.getvalue())
