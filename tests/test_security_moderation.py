"""Issue 18 finding 9: no unblurred view of a case's media without a claim and a logged reveal (PI-06, DS-10).

The attack: a reviewer (or admin) token fetches ``/v1/moderation/cases/{id}/media`` of a case nobody claimed,
or one claimed by a colleague, and gets the intimate image with no "reveal" in the history.
"""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthguard.auth import Role, create_token
from synthguard.server import create_app
from tests.conftest import kodak
from tests.test_moderation_api import NCII, auth, upload


@pytest.fixture
def world(settings, sg):
    tokens = {name: create_token(sg.db, role, "acme", name)[0] for name, role in
              (("platform", Role.PLATFORM), ("rev-a", Role.REVIEWER), ("rev-b", Role.REVIEWER), ("admin", Role.ADMIN))}
    with TestClient(create_app(settings, sg=sg)) as client:
        upload(client, tokens["platform"], "post-1", kodak("kodim23.png").read_bytes())
        client.post("/v1/complaints", json=NCII)
        case_id = client.get("/v1/moderation/queue", headers=auth(tokens["rev-a"])).json()[0]["id"]
        yield client, tokens, case_id


def reveals(client, tokens, case_id) -> int:
    case = client.get(f"/v1/moderation/cases/{case_id}", headers=auth(tokens["admin"])).json()
    return [h["kind"] for h in case["history"]].count("reveal")


def test_unclaimed_media_is_not_served(world):
    client, tokens, case_id = world
    for who in ("rev-a", "admin"):
        r = client.get(f"/v1/moderation/cases/{case_id}/media", headers=auth(tokens[who]))
        assert r.status_code == 409 and not r.headers["content-type"].startswith("image/"), who
        r = client.post(f"/v1/moderation/cases/{case_id}/reveal", headers=auth(tokens[who]))
        assert r.status_code == 409
    assert reveals(client, tokens, case_id) == 0


def test_only_the_claimant_sees_it_and_every_view_is_logged(world):
    client, tokens, case_id = world
    assert client.post(f"/v1/moderation/cases/{case_id}/claim", headers=auth(tokens["rev-a"])).status_code == 200
    assert client.get(f"/v1/moderation/cases/{case_id}/media", headers=auth(tokens["rev-b"])).status_code == 409
    for n in (1, 2):
        r = client.get(f"/v1/moderation/cases/{case_id}/media", headers=auth(tokens["rev-a"]))
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert reveals(client, tokens, case_id) == n


def test_blurred_preview_needs_no_claim_and_shows_nothing(world):
    client, tokens, case_id = world
    r = client.get(f"/v1/moderation/cases/{case_id}/media?view=blurred", headers=auth(tokens["rev-b"]))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(r.content)).size) <= 64
    assert reveals(client, tokens, case_id) == 0
