"""A served process is ready before its first upload (issue 28): warmed detectors, a frozen heap."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from synthguard import scan
from synthguard.media import Modality
from synthguard.server import create_app
from tests.conftest import auth, image_bytes, role_tokens


def test_a_warm_app_has_its_detectors_and_a_frozen_heap_before_the_first_upload(settings, sg):
    app = create_app(settings, sg=sg, warm=True)
    try:
        assert Modality.IMAGE not in scan._DETECTORS.get(sg, {})
        with TestClient(app) as c:
            assert Modality.IMAGE in scan._DETECTORS[sg]  # built at startup, not on the first upload
            assert gc.get_freeze_count() > 10_000  # what the libraries made is out of the collector's walk
            token = role_tokens(sg)["platform"]
            r = c.post("/v1/scan", files={"file": ("a.png", image_bytes("PNG"), "image/png")}, headers=auth(token))
            assert r.status_code == 200 and r.json()["verdict"] == "none"
            assert "cache;desc=" in r.headers["server-timing"] and "ledger;dur=" in r.headers["server-timing"]
    finally:
        gc.unfreeze()


def test_a_plain_app_does_not_warm(settings, sg):
    with TestClient(create_app(settings, sg=sg)):
        assert gc.get_freeze_count() == 0
        assert Modality.IMAGE not in scan._DETECTORS.get(sg, {})
