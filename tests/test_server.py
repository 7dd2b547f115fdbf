"""The HTTP service: roles, tenants, label -> trace over HTTP, record lookup with proofs (LM-24, DS-07, DS-18)."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token, revoke_token
from synthguard.config import Settings
from synthguard.ledger import leaf_hash, verify_inclusion
from synthguard.server import create_app
from tests.conftest import auth, image_bytes

PNG = image_bytes("PNG", size=(480, 320))
ROUTES = [  # method, path, roles allowed
    ("POST", "/v1/label", {Role.PROVIDER}),
    ("POST", "/v1/users", {Role.PROVIDER}),
    ("GET", "/v1/users", {Role.PROVIDER}),
    ("POST", "/v1/users/u-a/verify", {Role.PROVIDER}),
    ("POST", "/v1/trace", {Role.PLATFORM, Role.REVIEWER, Role.VICTIM, Role.REGULATOR, Role.ADMIN}),
    ("GET", "/v1/records/SG0", {Role.PLATFORM, Role.REGULATOR, Role.ADMIN, Role.PROVIDER}),
]


@pytest.fixture
def users(client, tokens) -> dict[str, str]:
    """u-a in tenant acme, u-b in tenant beta, both verified through the API (DS-07)."""
    for tenant, user in (("provider", "u-a"), ("beta", "u-b")):
        r = client.post("/v1/users", json={"id": user}, headers=auth(tokens[tenant]))
        assert r.status_code == 201 and r.json()["tenant"] == ("acme" if tenant == "provider" else "beta")
        r = client.post(f"/v1/users/{user}/verify", json={"method": "mobile", "identifier": "+86 138 0013 8000"},
                        headers=auth(tokens[tenant]))
        assert r.status_code == 200 and r.json()["verified"], r.text
    return {"acme": "u-a", "beta": "u-b"}


def label(client, token: str, user: str, data: bytes = PNG, **form) -> dict:
    """POST /v1/label: the labeled file comes back as a download, the result in its headers (issue 22)."""
    r = client.post("/v1/label", files={"file": ("gen.png", data, "image/png")},
                    data={"user": user, "producer": "ACME", "model": "m-1"} | form, headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment;")
    return json.loads(r.headers["x-synthguard-result"]) | {"media_type": r.headers["content-type"], "file": r.content}


# --- public ---------------------------------------------------------------------------------
def test_public_routes(client, sg):
    assert client.get("/v1/health").json()["status"] == "ok"
    r = client.get("/v1/checkpoints/latest")
    assert r.status_code == 404 and r.json()["error"] == "NotFoundError" and r.json()["hint"]
    sg.checkpoint()
    cp = client.get("/v1/checkpoints/latest").json()
    assert cp["tree_size"] == 0 and "PUBLIC KEY" in cp["public_key"] and cp["note"].startswith(cp["origin"])
    page = client.get("/")
    assert page.status_code == 200 and 'href="/docs"' in page.text and "text/html" in page.headers["content-type"]
    assert client.get("/docs").status_code == 200
    form = client.get("/inspect")
    assert 'enctype="multipart/form-data"' in form.text and 'name="file"' in form.text
    r = client.get("/v1/nope")
    assert r.status_code == 404 and r.json()["error"] == "HTTPError"


# --- authentication and roles ---------------------------------------------------------------
@pytest.mark.parametrize("method,path,allowed", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_protected_route_needs_the_right_role(client, sg, tokens, method, path, allowed):
    r = client.request(method, path)
    assert r.status_code == 401 and r.json()["error"] == "AuthError" and r.headers["www-authenticate"] == "Bearer"
    assert client.request(method, path, headers=auth("sg_not-a-real-token")).status_code == 401
    assert client.request(method, path, headers={"Authorization": "Basic dXNlcjpwdw=="}).status_code == 401
    for role in Role:
        if role not in allowed:
            r = client.request(method, path, headers=auth(tokens[role.value]))
            assert r.status_code == 403 and r.json()["error"] == "ForbiddenError", (role, r.text)
        else:
            assert client.request(method, path, headers=auth(tokens[role.value])).status_code not in (401, 403)


def test_revoked_token_and_query_string_tokens_are_refused(client, sg, caplog):
    secret, info = create_token(sg.db, "admin", "ops")
    caplog.set_level(logging.DEBUG)
    assert client.get("/v1/whoami", headers=auth(secret)).json() == {
        "token_id": info["id"], "role": "admin", "tenant": "ops", "name": ""}
    revoke_token(sg.db, info["id"])
    r = client.get("/v1/whoami", headers=auth(secret))
    assert r.status_code == 401 and "revoked" in r.json()["message"] and secret not in r.text
    assert secret not in caplog.text  # header tokens never reach a log line
    secret = create_token(sg.db, "admin", "ops")[0]
    assert client.get("/v1/whoami", params={"access_token": secret}).status_code == 401  # header only


# --- the journeys over HTTP -----------------------------------------------------------------
def test_label_then_trace_round_trip(client, sg, tokens, users):
    """DS-16..19 + LM-24: a provider labels over HTTP; a platform and a victim trace the bytes back."""
    res = label(client, tokens["provider"], "u-a")
    assert res["marks"] == ["image.visible", "image.watermark", "image.metadata", "image.c2pa"]
    assert res["output"] is None and res["media_type"] == "image/png"
    labeled = res["file"]
    assert labeled[:8] == PNG[:8] and labeled != PNG
    sg.checkpoint()
    for role in ("platform", "victim"):
        r = client.post("/v1/trace", files={"file": ("x.png", labeled)}, headers=auth(tokens[role]))
        t = r.json()
        assert r.status_code == 200 and t["found"] and t["content_id"] == res["content_id"], r.text
        assert t["proof"]["verified"] and t["checkpoint"]["root"] == t["proof"]["root"]
    seen = client.post("/v1/inspect", files={"file": ("x.png", labeled)}).json()  # public
    assert seen["aigc"]["ProduceID"] == res["content_id"] and seen["file"] == "x.png"


def test_label_download_returns_bytes_and_header(client, tokens, users):
    r = client.post("/v1/label", params={"download": 1}, files={"file": ("g.png", PNG)},
                    data={"user": "u-a", "producer": "ACME", "visible": "false"}, headers=auth(tokens["provider"]))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:8] == PNG[:8]
    meta = json.loads(r.headers["x-synthguard-result"])
    assert "image.visible" not in meta["marks"] and meta["content_id"] in r.headers["content-disposition"]


def test_tenant_isolation(client, sg, tokens, users):
    """A provider never sees or uses another tenant's users or records: 404, exactly as if absent."""
    beta = auth(tokens["beta"])
    r = client.post("/v1/label", files={"file": ("g.png", PNG)}, data={"user": "u-a", "producer": "ACME"},
                    headers=beta)
    absent = client.post("/v1/label", files={"file": ("g.png", PNG)}, data={"user": "u-zz", "producer": "ACME"},
                         headers=beta)
    assert r.status_code == absent.status_code == 404
    assert r.json()["message"].replace("u-a", "X") == absent.json()["message"].replace("u-zz", "X")
    assert client.post("/v1/users/u-a/verify", json={"method": "mobile"}, headers=beta).status_code == 404
    assert [u["id"] for u in client.get("/v1/users", headers=beta).json()] == ["u-b"]
    assert [u["id"] for u in client.get("/v1/users", headers=auth(tokens["provider"])).json()] == ["u-a"]
    cid = label(client, tokens["provider"], "u-a", visible="false")["content_id"]
    sg.checkpoint()
    r = client.get(f"/v1/records/{cid}", headers=beta)
    assert r.status_code == 404 and r.json() == client.get("/v1/records/SGNOPE", headers=beta).json() | {
        "message": f"no record {cid!r}"}
    assert client.get(f"/v1/records/{cid}", headers=auth(tokens["provider"])).status_code == 200


