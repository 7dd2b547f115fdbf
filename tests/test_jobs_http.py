"""Async scans over HTTP: 202 + job, Idempotency-Key, polling, platform roles only, tenants isolated (LM Art. 6)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.server import create_app
from tests.conftest import image_bytes

PNG = image_bytes("PNG", size=(160, 120))


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} | extra


@pytest.fixture
def client(settings, sg):
    with TestClient(create_app(settings, sg=sg)) as c:
        yield c


@pytest.fixture
def tokens(sg) -> dict[str, str]:
    out = {role.value: create_token(sg.db, role, "acme", role.value)[0] for role in Role}
    out["beta"] = create_token(sg.db, Role.PLATFORM, "beta", "other platform")[0]
    return out


def post_scan(client, token: str, data: bytes = PNG, key: str | None = None, **form):
    headers = auth(token, **({"Idempotency-Key": key} if key else {}))
    return client.post("/v1/jobs/scan", files={"file": ("up.png", data, "image/png")}, data=form, headers=headers)


def test_an_async_scan_is_accepted_then_done_with_the_verdict(client, tokens, sg):
    r = post_scan(client, tokens["platform"], key="upload-1", declared_ai="true")
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["Location"] == f"/v1/jobs/{job['id']}" and job["tenant"] == "acme"
    got = client.get(f"/v1/jobs/{job['id']}", headers=auth(tokens["platform"]))  # SQLite: ran in-process
    assert got.status_code == 200 and got.json()["state"] == "done"
    assert got.json()["result"]["verdict"] == "possibly_ai" and got.json()["ledger_index"] is not None
    again = post_scan(client, tokens["platform"], key="upload-1", declared_ai="true")
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    other = post_scan(client, tokens["platform"], key="upload-1")  # same key, different request
    assert other.status_code == 409 and other.json()["hint"]
    listed = client.get("/v1/jobs?state=done", headers=auth(tokens["platform"])).json()
    assert [j["id"] for j in listed] == [job["id"]]
    assert sg.verify_ledger()["ok"]


def test_jobs_are_tenant_isolated_and_platform_roles_only(client, tokens):
    job = post_scan(client, tokens["platform"]).json()
    r = client.get(f"/v1/jobs/{job['id']}", headers=auth(tokens["beta"]))
    assert r.status_code == 404 and r.json()["error"] == "NotFoundError"
    assert client.get("/v1/jobs/J-missing", headers=auth(tokens["beta"])).status_code == 404
    assert client.get("/v1/jobs", headers=auth(tokens["beta"])).json() == []
    for role in ("provider", "victim", "regulator"):
        assert post_scan(client, tokens[role]).status_code == 403
        assert client.get(f"/v1/jobs/{job['id']}", headers=auth(tokens[role])).status_code == 403
    for role in ("reviewer", "admin"):
        assert post_scan(client, tokens[role]).status_code == 202
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 401


def test_bad_uploads_are_refused_before_anything_is_queued(client, tokens, sg):
    r = post_scan(client, tokens["platform"], data=b"not an image at all")
    assert r.status_code == 415 and r.json()["hint"]
    r = post_scan(client, tokens["platform"], key="k" * 200)
    assert r.status_code == 422
    assert sg.jobs.queue.stats() == {"queued": 0, "running": 0, "done": 0, "dead": 0}
    r = post_scan(client, tokens["platform"], data=PNG[:300])  # sniffable but truncated: accepted, then dead
    assert r.status_code == 202
    job = client.get(f"/v1/jobs/{r.json()['id']}", headers=auth(tokens["platform"])).json()
    assert job["state"] == "dead" and job["error"]["error"] == "CorruptMediaError"


def test_postgres_mode_leaves_jobs_for_the_workers(settings, sg, tokens):
    app_settings = settings.model_copy(update={"jobs_inline": False})
    from synthguard.core import SynthGuard

    with SynthGuard.open(app_settings) as core, TestClient(create_app(app_settings, sg=core)) as c:
        r = post_scan(c, tokens["platform"])
        assert r.status_code == 202
        assert c.get(f"/v1/jobs/{r.json()['id']}", headers=auth(tokens["platform"])).json()["state"] == "queued"
        assert core.jobs.work() == 1
        assert c.get(f"/v1/jobs/{r.json()['id']}", headers=auth(tokens["platform"])).json()["state"] == "done"
