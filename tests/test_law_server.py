"""POST /v1/assess: roles reviewer/regulator/victim/admin; 400 naming the field for a bad incident."""

from __future__ import annotations

import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.law.testing import EXAMPLES
from synthguard.server import create_app, errors
from synthguard.server.routes import assess

INCIDENT = yaml.safe_load(EXAMPLES.joinpath("guo_baotou_2023.yaml").read_text(encoding="utf-8"))
INCIDENT = {**INCIDENT, "date": INCIDENT["date"].isoformat(), "discovered": INCIDENT["discovered"].isoformat()}


def _client(settings, sg) -> TestClient:
    app = create_app(settings, sg=sg)
    if "/v1/assess" not in app.openapi()["paths"]:  # until create_app includes the router
        app.openapi_schema = None
        app.include_router(assess.router)
    return TestClient(app)


def test_assess_roles_and_output(settings, sg):
    client = _client(settings, sg)
    for role in Role:
        token = create_token(sg.db, role, "acme", role.value)[0]
        r = client.post("/v1/assess", json=INCIDENT, headers={"Authorization": f"Bearer {token}"})
        allowed = role in (Role.REVIEWER, Role.REGULATOR, Role.VICTIM, Role.ADMIN)
        assert r.status_code == (200 if allowed else 403), (role, r.text)
    assert client.post("/v1/assess", json=INCIDENT).status_code == 401
    token = create_token(sg.db, Role.VICTIM, "acme", "v2")[0]
    body = client.post("/v1/assess?lang=zh", json=INCIDENT, headers={"Authorization": f"Bearer {token}"}).json()
    fraud = next(f for f in body["findings"] if f["rule"] == "CN.CL.266.fraud")
    assert fraud["status"] == "met" and fraud["band"]["name"] == "especially_huge" and "刑法" in fraud["citation"]
    html = client.post("/v1/assess?format=html", json=INCIDENT, headers={"Authorization": f"Bearer {token}"})
    assert html.status_code == 200 and "Legal assessment memo" in html.text


def test_assess_bad_incident_is_400_naming_the_field(settings, sg):
    client = _client(settings, sg)
    token = create_token(sg.db, Role.REVIEWER, "acme", "r")[0]
    r = client.post("/v1/assess", json={**INCIDENT, "mood": "bad"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and r.json()["error"] == "ValidationError" and "mood" in r.json()["message"]
    r = client.post("/v1/assess", json={**INCIDENT, "date": "2999-01-01"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and "date" in r.json()["message"]


def test_router_is_mountable_alone(settings, sg):
    app = FastAPI()
    app.state.sg = sg
    errors.install(app)
    app.include_router(assess.router)
    assert TestClient(app).post("/v1/assess", json={}).status_code == 401  # mounted, and gated
