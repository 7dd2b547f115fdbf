"""Issue 19: trust lists -- pinned by hand with a fingerprint, or imported from a list a chosen publisher signed;
every entry says where its key came from; keys never change silently."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthguard.cli import main
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import ConflictError, LedgerIntegrityError, NotFoundError
from synthguard.keys import init_keys
from synthguard.ledger.checkpoint import vkey
from synthguard.trust import cosign
from synthguard.trust.descriptor import build
from synthguard.trust.trustlist import TrustList, import_list, publish

pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation


def provider(tmp_path, name: str, producer: str) -> SynthGuard:
    st = Settings.load(database_url=None, home=tmp_path / name, producer=producer, service_name=name)
    init_keys(st)
    return SynthGuard.open(st)


def test_pin_by_fingerprint_find_and_remove(tmp_path):
    a = provider(tmp_path, "acme", "P-ACME")
    signed = build(a, base_url="https://acme.example")
    tl = TrustList(tmp_path / "platform" / "trust-list.json")
    with pytest.raises(LedgerIntegrityError):
        tl.add(signed, expected_fingerprint="SHA256:not-the-key")
    assert tl.entries() == []
    from synthguard.trust.descriptor import verify

    fp = verify(signed)["fingerprint"]
    entry = tl.add(signed, expected_fingerprint=fp)
    assert entry.source == "pinned by the operator" and entry.producer == "P-ACME"
    assert tl.find("P-ACME") == tl.find(fp) == tl.find(entry.origin)
    assert oct(tl.path.stat().st_mode & 0o777) == "0o600"
    # the same origin with another key: refused until the old entry is removed
    evil = Ed25519PrivateKey.generate()
    import base64
    import copy

    from synthguard.trust.descriptor import canonical

    doc = copy.deepcopy(signed["descriptor"])
    doc["log"]["vkey"] = vkey(doc["log"]["origin"], evil)
    swapped = {"descriptor": doc, "signature": base64.b64encode(evil.sign(canonical(doc))).decode()}
    with pytest.raises(ConflictError):
        tl.add(swapped)
    tl.remove("P-ACME")
    with pytest.raises(NotFoundError):
        tl.find("P-ACME")
    a.close()


def test_import_a_list_signed_by_the_chosen_publisher(tmp_path):
    a, b = provider(tmp_path, "acme", "P-ACME"), provider(tmp_path, "beta", "P-BETA")
    regulator = provider(tmp_path, "regulator", "R")
    reg_list = TrustList(tmp_path / "regulator" / "trust-list.json")
    for p in (a, b):
        reg_list.add(build(p), expected_fingerprint=None)
    signed = publish(reg_list.entries(), name="cac.example/filed", key=regulator.keys.ledger_private)
    pub_vkey = signed["list"]["publisher_vkey"]
    platform = TrustList(tmp_path / "platform" / "trust-list.json")
    with pytest.raises(LedgerIntegrityError):  # pinned to another publisher
        import_list(platform, signed, vkey("cac.example/filed", Ed25519PrivateKey.generate()))
    tampered = json.loads(json.dumps(signed))
    tampered["list"]["providers"] = tampered["list"]["providers"][:1]
    with pytest.raises(LedgerIntegrityError):
        import_list(platform, tampered, pub_vkey)
    added = import_list(platform, signed, pub_vkey)
    assert {e.producer for e in added} == {"P-ACME", "P-BETA"}
    assert all(e.source.startswith("list cac.example/filed SHA256:") for e in added)
    w = Ed25519PrivateKey.generate()
    e = platform.set_witnesses("P-ACME", [cosign.vkey("w.example/1", w)], 1)
    assert e.quorum == 1 and platform.find("P-ACME").witnesses == e.witnesses
    for p in (a, b, regulator):
        p.close()


def test_trust_cli_add_list_remove(tmp_path, monkeypatch, capsys):
    a = provider(tmp_path, "acme", "P-ACME")
    f = tmp_path / "acme.json"
    f.write_text(json.dumps(build(a)))
    monkeypatch.setenv("SYNTHGUARD_HOME", str(tmp_path / "platform"))
    assert main(["trust", "add", str(f), "--fingerprint", "SHA256:wrong"]) != 0
    capsys.readouterr()
    assert main(["trust", "add", str(f), "--yes", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["source"] == "pinned by the operator" and "descriptor" not in added
    assert main(["trust", "list", "--json"]) == 0
    assert [e["producer"] for e in json.loads(capsys.readouterr().out)] == ["P-ACME"]
    assert main(["trust", "remove", "P-ACME"]) == 0
    a.close()