def test_record_lookup_returns_a_proof_that_verifies(client, sg, tokens, users):
    """LM-24: authorities look a content id up and get a proof against the signed checkpoint."""
    cid = label(client, tokens["provider"], "u-a", visible="false")["content_id"]
    label(client, tokens["beta"], "u-b", visible="false")
    sg.checkpoint()
    for role in ("regulator", "platform", "admin"):
        body = client.get(f"/v1/records/{cid}", headers=auth(tokens[role])).json()
        proof, cp = body["proof"], body["checkpoint"]
        assert body["record"]["content_id"] == cid and body["problems"] == []
        assert proof["leaf_hash"] == leaf_hash(proof["entry"].encode()).hex()
        assert verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["leaf_index"], proof["tree_size"],
                                [bytes.fromhex(h) for h in proof["audit_path"]], bytes.fromhex(cp["root"]))
    assert client.get("/v1/records/SGNOPE", headers=auth(tokens["regulator"])).status_code == 404


def test_unverified_user_is_refused(client, tokens):
    """DS-07: a user without a verified identity cannot have content labeled on its account."""
    assert client.post("/v1/users", json={"id": "u-new"}, headers=auth(tokens["provider"])).status_code == 201
    r = client.post("/v1/label", files={"file": ("g.png", PNG)}, data={"user": "u-new", "producer": "ACME"},
                    headers=auth(tokens["provider"]))
    assert r.status_code == 403 and r.json()["error"] == "IdentityNotVerifiedError"
    assert client.post("/v1/users", json={"id": "u-new"}, headers=auth(tokens["provider"])).status_code == 409


