"""Issue 22: sign-in for the console and the consent pages -- a server-side session opened with an API token once.

The cookie (HttpOnly, SameSite=Strict, Secure over https) holds a random id; the database holds its SHA-256, the
expiry and the last use; sign-out, expiry, idleness and token revocation end it; sign-in is CSRF-checked, rate
limited per address and never redirects off the site; the home page links each role to its pages.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from synthguard.auth import Role, create_token, revoke_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.server import create_app
from synthguard.store.auth_tables import WebSession
from synthguard.store.base import utcnow
from tests.web_session import SIGNIN_CSRF, session_csrf, signin


@pytest.fixture
def make(keys_template, _isolated_home):
    shutil.copytree(keys_template, _isolated_home / "keys")
    made = []

    def build(**overrides):
        settings = Settings.load(home=_isolated_home, **overrides)
        sg = SynthGuard.open(settings)
        made.append(sg)
        tokens = {r: create_token(sg.db, r, "acme", f"{r.value}-1")[0] for r in Role}
        return TestClient(create_app(settings, sg=sg)), sg, tokens

    yield build
    for sg in made:
        sg.close()


def _cookie_attrs(header: str, name: str) -> dict[str, str]:
    part = next(c for c in re.split(r",(?=\s*\w+=)", header) if c.strip().startswith(f"{name}="))
    attrs = {}
    for item in part.split(";")[1:]:
        k, _, v = item.strip().partition("=")
        attrs[k.lower()] = v
    return attrs


def test_signin_opens_a_server_side_session_with_a_strict_httponly_cookie(make):
    client, sg, tokens = make()
    with client:
        r = signin(client, tokens[Role.REVIEWER])
        assert r.status_code == 303 and r.headers["location"] == "/console"
        attrs = _cookie_attrs(r.headers["set-cookie"], "sg_session")
        assert "httponly" in attrs and attrs["samesite"].lower() == "strict" and attrs["path"] == "/"
        assert "secure" not in attrs  # plain http in this test; https below
        sid = client.cookies.get("sg_session")
        assert len(sid) >= 43 and tokens[Role.REVIEWER] not in r.headers["set-cookie"]
        with sg.db.session() as s:
            row = s.scalars(select(WebSession)).one()
            assert row.sid_hash == hashlib.sha256(sid.encode()).hexdigest() and row.sid_hash != sid
            assert timedelta(hours=7, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=8)
        page = client.get("/console")
        assert page.status_code == 200 and tokens[Role.REVIEWER] not in page.text
        r = client.post("https://testserver/signin", data={
            "token": tokens[Role.ADMIN], "csrf": SIGNIN_CSRF.search(client.get("https://testserver/signin").text)[1]},
            follow_redirects=False)
        assert "secure" in _cookie_attrs(r.headers["set-cookie"], "sg_session")


def test_signin_refuses_forged_forms_wrong_tokens_and_floods(make):
    client, sg, tokens = make(public_rate_per_minute=4)
    with client:
        form = client.get("/signin")
        assert 'name="token"' in form.text and 'type="password"' in form.text
        r = client.post("/signin", data={"token": tokens[Role.REVIEWER], "csrf": "forged"}, follow_redirects=False)
        assert r.status_code == 403 and "sg_session" not in r.headers.get("set-cookie", "")
        csrf = SIGNIN_CSRF.search(form.text)[1]
        r = client.post("/signin", data={"token": "sg_not-a-token", "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 401 and "unknown API token" in r.text and 'id="token"' in r.text
        assert "sg_session" not in r.headers.get("set-cookie", "")
        codes = [client.post("/signin", data={"token": "sg_guess", "csrf": csrf}).status_code for _ in range(3)]
        assert codes[-1] == 429  # the per-address limiter of every anonymous route
        r = client.post("/signin", data={"token": tokens[Role.REVIEWER], "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1  # even the right token waits
        with sg.db.session() as s:
            assert s.scalars(select(WebSession)).first() is None


@pytest.mark.parametrize("next_,role,goes", [
    ("/console", Role.REVIEWER, "/console"), ("/console/cases/7", Role.ADMIN, "/console/cases/7"),
    ("/consent", Role.REVIEWER, "/console"),  # not a page the role uses: its own page instead
    ("/console", Role.PROVIDER, "/consent"), ("//evil.example/console", Role.REVIEWER, "/console"),
    ("https://evil.example/", Role.VICTIM, "/consent"), ("/\\evil.example", Role.PLATFORM, "/consent"),
    ("/signout", Role.ADMIN, "/console")])
def test_signin_never_redirects_off_the_role_pages(make, next_, role, goes):
    client, _, tokens = make()
    with client:
        assert signin(client, tokens[role], next_).headers["location"] == goes
        assert client.get("/signin", params={"next": "/console/" + "x" * 5000}).status_code == 200


def test_signout_ends_the_session_for_good(make):
    client, sg, tokens = make()
    with client:
        signin(client, tokens[Role.PROVIDER])
        sid = client.cookies.get("sg_session")
        csrf = session_csrf(client)
        assert client.post("/signout", data={"csrf": "forged"}, follow_redirects=False).status_code == 403
        r = client.post("/signout", data={"csrf": csrf}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin?signed_out=1"
        assert 'sg_session=""' in r.headers["set-cookie"] or "max-age=0" in r.headers["set-cookie"].lower()
        with sg.db.session() as s:
            assert s.scalars(select(WebSession)).one().ended_at is not None
        client.cookies.clear()
        client.cookies.set("sg_session", sid)  # a copy kept by someone else
        assert 'action="/consent/grant"' not in client.get("/consent").text
        assert client.post("/consent/export", data={"csrf": csrf, "subject": "x"}).status_code == 401
        assert "signed out" in client.get("/signin?signed_out=1").text


def test_a_planted_session_id_is_replaced_at_signin(make):
    """Session fixation: whatever cookie the browser had, signing in issues a new id and ends the old one."""
    client, sg, tokens = make()
    with client:
        signin(client, tokens[Role.REGULATOR])
        planted = client.cookies.get("sg_session")
        signin(client, tokens[Role.REVIEWER])
        assert client.cookies.get("sg_session") != planted
        client.cookies.clear()
        client.cookies.set("sg_session", planted)
        assert client.get("/console", follow_redirects=False).status_code == 303


def test_expiry_idleness_and_token_revocation_end_sessions(make):
    client, sg, tokens = make()
    with client:
        for column in ("expires_at", "last_seen_at"):
            client.cookies.clear()
            signin(client, tokens[Role.REVIEWER])
            assert client.get("/console", follow_redirects=False).status_code == 200
            with sg.db.session() as s:
                s.execute(update(WebSession).values({column: utcnow() - timedelta(hours=1, seconds=1)}))
            assert client.get("/console", follow_redirects=False).status_code == 303, column
        client.cookies.clear()
        signin(client, tokens[Role.ADMIN])
        assert client.get("/console", follow_redirects=False).status_code == 200
        from synthguard.auth import list_tokens

        revoke_token(sg.db, next(t["id"] for t in list_tokens(sg.db) if t["name"] == "admin-1"))
        assert client.get("/console", follow_redirects=False).status_code == 303


def test_home_page_links_each_role_to_its_pages(make):
    client, _, tokens = make()
    with client:
        home = client.get("/").text
        assert 'href="/signin?next=/console"' in home and 'href="/signin?next=/consent"' in home
        assert 'id="signin-link"' in home and 'action="/signout"' not in home
        expect = {Role.REVIEWER: {"/console"}, Role.REGULATOR: {"/console"}, Role.PROVIDER: {"/consent"},
                  Role.PLATFORM: {"/consent"}, Role.VICTIM: {"/consent"}, Role.ADMIN: {"/console", "/consent"}}
        for role, pages in expect.items():
            client.cookies.clear()
            signin(client, tokens[role])
            home = client.get("/").text
            card = home[home.index('id="your-pages"'):home.index("</section>", home.index('id="your-pages"'))]
            assert set(re.findall(r'class="button" href="(/[a-z]+)"', card)) == pages, role
            assert f"{role.value}-1" in card and 'action="/signout"' in home and 'id="signin-link"' not in home
            for page in pages:  # each linked page opens for the role
                assert client.get(page, follow_redirects=False).status_code == 200, (role, page)


def test_console_and_consent_forms_carry_the_session_csrf_and_no_token_field(make):
    client, _, tokens = make()
    with client:
        signin(client, tokens[Role.ADMIN])
        csrf = session_csrf(client)
        for path in ("/console", "/consent"):
            html = client.get(path).text
            assert 'name="token"' not in html
            forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.S)
            assert forms and all(f'name="csrf" value="{csrf}"' in f for f in forms), path
