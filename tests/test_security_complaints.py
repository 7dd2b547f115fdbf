"""Issue 18 finding 3: nobody can lock a complainant out of the status page (US-02, CC-10 notice handling).

The attack: five (or fifty) bogus POSTs to ``/v1/complaints/status`` for someone else's ticket, from the
same address the complainant uses (behind a proxy everyone shares one).  Then the complainant asks with
the right secret and must get the status; the guesser keeps getting 429.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from synthguard.cli.serve import proxy_options
from synthguard.config import Settings
from synthguard.server import create_app
from tests.test_moderation_api import NCII


@pytest.fixture
def client(settings, sg):
    with TestClient(create_app(settings, sg=sg)) as c:
        yield c


def test_bogus_guesses_do_not_lock_out_the_complainant(client):
    filed = client.post("/v1/complaints", json=NCII)
    assert filed.status_code == 201, filed.text
    ticket, secret = filed.json()["ticket"], filed.json()["secret"]
    codes = [client.post("/v1/complaints/status", json={"ticket": ticket, "secret": f"bogus-{i}"}).status_code
             for i in range(12)]
    assert codes[:5] == [404] * 5 and set(codes[5:]) == {429}
    ok = client.post("/v1/complaints/status", json={"ticket": ticket, "secret": secret})
    assert ok.status_code == 200 and ok.json()["ticket"] == ticket
    # another complainant behind the same address is not locked out either
    other = client.post("/v1/complaints", json=NCII).json()
    assert client.post("/v1/complaints/status", json={"ticket": other["ticket"],
                                                      "secret": other["secret"]}).status_code == 200


def test_proxy_headers_are_trusted_only_from_configured_proxies(tmp_path):
    assert proxy_options(Settings.load(home=tmp_path)) == {"proxy_headers": False}
    opts = proxy_options(Settings.load(home=tmp_path, trusted_proxies=["127.0.0.1", "10.0.0.0/8"]))
    assert opts == {"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1,10.0.0.0/8"}