# --- the inspection page --------------------------------------------------------------------
def test_inspect_page_shows_aigc_fields(client, tokens, users):
    res = label(client, tokens["provider"], "u-a")
    page = client.post("/inspect", files={"file": ("mine.png", res["file"])})
    assert page.status_code == 200 and 'id="verdict-headline">AI-generated<' in page.text
    assert "AIGC ProduceID" in page.text and res["content_id"] in page.text and "AIGC ContentProducer" in page.text
    plain = client.post("/inspect", files={"file": ("plain.png", PNG)})
    assert plain.status_code == 200 and "No AI-generation label found" in plain.text
    bad = client.post("/inspect", files={"file": ("x.bin", b"\x00\x01<script>alert(1)</script>")})
    assert bad.status_code == 415 and "UnsupportedMediaError" in bad.text and "<script>" not in bad.text
    text = client.post("/inspect", files={"file": ("x.txt", b"<script>alert(1)</script>")})  # text is inspected
    assert text.status_code in (200, 415) and "<script>alert" not in text.text  # ...and never echoed raw


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("data,status,error", [
    (bytes(range(256)) * 4, 415, "UnsupportedMediaError"),  # text is a modality now; this is nothing
    (b"", 422, "CorruptMediaError"),
    (PNG[:200], 422, "CorruptMediaError"),
])
def test_bad_uploads(client, tokens, users, data, status, error):
    for path, headers in (("/v1/inspect", {}), ("/v1/trace", auth(tokens["platform"])),
                          ("/v1/label", auth(tokens["provider"]))):
        r = client.post(path, files={"file": ("f.png", data)}, data={"user": "u-a", "producer": "ACME"},
                        headers=headers)
        assert r.status_code == status and r.json()["error"] == error and r.json()["hint"], (path, r.text)


def test_missing_and_invalid_fields_are_422(client, tokens, users):
    p = auth(tokens["provider"])
    for r in (client.post("/v1/label", data={"user": "u-a"}, files={"x": ("f", b"1")}, headers=p),
              client.post("/v1/label", files={"file": ("g.png", PNG)}, headers=p),
              client.post("/v1/inspect"),
              client.post("/v1/users", json={}, headers=p),
              client.post("/v1/users", content=b"{not json", headers=p | {"content-type": "application/json"}),
              client.post("/v1/users/u-a/verify", json={"method": "telepathy"}, headers=p)):
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["error"] == "RequestValidationError" and body["message"] and body["details"]
    assert "input" not in json.dumps(client.post("/v1/users", json={"id": ""}, headers=p).json()["details"])


def test_uploads_over_max_bytes_are_413(tmp_path, settings, tokens):
    small = Settings.load(home=settings.home, max_bytes=20_000)
    with TestClient(create_app(small)) as c:
        r = c.post("/v1/inspect", files={"file": ("big.png", PNG)})  # over max_bytes, under the form overhead
        assert r.status_code == 413 and r.json()["error"] == "MediaTooLargeError"
        huge = image_bytes("PNG", size=(1024, 1024))
        r = c.post("/v1/trace", files={"file": ("huge.png", huge)}, headers=auth(tokens["platform"]))
        assert len(huge) > 20_000 + 64 * 1024 and r.status_code == 413 and r.json()["error"] == "MediaTooLargeError"

        def chunks():  # no Content-Length: the streamed body is counted as it arrives
            for _ in range(20):
                yield b"x" * 10_000

        r = c.post("/v1/inspect", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413 and r.json()["error"] == "MediaTooLargeError"


def test_scan_route_roles_and_verdict(tmp_path):
    """POST /v1/scan: platform role only; a labeled upload is 'ai_generated' with label value 1."""
    from fastapi.testclient import TestClient

    from synthguard.auth import create_token
    from synthguard.config import Settings
    from synthguard.core import SynthGuard
    from synthguard.keys import init_keys
    from synthguard.server import create_app
    from tests.conftest import kodak

    settings = Settings.load(home=tmp_path)
    init_keys(settings)
    sg = SynthGuard.open(settings)
    sg.add_user("u")
    sg.verify_user("u", "netid")
    sg.label(kodak(), user="u", producer="ACME", output=tmp_path / "o.png")
    client = TestClient(create_app(settings, sg=sg))
    platform, _ = create_token(sg.db, role="platform", tenant="t")
    victim, _ = create_token(sg.db, role="victim", tenant="t")
    files = {"file": ("o.png", (tmp_path / "o.png").read_bytes(), "image/png")}
    assert client.post("/v1/scan", files=files).status_code == 401
    assert client.post("/v1/scan", files=files, headers={"Authorization": f"Bearer {victim}"}).status_code == 403
    r = client.post("/v1/scan", files=files, headers={"Authorization": f"Bearer {platform}"})
    assert r.status_code == 200 and r.json()["verdict"] == "ai_generated" and r.json()["label_value"] == "1"
