"""Issue 18 finding 4: protected persons' biometric data belongs to the person (PI-06, PI-11, PI-13; DS-15).

The attack: a victim registers herself as a protected person; another victim token and a platform token of the
same tenant then export her decrypted face embedding and erase her record.  Now only the person (a request
signed with the key she registered) or an admin can, every export is on the ledger with who asked, and
re-enrolling her id to swap in another key is refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from synthguard.auth import Role, create_token
from synthguard.consent.evidence import generate_key
from synthguard.consent.likeness import FACE_CARD
from synthguard.consent.ownership import sign_request
from synthguard.store.ledger_tables import LedgerEntry
from tests.conftest import auth


@pytest.fixture
def tokens(sg) -> dict[str, str]:
    return {name: create_token(sg.db, role, "acme", name)[0] for name, role in
            (("jane", Role.VICTIM), ("mallory", Role.VICTIM), ("platform", Role.PLATFORM), ("admin", Role.ADMIN),
             ("provider", Role.PROVIDER))}


def body(subject: str, key: str | None = None) -> dict:
    return {"subject": subject, "signing_key": key,
            "embeddings": [{"modality": "face", "model": FACE_CARD.name, "embedding": [0.02] * 128}]}


@pytest.fixture
def jane(client, tokens, tmp_path):
    pem = generate_key(tmp_path / "jane.key")
    r = client.post("/v1/consent/protected", json=body("jane-d", pem), headers=auth(tokens["jane"]))
    assert r.status_code == 201
    return tmp_path / "jane.key"


def test_other_tokens_of_the_tenant_cannot_export_or_erase(client, tokens, jane):
    for who in ("jane", "mallory", "platform", "provider"):  # a bearer token is not the person
        r = client.get("/v1/consent/subjects/jane-d/export", headers=auth(tokens[who]))
        assert r.status_code == 403 and "embedding" not in r.text, (who, r.text)
        assert client.delete("/v1/consent/subjects/jane-d", headers=auth(tokens[who])).status_code == 403
    from tests.web_session import session_csrf, signin

    assert signin(client, tokens["provider"]).status_code == 303
    page = client.post("/consent/export", data={"csrf": session_csrf(client), "subject": "jane-d"})
    assert page.status_code == 403 and "embedding" not in page.text


def test_the_person_with_her_key_and_an_admin_can(client, tokens, jane, sg):
    signed = sign_request(jane, action="export", subject="jane-d", tenant="acme")
    r = client.get("/v1/consent/subjects/jane-d/export", headers=auth(tokens["mallory"]) | signed)
    assert r.status_code == 200 and len(r.json()["templates"][0]["embedding"]) == 128  # the signature proves it
    assert client.get("/v1/consent/subjects/jane-d/export", headers=auth(tokens["admin"])).status_code == 200
    with sg.db.session() as s:
        rows = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "export"))
        logged = [json.loads(e.data)["body"] for e in rows]
    assert [(b["actor"], b["embeddings_exported"]) for b in logged if b.get("event") == "consent_export"] == [
        ("victim", True), ("admin", True)]


@pytest.mark.parametrize("case", ["wrong-action", "other-subject", "other-tenant", "stale", "foreign-key"])
def test_forged_or_replayed_requests_are_refused(client, tokens, jane, tmp_path, case):
    generate_key(tmp_path / "mallory.key")
    kw = {"action": "export", "subject": "jane-d", "tenant": "acme"}
    key = jane
    if case == "wrong-action":
        kw["action"] = "erase"
    elif case == "other-subject":
        kw["subject"] = "someone"
    elif case == "other-tenant":
        kw["tenant"] = "beta"
    elif case == "stale":
        kw["at"] = datetime.now(UTC) - timedelta(minutes=6)
    else:
        key = tmp_path / "mallory.key"
    r = client.get("/v1/consent/subjects/jane-d/export", headers=auth(tokens["mallory"]) | sign_request(key, **kw))
    assert r.status_code == 403 and r.json()["error"] == "SubjectProofError", r.text


def test_re_enrolment_cannot_swap_the_key_or_add_faces(client, tokens, jane, tmp_path):
    other = generate_key(tmp_path / "mallory.key")
    r = client.post("/v1/consent/protected", json=body("jane-d", other), headers=auth(tokens["mallory"]))
    assert r.status_code == 403
    signed = sign_request(jane, action="enrol", subject="jane-d", tenant="acme")
    r = client.post("/v1/consent/protected", json=body("jane-d", other), headers=auth(tokens["jane"]) | signed)
    assert r.status_code == 409  # even the person cannot silently replace her key by enrolling
    r = client.post("/v1/consent/protected", json=body("jane-d"), headers=auth(tokens["jane"]) | signed)
    assert r.status_code == 201 and r.json()["templates"] == {"face": 2}


def test_a_person_without_a_key_is_an_admin_matter(client, tokens):
    assert client.post("/v1/consent/protected", json=body("no-key"), headers=auth(tokens["jane"])).status_code == 201
    r = client.get("/v1/consent/subjects/no-key/export", headers=auth(tokens["jane"]))
    assert r.status_code == 403 and "admin" in r.json()["message"]
    assert client.delete("/v1/consent/subjects/no-key", headers=auth(tokens["admin"])).json()["erased"]


def test_sign_request_cli_headers_verify(client, tokens, jane, capsys):
    from synthguard.cli import main

    assert main(["consent", "sign-request", "jane-d", "--key", str(jane), "--action", "export", "--tenant", "acme",
                 "--json"]) == 0
    headers = json.loads(capsys.readouterr().out)
    r = client.get("/v1/consent/subjects/jane-d/export", headers=auth(tokens["jane"]) | headers)
    assert r.status_code == 200
