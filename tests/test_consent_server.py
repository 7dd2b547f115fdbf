"""Consent over HTTP (DS-15, PI-03, PI-11, PI-13): roles, tenants, the gate on POST /v1/label, the web pages."""

from __future__ import annotations

import json

import pytest

from synthguard.auth import Role
from synthguard.consent.evidence import generate_key, sign_statement
from synthguard.consent.likeness import FACE_CARD, enrolment_embedding
from synthguard.consent.ownership import sign_request
from synthguard.media import Media
from tests.conftest import auth, data_file, image_bytes

FACE = (data_file("kodak", "kodim04.png")).read_bytes()


def face_file(name: str = "face.png") -> dict:
    return {"faces": (name, FACE, "image/png")}


def test_enrol_grant_revoke_export_erase_over_http(client, tokens, tmp_path):
    key = tmp_path / "k"
    pub = generate_key(key)
    prov = auth(tokens["provider"])
    r = client.post("/v1/consent/subjects", data={"subject": "alice", "signing_key": pub}, files=face_file(),
                    headers=prov)
    assert r.status_code == 201 and r.json()["templates"] == {"face": 1}, r.text
    doc = sign_statement(key, subject="alice", grantee="u-a", purpose="face_swap", modalities=["face"])
    r = client.post("/v1/consent/grants", data={"subject": "alice", "to": "u-a", "purpose": "face_swap"},
                    files={"evidence": ("s.json", json.dumps(doc).encode(), "application/json")}, headers=prov)
    assert r.status_code == 201, r.text
    gid = r.json()["grant_id"]
    r = client.post("/v1/consent/check", data={"purpose": "face_swap", "user": "u-a"},
                    files={"sources": ("src.png", FACE, "image/png")}, headers=prov)
    assert r.status_code == 200 and r.json()["decision"] == "allow"
    # another tenant sees nothing: 404 as for a missing object, and its gate does not know alice
    beta = auth(tokens["beta"])
    assert client.get(f"/v1/consent/grants/{gid}", headers=beta).status_code == 404
    assert client.get("/v1/consent/subjects/alice/export", headers=beta).status_code == 404
    assert client.post(f"/v1/consent/grants/{gid}/revoke", headers=beta).status_code == 404
    r = client.post("/v1/consent/check", data={"purpose": "face_swap", "user": "u-a"},
                    files={"sources": ("src.png", FACE, "image/png")}, headers=beta)
    assert r.status_code == 403 and r.json()["consent"]["persons"][0]["match"] == "unknown"
    r = client.post(f"/v1/consent/grants/{gid}/revoke", headers=prov)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = client.post("/v1/consent/check", data={"purpose": "face_swap", "user": "u-a"},
                    files={"sources": ("src.png", FACE, "image/png")}, headers=prov)
    assert r.status_code == 403 and r.json()["error"] == "ConsentDeniedError"
    assert r.json()["consent"]["persons"][0]["code"] == "revoked"
    export = client.get("/v1/consent/subjects/alice/export", headers=prov).json()
    assert len(export["templates"][0]["embedding"]) == 128
    assert client.delete("/v1/consent/subjects/alice", headers=prov).json()["erased"]
    assert client.get("/v1/consent/subjects/alice/export", headers=prov).status_code == 410


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_roles(client, tokens, role):
    r = client.get("/v1/consent/subjects", headers=auth(tokens[role]))
    assert r.status_code == (200 if role in ("provider", "admin") else 403)
    body = {"subject": f"p-{role}", "embeddings": [{"modality": "face", "model": FACE_CARD.name,
                                                    "embedding": [0.01] * 128}]}
    r = client.post("/v1/consent/protected", json=body, headers=auth(tokens[role]))
    assert r.status_code == (201 if role in ("victim", "platform", "admin") else 403), r.text
    assert client.get("/v1/consent/subjects").status_code == 401


def test_victim_registers_from_a_local_embedding_without_sending_the_photo(client, tokens, tmp_path):
    emb, _ = enrolment_embedding(Media.from_bytes(FACE, "me.png"), "face")
    pem = generate_key(tmp_path / "me.key")
    body = {"subject": "victim-1", "signing_key": pem, "embeddings": [{"modality": "face", "model": FACE_CARD.name,
                                                                       "embedding": emb.tolist()}]}
    r = client.post("/v1/consent/protected", json=body, headers=auth(tokens["victim"]))
    assert r.status_code == 201 and r.json()["protected"]
    bad = {"subject": "victim-2", "embeddings": [{"modality": "face", "model": "other-model",
                                                  "embedding": emb.tolist()}]}
    r = client.post("/v1/consent/protected", json=bad, headers=auth(tokens["victim"]))
    assert r.status_code == 400 and "model" in r.json()["message"]
    # the victim exercises their rights on their protected registration, but cannot reach enrolled subjects
    r = client.post("/v1/consent/subjects", data={"subject": "enrolled"}, files={"faces": ("f.png", FACE, "image/png")},
                    headers=auth(tokens["provider"]))
    assert r.status_code == 201
    assert client.get("/v1/consent/subjects/enrolled/export", headers=auth(tokens["victim"])).status_code == 404
    assert client.get("/v1/consent/subjects/victim-1/export", headers=auth(tokens["beta"])).status_code == 404
    def signed(action: str) -> dict[str, str]:  # the person proves it is them (issue 18 finding 4)
        return auth(tokens["victim"]) | sign_request(tmp_path / "me.key", action=action, subject="victim-1",
                                                     tenant="acme")

    doc = client.get("/v1/consent/subjects/victim-1/export", headers=signed("export")).json()
    assert doc["subject"]["protected"] and len(doc["templates"][0]["embedding"]) == 128
    assert client.delete("/v1/consent/subjects/victim-1", headers=signed("erase")).json()["erased"]
    assert client.get("/v1/consent/subjects/victim-1/export", headers=auth(tokens["victim"])).status_code == 410
    assert client.delete("/v1/consent/subjects/enrolled", headers=auth(tokens["reviewer"])).status_code == 403


