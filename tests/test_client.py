"""ProviderClient: a platform verifies a remote provider's record locally and rejects tampered answers (LM-24)."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from synthguard.auth import create_token
from synthguard.client import ProviderClient
from synthguard.errors import AuthError, ForbiddenError, NotFoundError
from synthguard.ledger import public_key_pem
from synthguard.server import create_app
from tests.conftest import image_bytes


@pytest.fixture
def app_client(settings, sg):
    with TestClient(create_app(settings, sg=sg)) as c:
        yield c


def transport(app_client: TestClient, mutate=None) -> httpx.MockTransport:
    """Send each request through the ASGI app; ``mutate`` may rewrite the JSON answer (a lying server)."""

    def handle(request: httpx.Request) -> httpx.Response:
        r = app_client.request(request.method, request.url.path, headers=dict(request.headers),
                               content=request.read())
        if mutate is None or not r.headers.get("content-type", "").startswith("application/json"):
            return httpx.Response(r.status_code, headers=r.headers, content=r.content)
        body = r.json()
        mutate(body)
        return httpx.Response(r.status_code, json=body)

    return httpx.MockTransport(handle)


@pytest.fixture
def labeled(sg, verified_user) -> tuple[str, bytes]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "o.png"
        r = sg.label(image_bytes("PNG", size=(480, 320)), user=verified_user, producer="ACME", output=out,
                     visible=False)
        data = out.read_bytes()
    sg.label(image_bytes("PNG", size=(320, 320)), user=verified_user, producer="ACME", visible=False, c2pa=False)
    sg.checkpoint()
    return r.content_id, data


@pytest.fixture
def pinned(sg) -> bytes:
    return public_key_pem(sg.keys.ledger_public)


def client(app_client, sg, role="regulator", *, key=None, mutate=None) -> ProviderClient:
    token = create_token(sg.db, role, "cac")[0]
    return ProviderClient("http://provider.test", token, public_key_pem=key, transport=transport(app_client, mutate))


def test_good_record_verifies_with_pinned_key(app_client, sg, labeled, pinned):
    cid, _ = labeled
    with client(app_client, sg, key=pinned) as c:
        check = c.record(cid)
        assert check.verified and check.key_pinned and check.reasons == [], check.reasons
        assert check.record["content_id"] == cid and check.record["producer"] == "ACME"
        cp = c.latest_checkpoint()
        assert cp.verified and cp.key_pinned and cp.checkpoint["tree_size"] == check.proof["tree_size"]


def test_without_pinned_key_uses_servers_key_but_says_so(app_client, sg, labeled):
    check = client(app_client, sg).record(labeled[0])
    assert check.verified and check.key_pinned is False


def test_trace_against_remote_provider(app_client, sg, labeled, pinned):
    cid, data = labeled
    result, check = client(app_client, sg, "platform", key=pinned).trace(data, "seen.png")
    assert result["found"] and result["content_id"] == cid
    assert check is not None and check.verified, check.reasons


def _flip(hex_str: str) -> str:
    return ("0" if hex_str[0] != "0" else "1") + hex_str[1:]


@pytest.mark.parametrize("name,mutate,reason", [
    ("root", lambda b: b["proof"].__setitem__("root", _flip(b["proof"]["root"])), "inclusion proof"),
    ("audit path", lambda b: b["proof"]["audit_path"].__setitem__(0, _flip(b["proof"]["audit_path"][0])),
     "inclusion proof"),
    ("entry", lambda b: b["proof"].__setitem__("entry", b["proof"]["entry"].replace("ACME", "EVIL")),
     "differs from the signed ledger entry"),
    ("record", lambda b: b["record"].__setitem__("output_sha256", "0" * 64), "differs from the signed ledger entry"),
    ("checkpoint root", lambda b: b["checkpoint"].__setitem__("note", b["checkpoint"]["note"].replace(
        b["checkpoint"]["note"].split("\n")[2], "A" * 43 + "=")), "signature"),
    ("index", lambda b: b["proof"].__setitem__("leaf_index", b["proof"]["leaf_index"] + 1), "index"),
    ("no proof", lambda b: b.__setitem__("proof", None), "no inclusion proof"),
    ("no checkpoint", lambda b: b.__setitem__("checkpoint", None), "no signed checkpoint"),
    ("garbage", lambda b: b["proof"].__setitem__("audit_path", ["zz"]), "malformed"),
])
def test_tampered_answers_are_rejected(app_client, sg, labeled, pinned, name, mutate, reason):
    check = client(app_client, sg, key=pinned, mutate=mutate).record(labeled[0])
    assert check.verified is False and any(reason in r for r in check.reasons), (name, check.reasons)


def test_forged_checkpoint_signed_by_another_key(app_client, sg, labeled, pinned):
    """A server re-signing a forged tree with its own key passes only when the client trusts the server's key."""
    from synthguard.ledger import parse_checkpoint, sign_checkpoint

    evil = Ed25519PrivateKey.generate()

    def resign(body):
        cp = parse_checkpoint(body["checkpoint"]["note"])
        forged = sign_checkpoint(cp.origin, cp.tree_size, cp.root_hash, evil, timestamp=cp.timestamp)
        body["checkpoint"] |= {"note": forged.to_text(), "public_key": public_key_pem(evil).decode()}

    assert client(app_client, sg, mutate=resign).record(labeled[0]).verified  # unpinned: cannot tell
    check = client(app_client, sg, key=pinned, mutate=resign).record(labeled[0])
    assert not check.verified and any("not by the given key" in r for r in check.reasons)


def test_wrong_pinned_key(app_client, sg, labeled):
    other = public_key_pem(Ed25519PrivateKey.generate())
    with client(app_client, sg, key=other) as c:
        check = c.record(labeled[0])
        assert check.verified is False and check.key_pinned and any("checkpoint" in r for r in check.reasons)
        assert not c.latest_checkpoint().verified


def test_no_checkpoint_yet_is_not_verified(app_client, sg, verified_user, pinned):
    cid = sg.label(image_bytes("PNG", size=(320, 320)), user=verified_user, producer="ACME", c2pa=False).content_id
    check = client(app_client, sg, key=pinned).record(cid)
    assert not check.verified and "no signed checkpoint" in " ".join(check.reasons)
    with pytest.raises(NotFoundError):
        client(app_client, sg, key=pinned).latest_checkpoint()


def test_server_errors_become_synthguard_errors(app_client, sg, labeled):
    with pytest.raises(NotFoundError, match="no record"):
        client(app_client, sg).record("SGNOPE")
    with pytest.raises(ForbiddenError):
        client(app_client, sg, "victim").record(labeled[0])
    bad = ProviderClient("http://provider.test", "sg_wrong", transport=transport(app_client))
    with pytest.raises(AuthError):
        bad.record(labeled[0])


def test_control_re_encoded_answer_still_verifies(app_client, sg, labeled, pinned):
    """Control for the tamper tests: passing the answer through ``mutate`` unchanged keeps it valid."""
    seen = {}

    def keep(body):
        seen.update(copy.deepcopy(body))

    assert client(app_client, sg, key=pinned, mutate=keep).record(labeled[0]).verified
    assert json.loads(seen["proof"]["entry"])["body"]["content_id"] == labeled[0]
