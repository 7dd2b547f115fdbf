"""Issue 18 finding 3: nobody can lock a complainant out of the status page (US-02, CC-10 notice handling).

The attack: five (or fifty) bogus POSTs to ``/v1/complaints/status`` for someone else's ticket, from the
same address the complainant uses (behind a proxy everyone shares one).  Then the complainant asks with
the right secret and must get the status; the guesser keeps getting 429.
"""

from __future__ import annotations

import pytest

from synthguard.auth import Role, create_token
from synthguard.cli.serve import proxy_options
from synthguard.config import Settings
from tests.conftest import api_client
from tests.test_moderation_api import NCII


@pytest.fixture
def client(settings, sg):
    create_token(sg.db, Role.PLATFORM, "acme", "acme platform")  # acme is a platform of this deployment
    yield from api_client(settings, sg)


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


def test_complaint_spam_and_mail_relay_are_refused(client, sg):
    """Finding 6: one address per field, made-up tenants refused, anonymous complaints rate limited per address."""
    relay = client.post("/v1/complaints", json=NCII | {"email": "root,victim@example.com"})
    assert relay.status_code == 400 and "address" in relay.json()["message"]
    for bad in ("a@b@example.com", "<x@example.org>", "x@example.org\nBcc: y@example.org", "x@example.org y@z.org"):
        assert client.post("/v1/complaints", json=NCII | {"email": bad}).status_code == 400, bad
    assert client.post("/v1/complaints", json=NCII | {"tenant": "made-up"}).status_code == 404
    codes = [client.post("/v1/complaints", json=NCII).status_code for _ in range(40)]
    assert codes.count(201) <= sg.settings.public_rate_per_minute and codes[-1] == 429
    assert len(sg.moderation.queue("acme")) == codes.count(201)