def test_provider_label_with_sources_is_gated(client, tokens):
    prov = auth(tokens["provider"])
    assert client.post("/v1/users", json={"id": "u-a"}, headers=prov).status_code == 201
    r = client.post("/v1/users/u-a/verify", json={"method": "mobile", "identifier": "+86 138 0013 8000"}, headers=prov)
    assert r.status_code == 200 and r.json()["verified"], r.text
    files = [("file", ("gen.png", image_bytes(), "image/png")), ("sources", ("src.png", FACE, "image/png"))]
    r = client.post("/v1/label", data={"user": "u-a", "producer": "ACME", "purpose": "face_swap"}, files=files,
                    headers=prov)
    assert r.status_code == 403 and r.json()["error"] == "ConsentDeniedError", r.text
    r = client.post("/v1/label", data={"user": "u-a", "producer": "ACME"},
                    files=[("file", ("gen.png", image_bytes(), "image/png"))], headers=prov)
    assert r.status_code == 200 and json.loads(r.headers["x-synthguard-result"])["consent"] == []


def test_pages_use_the_session_not_a_token_and_show_results(client, tokens):
    """Issue 22: /consent asks for no token; the signed-in session and its CSRF token authorise each form."""
    from tests.web_session import session_csrf, signin

    page = client.get("/consent")
    assert page.status_code == 200 and 'name="token"' not in page.text and 'href="/signin?next=/consent"' in page.text
    r = client.post("/consent/enroll", data={"subject": "zoe"}, files={"faces": ("f.png", FACE, "image/png")})
    assert r.status_code == 401 and "AuthError" in r.text and 'href="/signin?next=/consent"' in r.text
    assert signin(client, tokens["victim"], "/consent").headers["location"] == "/consent"
    page = client.get("/consent").text
    assert 'name="token"' not in page and 'action="/consent/enroll"' in page and 'action="/consent/grant"' not in page
    csrf = session_csrf(client)
    r = client.post("/consent/enroll", data={"subject": "zoe", "protected": "true", "csrf": "forged"},
                    files={"faces": ("f.png", FACE, "image/png")})
    assert r.status_code == 403 and "CsrfError" in r.text
    r = client.post("/consent/enroll", data={"subject": "zoe", "csrf": csrf},
                    files={"faces": ("f.png", FACE, "image/png")})
    assert r.status_code == 403  # victims may only register protected persons
    r = client.post("/consent/enroll", data={"subject": "zoe", "protected": "true", "csrf": csrf},
                    files={"faces": ("f.png", FACE, "image/png")})
    assert r.status_code == 200 and "Protected person registered" in r.text and "zoe" in r.text
    client.cookies.clear()
    signin(client, tokens["provider"])
    csrf = session_csrf(client)
    assert 'action="/consent/grant"' in client.get("/consent").text
    r = client.post("/consent/enroll", data={"subject": "amy", "csrf": csrf},
                    files={"faces": ("f.png", image_bytes(), "image/png")})
    assert r.status_code == 400 and "exactly one face" in r.text
    r = client.post("/consent/revoke", data={"csrf": csrf, "grant_id": "cg_missing"})
    assert r.status_code == 404
    r = client.post("/consent/export", data={"csrf": csrf, "subject": "nobody"})
    assert r.status_code == 404 and "no subject" in r.text


def test_grant_and_revoke_through_the_pages(client, tokens, tmp_path):
    key = tmp_path / "k"
    pub = generate_key(key)
    prov = auth(tokens["provider"])
    assert client.post("/v1/consent/subjects", data={"subject": "amy", "signing_key": pub}, files=face_file(),
                       headers=prov).status_code == 201
    doc = sign_statement(key, subject="amy", grantee="u-a", purpose="face_swap", modalities=["face"],
                         expires="2099-01-01")
    from tests.web_session import session_csrf, signin

    signin(client, tokens["provider"])
    csrf = session_csrf(client)
    r = client.post("/consent/grant", data={"csrf": csrf, "subject": "amy", "to": "u-a",
                                            "purpose": "face_swap", "expires": "2099-01-01"},
                    files={"evidence": ("s.json", json.dumps(doc).encode(), "application/json")})
    assert r.status_code == 200 and "Consent granted" in r.text and "active" in r.text, r.text
    gid = client.get("/v1/consent/grants", headers=prov).json()[0]["grant_id"]
    assert gid in r.text
    r = client.post("/consent/revoke", data={"csrf": csrf, "grant_id": gid})
    assert r.status_code == 200 and "revoked" in r.text
    r = client.post("/v1/consent/challenges", data={"subject": "amy", "to": "u-a", "purpose": "voice_clone"},
                    headers=prov)
    assert r.status_code == 201 and "My code is" in r.json()["phrase"]
    r = client.post("/v1/consent/challenges", data={"subject": "amy", "to": "u-a", "purpose": "voice_clone"},
                    headers=auth(tokens["beta"]))
    assert r.status_code == 404
