"""Issue 19: a platform resolves a content id at the provider's lookup API with its own credential and verifies
the record, inclusion proof and checkpoint against the key in its trust list -- never the key the answer names."""

from __future__ import annotations

import copy
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import LedgerIntegrityError
from synthguard.keys import init_keys
from synthguard.ledger.checkpoint import sign_checkpoint
from synthguard.server import create_app
from synthguard.trust.descriptor import build
from synthguard.trust.resolve import NotTrustedError, resolve, verify_answer
from synthguard.trust.trustlist import TrustList
from tests.conftest import image_bytes

pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation

BASE = "https://acme.example"


@pytest.fixture
def world(tmp_path):
    st = Settings.load(database_url=None, home=tmp_path / "acme", producer="P-ACME", service_name="acme")
    init_keys(st)
    acme = SynthGuard.open(st)
    acme.add_user("u-1")
    acme.verify_user("u-1", "mobile", identifier="+86 138 0000 0000", reference="r")
    res = acme.label(image_bytes("PNG", size=(320, 240)), user="u-1")
    acme.checkpoint()
    token = create_token(acme.db, Role.PLATFORM, "default", "platform P")[0]  # the platform's own credential
    client = TestClient(create_app(st, sg=acme))

    def get(url, headers):
        r = client.get(url.removeprefix(BASE), headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    trust = TrustList(tmp_path / "platform" / "trust-list.json")
    trust.add(build(acme, base_url=BASE))
    yield {"acme": acme, "cid": res.content_id, "token": token, "get": get, "trust": trust}
    acme.close()


def test_the_record_verifies_against_the_pinned_key_and_says_which(world):
    got = resolve(world["trust"], "P-ACME", world["cid"], token=world["token"], get=world["get"])
    assert got["verified"] and got["content_id"] == world["cid"] and got["record"]["user"] == "u-1"
    assert got["key_source"] == "pinned by the operator" and got["key_fingerprint"].startswith("SHA256:")


def test_a_rewritten_record_or_a_resigned_checkpoint_does_not_verify(world):
    found = world["get"](f"/v1/records/{world['cid']}", {"authorization": f"Bearer {world['token']}"})
    provider = world["trust"].find("P-ACME")
    forged = copy.deepcopy(found)
    entry = json.loads(forged["proof"]["entry"])
    (entry.get("body") or entry)["user"] = "someone-else"
    forged["proof"]["entry"] = json.dumps(entry)
    with pytest.raises(LedgerIntegrityError):
        verify_answer(forged, provider, world["cid"])
    # the same answer re-signed with a fresh key (the bundle-swap attack): the pinned key does not sign it
    evil = Ed25519PrivateKey.generate()
    cp = world["acme"].latest_checkpoint()
    resigned = copy.deepcopy(found)
    resigned["checkpoint"]["note"] = sign_checkpoint(cp["origin"], cp["tree_size"], bytes.fromhex(cp["root"]),
                                                     evil).to_text()
    with pytest.raises(LedgerIntegrityError):
        verify_answer(resigned, provider, world["cid"])
    assert verify_answer(found, provider, world["cid"])["verified"]


def test_an_untrusted_provider_is_not_verifiable_here_not_invalid(world):
    with pytest.raises(NotTrustedError) as err:
        resolve(world["trust"], "P-UNKNOWN", world["cid"], token=world["token"], get=world["get"])
    assert "cannot be verified here" in err.value.message and err.value.http_status == 404
