"""Error bodies name the file the client sent, never a path on the server (issue 28)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.server import create_app
from synthguard.server.errors import client_view
from tests.conftest import auth, image_bytes

PNG = image_bytes("PNG", size=(320, 240))


def test_a_missing_server_key_is_reported_without_its_server_path(settings, sg):
    """The issue's report: ``"path": "/.../keys/watermark.key"`` reached the API client.  Now the body names the
    client's upload; the server path goes to the log only."""
    token = create_token(sg.db, Role.PROVIDER, "acme", "p")[0]
    sg.add_user("u-a", tenant="acme")
    sg.verify_user("u-a", "mobile", identifier="+86 138 0013 8000")
    (settings.home / "keys" / "watermark.key").unlink()
    with TestClient(create_app(settings, sg=sg)) as client:
        r = client.post("/v1/label", files={"file": ("holiday.png", PNG, "image/png")},
                        data={"user": "u-a", "producer": "ACME"}, headers=auth(token))
    body = r.json()
    assert r.status_code >= 400 and body["error"] == "KeyMissingError", r.text
    assert body["path"] == "holiday.png"
    text = json.dumps(body)
    assert str(settings.home) not in text and "/keys/" not in text and "watermark.key" not in text


def test_an_error_about_the_upload_keeps_the_clients_name(settings, sg):
    token = create_token(sg.db, Role.PLATFORM, "acme", "p")[0]
    with TestClient(create_app(settings, sg=sg)) as client:
        r = client.post("/v1/scan", files={"file": ("../../etc/cut.png", PNG[:200], "image/png")},
                        headers=auth(token))
    assert r.status_code == 422 and r.json()["error"] == "CorruptMediaError"
    assert r.json()["path"] == "../../etc/cut.png"  # the client's own string, echoed; nothing of ours


def test_client_view_cuts_server_paths_but_not_api_routes(tmp_path):
    home = tmp_path / "home"
    body = {"error": "X", "path": str(home / "keys" / "c2pa.pem"),
            "message": f"cannot read {home}/keys/c2pa.pem: denied; see {home}/config.toml",
            "hint": "Register uploads with POST /v1/moderation/content."}
    out = client_view(dict(body), home)
    assert out["path"] is None
    assert out["message"] == "cannot read c2pa.pem: denied; see config.toml"
    assert out["hint"] == body["hint"]


def test_a_jobs_stored_error_shows_no_server_path(settings, sg):
    from synthguard.server.errors import stored_error_view

    home = settings.home
    err = {"error": "KeyMissingError", "message": f"cannot open {home}/keys/watermark.key", "hint": "x",
           "path": f"{home}/keys/watermark.key"}
    view = stored_error_view(err, home)
    assert view["path"] is None and view["message"] == "cannot open watermark.key"
    assert stored_error_view({"error": "E", "message": "m", "hint": None, "path": "cat.jpg"}, home)["path"] == "cat.jpg"
    token = create_token(sg.db, Role.PLATFORM, "acme", "p")[0]
    job, _ = sg.jobs.submit_scan(sg.media(PNG[:300]), tenant="acme")
    sg.jobs.work()
    with TestClient(create_app(settings, sg=sg)) as client:
        got = client.get(f"/v1/jobs/{job['id']}", headers=auth(token)).json()
        listed = client.get("/v1/jobs", headers=auth(token)).json()
    assert got["state"] == "dead" and got["error"]["error"] == "CorruptMediaError"
    assert str(home) not in json.dumps(got) + json.dumps(listed)
