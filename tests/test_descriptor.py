"""Issue 19: the provider descriptor, signed with the ledger key, served at /.well-known/synthguard.json; a
verifier accepts it only with the key it pinned, and says which key that was."""

from __future__ import annotations

import copy
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from synthguard.cli import main
from synthguard.errors import LedgerIntegrityError, ValidationError
from synthguard.ledger.checkpoint import vkey
from synthguard.server import create_app
from synthguard.trust.descriptor import build, canonical, fingerprint, verify


def test_the_descriptor_verifies_with_the_pinned_log_key_only(sg):
    signed = build(sg, base_url="https://provider.example")
    doc = signed["descriptor"]
    pinned = vkey(doc["log"]["origin"], sg.keys.ledger_private)
    got = verify(signed, pinned)
    assert got["pinned"] and got["fingerprint"] == fingerprint(pinned) and got["fingerprint"].startswith("SHA256:")
    assert doc["lookup"] == "https://provider.example/v1/records/{content_id}"
    assert doc["c2pa_chain_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert doc["watermark"]["mode"] == "private" and len(doc["watermark"]["key_id"]) == 16
    assert "watermark.key" not in json.dumps(signed)  # the detection key itself is never published

    tampered = copy.deepcopy(signed)
    tampered["descriptor"]["producer"] = "SOMEONE-ELSE"
    with pytest.raises(LedgerIntegrityError):
        verify(tampered, pinned)

    # an attacker re-signs a rewritten descriptor with a fresh key and swaps that key in: it verifies by itself,
    # but never against the key the verifier pinned
    evil = Ed25519PrivateKey.generate()
    forged_doc = copy.deepcopy(doc) | {"producer": "SOMEONE-ELSE"}
    forged_doc["log"]["vkey"] = vkey(doc["log"]["origin"], evil)
    import base64

    forged = {"descriptor": forged_doc, "signature": base64.b64encode(evil.sign(canonical(forged_doc))).decode()}
    assert verify(forged)["pinned"] is False
    with pytest.raises(LedgerIntegrityError, match="not by the pinned key"):
        verify(forged, pinned)
    with pytest.raises(ValidationError):
        verify({"descriptor": "x"})


def test_served_at_well_known_and_printed_by_the_cli(settings, sg, capsys):
    with TestClient(create_app(settings, sg=sg)) as client:
        r = client.get("/.well-known/synthguard.json")  # public: no token
    assert r.status_code == 200
    served = r.json()
    assert verify(served)["vkey"] == served["descriptor"]["log"]["vkey"]
    assert main(["provider", "descriptor", "--base-url", "https://p.example"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["descriptor"]["log"] == served["descriptor"]["log"]
