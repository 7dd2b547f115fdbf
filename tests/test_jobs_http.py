"""Async scans over HTTP: 202 + job, Idempotency-Key, polling, platform roles only, tenants isolated (LM Art. 6)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.server import create_app
from tests.conftest import auth, image_bytes, role_tokens

PNG = image_bytes("PNG", size=(160, 120))


@pytest.fixture
def tokens(sg) -> dict[str, str]:
    return role_tokens(sg) | {"beta": create_token(sg.db, Role.PLATFORM, "beta", "other platform")[0]}


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
    r = post_scan(client, tokens["platform"], data=bytes(range(256)) * 2)  # not a media file (text is one)
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


def test_a_shallow_scan_queues_the_deep_scan_which_finds_the_rotated_copy(settings, verified_user, tmp_path):
    """scan_watermark_search=priors: POST /v1/scan answers fast; its deep_scan action names a queued full-search
    job (once per content), and that job's result finds the watermark in a rotated, cropped copy."""
    import io

    from PIL import Image

    from synthguard.core import SynthGuard
    from tests.conftest import kodak

    fast = settings.model_copy(update={"scan_watermark_search": "priors"})
    with SynthGuard.open(fast) as sg:
        sg.add_user("u-x")
        out = tmp_path / "gen.png"
        sg.label(kodak(), user=verified_user, producer="ACME", output=out, c2pa=False)
        img = Image.open(out).convert("RGB")
        buf = io.BytesIO()
        img.rotate(3, resample=Image.BICUBIC).crop((40, 40, img.width - 40, img.height - 40)).save(buf, "JPEG",
                                                                                                 quality=90)
        token = create_token(sg.db, Role.PLATFORM, "acme", "p")[0]
        with TestClient(create_app(fast, sg=sg)) as client:
            def scan() -> dict:
                r = client.post("/v1/scan", files={"file": ("r.jpg", buf.getvalue(), "image/jpeg")},
                                headers=auth(token))
                assert r.status_code == 200, r.text
                return r.json()

            first = scan()
            deep = next(a for a in first["actions"] if a["action"] == "deep_scan")
            assert first["verdict"] == "none" and deep["job_id"] and deep["upload_id"]
            job = client.get(f"/v1/jobs/{deep['job_id']}", headers=auth(token)).json()
            assert job["state"] == "done" and job["result"]["verdict"] == "ai_generated"
            assert not any(a["action"] == "deep_scan" for a in job["result"]["actions"])
            mine = client.get(f"/v1/jobs/{deep['job_id']}/uploads", headers=auth(token)).json()
            assert [(u["id"], u["name"], u["result"]["verdict"]) for u in mine] == [
                (deep["upload_id"], "r.jpg", "ai_generated")]
            again = scan()  # issue 28: the deep scan's full analysis is cached; a re-upload gets it at once
            assert again["verdict"] == "ai_generated" and not any(a["action"] == "deep_scan"
                                                                   for a in again["actions"])
