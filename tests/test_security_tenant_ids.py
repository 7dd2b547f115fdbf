"""Issue 18 finding 13: ids of other tenants could be probed (409 "already exists") and squatted.

The attack, over HTTP with two tenants' tokens: tenant beta's provider creates user ``alice`` and learns from the 409
that tenant acme has an ``alice``; it creates ``bob`` first so that acme cannot; the same for protected persons
(``POST /v1/consent/protected``), where a victim of beta registering ``jane-d`` was told the id "is taken".  Now ids
are per tenant: both tenants have their own ``alice`` and ``jane-d``, a create in beta answers exactly as for an id
nobody uses, and every lookup, verification, label, export and erasure by id sees only the caller's tenant.  Traces,
records and evidence name the right account and tenant, and the ledger pseudonyms differ.  Runs on SQLite and, with
SYNTHGUARD_TEST_POSTGRES_URL, on Postgres (``backend_settings``); the upgrade of a database made before ids were per
tenant is tested on both too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from synthguard.auth import Role, create_token
from synthguard.consent.evidence import generate_key
from synthguard.consent.likeness import FACE_CARD
from synthguard.consent.ownership import sign_request
from synthguard.core import SynthGuard
from synthguard.errors import NotFoundError, ValidationError
from synthguard.evidence import build_bundle, bundle_bytes, verify_bundle
from synthguard.evidence.bundle import own_keys
from synthguard.evidence.verify import manifest_text
from synthguard.server import create_app
from synthguard.store.ledger_tables import LedgerEntry
from synthguard.store.schema import User
from tests.conftest import image_bytes, zip_bytes

ROLES = {"provider": Role.PROVIDER, "platform": Role.PLATFORM, "victim": Role.VICTIM, "admin": Role.ADMIN}
VERIFY = {"method": "mobile", "identifier": "+86 138 0013 8000", "reference": "tx-1"}


@pytest.fixture
def world(backend_settings):
    with SynthGuard.open(backend_settings) as sg, TestClient(create_app(backend_settings, sg=sg)) as client:
        tokens = {(tenant, name): create_token(sg.db, role, tenant, f"{tenant}-{name}")[0]
                  for tenant in ("acme", "beta") for name, role in ROLES.items()}
        yield client, sg, tokens


def h(tokens: dict, tenant: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[(tenant, role)]}"}


def _shape(r) -> tuple[int, list[str]]:
    body = r.json()
    return r.status_code, sorted(body) if isinstance(body, dict) else body


def test_user_ids_cannot_be_probed_or_squatted(world):
    client, sg, tokens = world
    acme, beta = (lambda role: h(tokens, "acme", role)), (lambda role: h(tokens, "beta", role))
    assert client.post("/v1/users", json={"id": "alice"}, headers=acme("provider")).status_code == 201
    # probe: an id acme uses answers in beta exactly as an id nobody uses (no 409, nothing of acme's)
    taken = client.post("/v1/users", json={"id": "alice"}, headers=beta("provider"))
    fresh = client.post("/v1/users", json={"id": "nobody-has-this"}, headers=beta("provider"))
    assert taken.status_code == fresh.status_code == 201, taken.text
    assert _shape(taken) == _shape(fresh)
    assert taken.json()["tenant"] == "beta" and taken.json()["id"] == "alice" and not taken.json()["verified"]
    # squat: beta takes "bob" first; acme can still have its own "bob"
    assert client.post("/v1/users", json={"id": "bob"}, headers=beta("provider")).status_code == 201
    assert client.post("/v1/users", json={"id": "bob"}, headers=acme("provider")).status_code == 201
    # the 409 is only for the caller's own tenant
    again = client.post("/v1/users", json={"id": "alice"}, headers=beta("provider"))
    assert again.status_code == 409 and "acme" not in again.text

    # lookups by the same id see only the caller's tenant: acme verifies its alice, beta's stays unverified
    assert client.post("/v1/users/alice/verify", json=VERIFY, headers=acme("provider")).json()["verified"]
    listed = {t: {u["id"]: u for u in client.get("/v1/users", headers=h(tokens, t, "provider")).json()}
              for t in ("acme", "beta")}
    assert set(listed["acme"]) == {"alice", "bob"} and set(listed["beta"]) == {"alice", "bob", "nobody-has-this"}
    assert listed["acme"]["alice"]["verified"] and not listed["beta"]["alice"]["verified"]
    assert {u["tenant"] for u in listed["beta"].values()} == {"beta"}
    # beta cannot label as acme's verified alice: its own alice is not verified (DS-07)
    png = image_bytes(size=(320, 240))
    r = client.post("/v1/label?download=false", headers=beta("provider"), data={"user": "alice", "producer": "ACME"},
                    files={"file": ("g.png", png, "image/png")})
    assert r.status_code == 403 and r.json()["error"] == "IdentityNotVerifiedError", r.text

    # each tenant's alice labels as itself: records, traces and the ledger name the right account and tenant
    assert client.post("/v1/users/alice/verify", json=VERIFY, headers=beta("provider")).status_code == 200
    made = {}
    for tenant in ("acme", "beta"):
        r = client.post("/v1/label?download=false", headers=h(tokens, tenant, "provider"),
                        data={"user": "alice", "producer": "ACME"},
                        files={"file": ("g.png", png if tenant == "acme" else image_bytes(size=(300, 220)),
                                        "image/png")})
        assert r.status_code == 200, r.text
        made[tenant] = r.json()
        assert made[tenant]["user"] == "alice"
    sg.checkpoint()
    for tenant, result in made.items():
        rec = client.get(f"/v1/records/{result['content_id']}", headers=h(tokens, tenant, "provider"))
        assert rec.status_code == 200 and (rec.json()["record"]["user"], rec.json()["record"]["tenant"]) == \
            ("alice", tenant)
        other = "beta" if tenant == "acme" else "acme"
        assert client.get(f"/v1/records/{result['content_id']}",
                          headers=h(tokens, other, "provider")).status_code == 404
    traced = client.post("/v1/trace", headers=beta("platform"),
                         files={"file": ("c.png", base64.b64decode(made["acme"]["file_base64"]), "image/png")}).json()
    assert traced["found"] and traced["content_id"] == made["acme"]["content_id"]
    assert (traced["record"]["user"], traced["record"]["tenant"]) == ("alice", "acme")
    with sg.db.session() as s:
        keys = {u.tenant: u.id for u in s.scalars(select(User).where(User.name == "alice"))}
        bodies = {t: sg.ledger.entry(s, made[t]["ledger_index"]).body["user"] for t in made}
    assert keys == {"acme": "acme/alice", "beta": "beta/alice"}
    assert bodies == {"acme": sg.user_ref("alice", "acme"), "beta": sg.user_ref("alice", "beta")}
    assert bodies["acme"] != bodies["beta"]  # two people, two pseudonyms
    assert sg.verify_ledger()["ok"]


def test_evidence_and_erasure_follow_the_account_of_the_tenant(world, tmp_path: Path):
    client, sg, tokens = world
    for tenant in ("acme", "beta"):
        sg.add_user("alice", tenant=tenant)
        sg.verify_user("alice", "mobile", identifier="+86 138 0013 8000", tenant=tenant)
    out = tmp_path / "acme.png"
    made = sg.label(image_bytes(size=(320, 240)), user="alice", tenant="acme", producer="ACME", output=out,
                    client_ip="192.0.2.7")
    sg.checkpoint()
    bundle = build_bundle(sg, out)
    result = verify_bundle(bundle_bytes(bundle), own_keys(sg), sg.user_ref)
    assert result["ok"], [c for c in result["checks"] if not c["ok"]]
    assert bundle.evidence["trace"]["record"]["tenant"] == "acme"
    # the same bundle with the record moved to beta's alice no longer matches the signed entry's account
    files = dict(bundle.files)
    doc = json.loads(files["evidence.json"])
    doc["trace"]["record"]["tenant"] = "beta"
    files["evidence.json"] = json.dumps(doc).encode()
    files["MANIFEST.sha256"] = manifest_text({k: v for k, v in files.items() if k != "MANIFEST.sha256"}).encode()
    moved = verify_bundle(zip_bytes(files), own_keys(sg), sg.user_ref)
    assert not moved["ok"] and [c["check"] for c in moved["checks"] if not c["ok"]] == ["entry-matches-user"]
    # erasing beta's alice shreds beta's key only: acme's alice's personal data still decrypts
    assert sg.erase_user("alice", tenant="beta")["tenant"] == "beta"
    assert sg.personal_data(made.content_id) == ["ip=192.0.2.7"]
    with pytest.raises(ValidationError, match="several tenants"):  # the operator must say which alice
        sg.erase_user("alice")
    with pytest.raises(NotFoundError):
        sg.user("alice", tenant="gamma")


def _protected(subject: str, pem: str | None, value: float) -> dict:
    return {"subject": subject, "signing_key": pem,
            "embeddings": [{"modality": "face", "model": FACE_CARD.name, "embedding": [value] * 128}]}


def test_protected_person_ids_cannot_be_probed_or_squatted(world, tmp_path: Path):
    client, sg, tokens = world
    acme, beta = (lambda role: h(tokens, "acme", role)), (lambda role: h(tokens, "beta", role))
    jane = generate_key(tmp_path / "jane.key")
    r = client.post("/v1/consent/protected", json=_protected("jane-d", jane, 0.02), headers=acme("victim"))
    assert r.status_code == 201, r.text
    # probe: beta registering the same id is answered as for a fresh id (it used to be a 409 "is taken")
    taken = client.post("/v1/consent/protected", json=_protected("jane-d", None, -0.03), headers=beta("victim"))
    fresh = client.post("/v1/consent/protected", json=_protected("zed-q", None, 0.05), headers=beta("victim"))
    assert taken.status_code == fresh.status_code == 201, taken.text
    assert _shape(taken) == _shape(fresh) and taken.json()["tenant"] == "beta"
    # squat: beta takes "kim" first, acme still registers its own "kim"
    assert client.post("/v1/consent/protected", json=_protected("kim", None, 0.04),
                       headers=beta("victim")).status_code == 201
    assert client.post("/v1/consent/protected", json=_protected("kim", None, -0.04),
                       headers=acme("platform")).status_code == 201
    # the same id in two tenants, two people: each admin exports its own tenant's record only
    a = client.get("/v1/consent/subjects/jane-d/export", headers=acme("admin")).json()
    b = client.get("/v1/consent/subjects/jane-d/export", headers=beta("admin")).json()
    assert (a["subject"]["tenant"], b["subject"]["tenant"]) == ("acme", "beta")
    assert a["templates"][0]["embedding"][0] > 0 > b["templates"][0]["embedding"][0]
    assert a["ledger_subject_ref"] != b["ledger_subject_ref"]
    # acme's jane-d proves herself with her key in acme only; the key means nothing for beta's jane-d
    signed = sign_request(tmp_path / "jane.key", action="export", subject="jane-d", tenant="acme")
    assert client.get("/v1/consent/subjects/jane-d/export", headers=acme("victim") | signed).status_code == 200
    signed_b = sign_request(tmp_path / "jane.key", action="export", subject="jane-d", tenant="beta")
    assert client.get("/v1/consent/subjects/jane-d/export", headers=beta("victim") | signed_b).status_code == 403
    # beta's admin erases beta's jane-d; acme's is untouched
    assert client.delete("/v1/consent/subjects/jane-d", headers=beta("admin")).status_code == 200
    assert client.get("/v1/consent/subjects/jane-d/export", headers=acme("admin")).status_code == 200
    assert client.get("/v1/consent/subjects/jane-d/export", headers=beta("admin")).status_code == 410
    # providers list their own tenant's subjects only
    names = {t: sorted(x["subject"] for x in
                       client.get("/v1/consent/subjects", headers=h(tokens, t, "provider")).json())
             for t in ("acme", "beta")}
    assert names == {"acme": ["jane-d", "kim"], "beta": ["jane-d", "kim", "zed-q"]}
    with sg.db.session() as s:
        exports = [e for e in s.scalars(select(LedgerEntry)) if b'"consent_export"' in e.data]
    assert len(exports) == 4  # every export of biometric data is on the ledger (finding 4)


def test_a_database_from_before_per_tenant_ids_upgrades_without_loss(backend_settings, tmp_path: Path):
    """Rows made when ids were one namespace keep their id as their key: records, the vault, the ledger pseudonym
    and consent grants stay valid; afterwards the same id can be created in other tenants, the default one too."""
    from alembic import command

    from synthguard.store.db import _alembic_config, make_engine

    with SynthGuard.open(backend_settings) as sg:  # data as the old code made it: the key is the bare id
        sg.add_user("alice")
        sg.verify_user("alice", "mobile", identifier="+86 138 0013 8000")
        out = tmp_path / "old.png"
        made = sg.label(image_bytes(size=(320, 240)), user="alice", producer="ACME", output=out, client_ip="192.0.2.9")
        sg.consent.enroll("jane-d", embeddings=[_protected("jane-d", None, 0.02)["embeddings"][0]], protected=True)
        sg.checkpoint()
        url = sg.settings.db_url
    engine = make_engine(url)
    try:
        with engine.begin() as c:  # an acme tenant's rows, from before ids were per tenant
            c.execute(text("UPDATE users SET tenant = 'acme'"))
            c.execute(text("UPDATE records SET tenant = 'acme'"))
            c.execute(text("UPDATE consent_subjects SET tenant = 'acme'"))
        command.downgrade(_alembic_config(engine), "0030@-1")
        with engine.connect() as c:
            assert "name" not in {col["name"] for col in inspect(c).get_columns("users")}
    finally:
        engine.dispose()
    with SynthGuard.open(backend_settings) as sg:  # opening migrates (0030)
        assert sg.user("alice", tenant="acme")["verified"]
        rec = sg.record(made.content_id)["record"]
        assert (rec["user"], rec["tenant"]) == ("alice", "acme")
        assert sg.personal_data(made.content_id) == ["ip=192.0.2.9"]
        result = verify_bundle(bundle_bytes(build_bundle(sg, out)), own_keys(sg), sg.user_ref)
        assert result["ok"], [c for c in result["checks"] if not c["ok"]]
        assert sg.consent.subject("jane-d", tenant="acme")["templates"] == {"face": 1}
        # the bare id is held by acme's old row: the default tenant and beta still get their own "alice"
        for tenant in ("default", "beta"):
            assert sg.add_user("alice", tenant=tenant)["tenant"] == tenant
            sg.consent.enroll("jane-d", embeddings=[_protected("jane-d", None, 0.03)["embeddings"][0]],
                              protected=True, tenant=tenant)
        with sg.db.session() as s:
            keys = {u.tenant: u.id for u in s.scalars(select(User).where(User.name == "alice"))}
        assert keys == {"acme": "alice", "default": "default/alice", "beta": "beta/alice"}
        sg.erase_user("alice", tenant="default")
        assert sg.personal_data(made.content_id) == ["ip=192.0.2.9"]  # acme's alice keeps her key
        assert sg.verify_ledger()["ok"]


def test_the_operator_cli_names_the_tenant_when_an_id_is_used_twice(capsys, settings, tmp_path: Path):
    """Single-tenant commands behave as before; with the same id in two tenants the CLI asks for --tenant (exit 2)
    instead of picking one, and --tenant reaches the right account."""
    from synthguard.cli import main

    def run(*args: str) -> tuple[int, object]:
        code = main([*args, "--json"])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    assert run("users", "add", "alice")[0] == 0
    assert run("users", "verify", "alice", "--method", "mobile", "--identifier", "+86 138 0013 8000")[1]["verified"]
    assert run("users", "add", "alice", "--tenant", "beta")[1]["tenant"] == "beta"
    assert run("users", "add", "alice", "--tenant", "beta")[0] == 6  # the same tenant: a conflict
    assert run("users", "verify", "alice", "--method", "mobile")[0] == 2  # which alice? say --tenant
    code, user = run("users", "verify", "alice", "--method", "mobile", "--tenant", "beta")
    assert code == 0 and user["tenant"] == "beta" and user["verified"]
    assert [u["tenant"] for u in run("users", "list", "--tenant", "beta")[1]] == ["beta"]
    src = tmp_path / "in.png"
    src.write_bytes(image_bytes(size=(320, 240)))
    assert run("label", str(src), "-o", str(tmp_path / "o.png"), "--producer", "ACME", "--user", "alice")[0] == 2
    code, made = run("label", str(src), "-o", str(tmp_path / "o.png"), "--producer", "ACME", "--user", "alice",
                     "--tenant", "beta")
    assert code == 0
    code, rec = run("record", made["content_id"])
    assert code == 0 and (rec["record"]["user"], rec["record"]["tenant"]) == ("alice", "beta")
    emb = tmp_path / "e.json"
    emb.write_text(json.dumps(_protected("jane-d", None, 0.02)["embeddings"][0]))
    for tenant in ("default", "beta"):
        code, subj = run("consent", "protect", "jane-d", "--embedding", str(emb), "--tenant", tenant)
        assert code == 0 and subj["tenant"] == tenant
    assert run("consent", "erase", "jane-d")[0] == 2
    assert run("consent", "erase", "jane-d", "--tenant", "beta")[1]["tenant"] == "beta"
    assert [s["erased_at"] is None for s in run("consent", "subjects")[1]] == [True, False]


def test_gateway_keys_label_for_the_account_of_their_tenant(sg, tmp_path: Path):
    """A gateway key names its user's tenant, so another tenant's account of the same id never gets its outputs;
    key files from before (no tenant) still load."""
    from synthguard.integrations.keys import GatewayKeys

    for tenant in ("acme", "beta"):
        sg.add_user("alice", tenant=tenant)
        sg.verify_user("alice", "mobile", identifier="+86 138 0013 8000", tenant=tenant)
    keys = GatewayKeys(tmp_path / "keys.json")
    secret, record = keys.add("alice", "app", tenant="beta")
    user = keys.user_for(secret)
    assert (user, user.tenant) == ("alice", "beta")
    made = sg.label(image_bytes(size=(320, 240)), user=user, tenant=user.tenant, producer="ACME")
    assert sg.record(made.content_id)["record"]["tenant"] == "beta"
    old = tmp_path / "old.json"  # a key file written before keys carried the tenant
    doc = json.loads((tmp_path / "keys.json").read_text())
    old.write_text(json.dumps({"keys": [{k: v for k, v in row.items() if k != "tenant"} for row in doc["keys"]]}))
    assert GatewayKeys(old).user_for(secret).tenant is None
