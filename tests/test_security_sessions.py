"""Issue 18 findings 11 and 12: console sessions end at logout, logout needs CSRF, Secure cookies behind TLS; the
per-token rate limit is charged on /v1/complaints, the console and the /consent pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.server import create_app
from tests.test_moderation_api import NCII, login
from tests.web_session import session_csrf


@pytest.fixture
def make(keys_template, _isolated_home):
    import shutil

    shutil.copytree(keys_template, _isolated_home / "keys")

    def build(**overrides):
        settings = Settings.load(home=_isolated_home, **overrides)
        sg = SynthGuard.open(settings)
        tokens = {r: create_token(sg.db, r, "acme", r.value)[0] for r in (Role.REVIEWER, Role.PROVIDER, Role.PLATFORM)}
        return TestClient(create_app(settings, sg=sg)), tokens
    return build


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_a_stolen_cookie_dies_at_logout(make):
    client, tokens = make()
    with client:
        assert login(client, tokens[Role.REVIEWER]).status_code == 303
        stolen = client.cookies.get("sg_session")
        html = client.get("/console").text
        assert client.post("/signout", data={"csrf": "forged"}).status_code == 403  # cross-site logout
        assert client.get("/console").status_code == 200
        assert client.post("/signout", data={"csrf": csrf_of(html)}, follow_redirects=False).status_code == 303
        client.cookies.set("sg_session", stolen)  # the copy an attacker kept
        assert client.get("/console", follow_redirects=False).status_code == 303  # back to the sign-in page


def test_cookies_are_secure_over_tls(make):
    client, tokens = make()
    with client:
        page = client.get("https://testserver/signin")
        assert "secure" in page.headers["set-cookie"].lower()
        r = client.post("https://testserver/signin", data={"token": tokens[Role.REVIEWER],
                                                            "csrf": csrf_of(page.text)}, follow_redirects=False)
        assert "secure" in r.headers["set-cookie"].lower()
    client, tokens = make(secure_cookies=True)  # a TLS proxy in front that does not say so
    with client:
        assert "secure" in client.get("/signin").headers["set-cookie"].lower()


def test_token_rate_limit_is_charged_everywhere(make):
    client, tokens = make(rate_limit_per_minute=1, rate_limit_burst=2)
    with client:
        h = {"Authorization": f"Bearer {tokens[Role.PLATFORM]}"}
        codes = [client.post("/v1/complaints", json=NCII, headers=h).status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        assert login(client, tokens[Role.REVIEWER]).status_code == 303
        codes = [client.get("/console", follow_redirects=False).status_code for _ in range(3)]
        assert codes[-1] == 429
        client.cookies.clear()
        assert login(client, tokens[Role.PROVIDER]).status_code == 303
        csrf = session_csrf(client)
        codes = [client.post("/consent/export", data={"csrf": csrf, "subject": "nobody"}).status_code
                 for _ in range(3)]
        assert codes[:2] == [404, 404] and codes[2] == 429
