"""Route x role x tenant matrix, generated from the OpenAPI spec (issue 18; docs/security.md).

``RULES`` states, for every route of the API, who may call it: ``PUBLIC`` (anyone, no token) or the roles whose
token of the same tenant passes authorisation.  The test walks the live OpenAPI spec: a route without a rule, or a
rule without a route, fails the suite, so a new route cannot ship without a decision on who may call it.  Every
route is then called anonymously and with a token of every role: anonymous gets 401 on non-public routes, a role
outside the rule 403, a role inside the rule neither.  The tenant dimension: objects of tenant ``acme`` asked for
with the same role's token of tenant ``beta`` are 404 (or an empty list), never the object.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.server import create_app
from tests.conftest import image_bytes, kodak

PUBLIC = "public"
PROV, PLAT, REV, VIC, REG, ADM = (Role.PROVIDER, Role.PLATFORM, Role.REVIEWER, Role.VICTIM, Role.REGULATOR,
                                  Role.ADMIN)
ANY_TOKEN = frozenset(Role)
RULES: dict[tuple[str, str], str | frozenset[Role]] = {
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/checkpoints/latest"): PUBLIC,
    ("POST", "/v1/inspect"): PUBLIC,  # labels exist so anyone can read them (LM-22); bounded work (finding 5)
    ("GET", "/v1/whoami"): ANY_TOKEN,
    ("POST", "/v1/label"): frozenset({PROV}),
    ("GET", "/v1/label/jobs/{job_id}"): frozenset({PROV}),  # a video's label job (issue 22), its tenant only
    ("GET", "/v1/label/jobs/{job_id}/file"): frozenset({PROV}),
    ("GET", "/v1/users"): frozenset({PROV}),
    ("POST", "/v1/users"): frozenset({PROV}),
    ("POST", "/v1/users/{user_id}/verify"): frozenset({PROV}),
    ("POST", "/v1/trace"): frozenset({PLAT, REV, VIC, REG, ADM}),
    ("POST", "/v1/evidence"): frozenset({PLAT, REV, VIC, REG, ADM}),  # a trace, bundled (issue 19)
    ("POST", "/v1/evidence/verify"): frozenset({PLAT, REV, VIC, REG, ADM}),
    ("GET", "/v1/records/{content_id}"): frozenset({PROV, PLAT, REG, ADM}),
    ("POST", "/v1/scan"): frozenset({PLAT, REV, ADM}),
    ("POST", "/v1/assess"): frozenset({REV, VIC, REG, ADM}),
    ("POST", "/v1/jobs/scan"): frozenset({PLAT, REV, ADM}),
    ("GET", "/v1/jobs/{job_id}"): frozenset({PLAT, REV, ADM}),
    ("GET", "/v1/jobs"): frozenset({PLAT, REV, ADM}),
    ("GET", "/v1/jobs/{job_id}/uploads"): frozenset({PLAT, REV, ADM}),  # the uploads attached to a deep scan
    ("GET", "/v1/compliance/check"): frozenset({PROV, REG, ADM}),
    ("GET", "/v1/compliance/assessment"): frozenset({PROV, REG, ADM}),
    ("GET", "/v1/compliance/switches"): frozenset({PROV, ADM}),
    ("PUT", "/v1/compliance/switches/{feature}"): frozenset({PROV, ADM}),
    ("POST", "/v1/screen"): frozenset({PROV}),
    ("POST", "/v1/screen/{stage}"): frozenset({PROV}),
    ("GET", "/v1/compliance/library"): frozenset({PROV}),
    ("POST", "/v1/compliance/library"): frozenset({PROV}),
    ("GET", "/v1/compliance/policies"): frozenset({PROV, REG, ADM}),
    ("POST", "/v1/compliance/policies"): frozenset({PROV}),
    ("GET", "/v1/compliance/notice"): frozenset({PROV}),
    ("POST", "/v1/compliance/terms"): frozenset({PROV}),
    ("GET", "/v1/compliance/datasets"): frozenset({PROV, REG, ADM}),
    ("POST", "/v1/compliance/datasets"): frozenset({PROV}),
    ("POST", "/v1/compliance/lineage"): frozenset({PROV}),
    ("POST", "/v1/compliance/terms/accept"): frozenset({PROV}),
    ("POST", "/v1/complaints"): PUBLIC,  # anyone may complain (US-02, DSA-02); spam bounded (finding 6)
    ("POST", "/v1/complaints/status"): PUBLIC,  # ticket + secret (finding 3)
    ("GET", "/v1/process"): PUBLIC,
    ("GET", "/v1/refutations/{slug}"): PUBLIC,
    ("GET", "/v1/public/content/{tenant}/{ref}"): PUBLIC,
    ("POST", "/v1/moderation/content"): frozenset({PLAT, ADM}),
    ("GET", "/v1/moderation/content/{ref}"): frozenset({PLAT, REV, REG, ADM}),
    ("GET", "/v1/moderation/queue"): frozenset({REV, REG, ADM}),
    ("POST", "/v1/moderation/claim"): frozenset({REV, ADM}),
    ("GET", "/v1/moderation/cases/{case_id}"): frozenset({REV, REG, ADM}),
    ("POST", "/v1/moderation/cases/{case_id}/claim"): frozenset({REV, ADM}),
    ("POST", "/v1/moderation/cases/{case_id}/release"): frozenset({REV, ADM}),
    ("POST", "/v1/moderation/cases/{case_id}/actions"): frozenset({REV, ADM}),
    ("POST", "/v1/moderation/cases/{case_id}/close"): frozenset({REV, ADM}),
    ("POST", "/v1/moderation/cases/{case_id}/reveal"): frozenset({REV, ADM}),
    ("GET", "/v1/moderation/cases/{case_id}/media"): frozenset({REV, ADM}),
    ("POST", "/v1/moderation/cases/{case_id}/counter-notice"): frozenset({PLAT, ADM}),
    ("POST", "/v1/moderation/sweep"): frozenset({PLAT, ADM}),
    ("GET", "/v1/moderation/outbox"): frozenset({PLAT, ADM}),
    ("GET", "/v1/moderation/report"): frozenset({PLAT, REG, ADM}),
    ("GET", "/v1/consent/subjects"): frozenset({PROV, ADM}),
    ("POST", "/v1/consent/subjects"): frozenset({PROV, ADM}),
    ("POST", "/v1/consent/protected"): frozenset({PLAT, VIC, ADM}),
    ("POST", "/v1/consent/protected/files"): frozenset({PLAT, VIC, ADM}),
    ("POST", "/v1/consent/challenges"): frozenset({PROV, ADM}),
    ("POST", "/v1/consent/grants"): frozenset({PROV, ADM}),
    ("GET", "/v1/consent/grants"): frozenset({PROV, ADM}),
    ("GET", "/v1/consent/grants/{grant_id}"): frozenset({PROV, ADM}),
    ("POST", "/v1/consent/grants/{grant_id}/revoke"): frozenset({PROV, ADM}),
    # protected persons additionally need the person's signed request unless admin (finding 4)
    ("GET", "/v1/consent/subjects/{subject}/export"): frozenset({PROV, PLAT, VIC, ADM}),
    ("DELETE", "/v1/consent/subjects/{subject}"): frozenset({PROV, PLAT, VIC, ADM}),
    ("POST", "/v1/consent/check"): frozenset({PROV, ADM}),
    ("POST", "/v1/hooks/objects"): frozenset({PLAT, REV, ADM}),  # object-store events (issue 26)
    # issue 19: the witness protocol authenticates nothing but the log's signature (c2sp.org/tlog-witness);
    # the descriptor and consistency proofs are public like the checkpoints (hashes and public keys only)
    ("POST", "/witness/add-checkpoint"): PUBLIC,
    ("GET", "/.well-known/synthguard.json"): PUBLIC,
    ("GET", "/v1/checkpoints/consistency"): PUBLIC,
}


# Issue 22: the pages (outside the OpenAPI spec) get the same treatment.  A page is PUBLIC or needs a web session
# (signed in at /signin with a token of one of the roles); a page route without a rule fails the suite.
CONSOLE_READ, CONSOLE_DECIDE = frozenset({REV, REG, ADM}), frozenset({REV, ADM})
PAGE_RULES: dict[tuple[str, str], str | frozenset[Role]] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/inspect"): PUBLIC,
    ("POST", "/inspect"): PUBLIC,
    ("GET", "/check"): PUBLIC,
    ("POST", "/check"): PUBLIC,
    ("GET", "/report"): PUBLIC,
    ("POST", "/report"): PUBLIC,
    ("GET", "/complaints/status"): PUBLIC,
    ("POST", "/complaints/status"): PUBLIC,
    ("GET", "/process"): PUBLIC,
    ("GET", "/refutations/{slug}"): PUBLIC,
    ("GET", "/c/{tenant}/{ref}"): PUBLIC,
    ("GET", "/c/{tenant}/{ref}/media"): PUBLIC,
    ("GET", "/compliance/notice/{tenant}"): PUBLIC,
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,  # the token is the credential; CSRF-checked, rate limited per address
    ("POST", "/signout"): PUBLIC,  # ends the caller's own session only, with its CSRF token
    ("GET", "/console/login"): PUBLIC,  # a redirect to /signin
    ("GET", "/consent"): PUBLIC,  # the forms only for a signed-in role; a sign-in link otherwise
    ("GET", "/console"): CONSOLE_READ,
    ("GET", "/console/cases/{case_id}"): CONSOLE_READ,
    ("POST", "/console/next"): CONSOLE_DECIDE,
    ("POST", "/console/cases/{case_id}/claim"): CONSOLE_DECIDE,
    ("POST", "/console/cases/{case_id}/act"): CONSOLE_DECIDE,
    ("POST", "/console/cases/{case_id}/reveal"): CONSOLE_DECIDE,
    ("GET", "/console/cases/{case_id}/media"): CONSOLE_DECIDE,
    ("POST", "/consent/enroll"): frozenset({PROV, ADM}),  # with protected=true: platform, victim, admin
    ("POST", "/consent/grant"): frozenset({PROV, ADM}),
    ("POST", "/consent/revoke"): frozenset({PROV, ADM}),
    ("POST", "/consent/export"): frozenset({PROV, ADM}),
}
PAGE_FORMS: dict[str, dict] = {  # complete forms, so a role check is not hidden behind a 422
    "/console/cases/{case_id}/act": {"data": {"action": "remove", "reason_code": "ncii"}},
    "/consent/enroll": {"data": {"subject": "s-1"}},
    "/consent/grant": {"data": {"subject": "s-1", "to": "u-1", "purpose": "face_swap"},
                       "files": {"evidence": ("e.json", b"{}", "application/json")}},
    "/consent/revoke": {"data": {"grant_id": "cg_x"}},
    "/consent/export": {"data": {"subject": "s-1"}},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, keys_template):
    """One server, every role's token in two tenants; the rate limits off (the matrix sends many requests)."""
    import shutil

    home = tmp_path_factory.mktemp("matrix")
    shutil.copytree(keys_template, home / "keys")
    settings = Settings.load(home=home, public_sandbox=False, public_rate_per_minute=0, rate_limit_per_minute=0)
    sg = SynthGuard.open(settings)
    tokens = {(r, t): create_token(sg.db, r, t, f"{t}-{r.value}")[0] for r in Role for t in ("acme", "beta")}
    with TestClient(create_app(settings, sg=sg)) as client:
        yield client, sg, tokens
    sg.close()


def _routes(client: TestClient) -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, ops in client.app.openapi()["paths"].items() for m in ops}


def test_every_route_in_the_spec_has_a_rule(world):
    client, _, _ = world
    spec = _routes(client)
    assert not spec - set(RULES), f"routes without a rule (add them to RULES and docs/security.md): {spec - set(RULES)}"
    assert not set(RULES) - spec, f"rules for routes that do not exist: {set(RULES) - spec}"


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_by_role(world, route):
    client, _, tokens = world
    method, path = route
    url = re.sub(r"\{[^}]+\}", "x1", path)
    rule = RULES[route]
    anon = client.request(method, url).status_code
    if rule == PUBLIC:
        assert anon not in (401, 403), (route, anon)
        return
    assert anon == 401, (route, anon)
    for role in Role:
        code = client.request(method, url, headers={"Authorization": f"Bearer {tokens[(role, 'acme')]}"}).status_code
        if role in rule:
            assert code not in (401, 403), (route, role, code)
        else:
            assert code == 403, (route, role, code)


def _h(tokens, role: Role, tenant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[(role, tenant)]}"}


def test_tenant_objects_stay_in_their_tenant(world):
    """Objects of tenant acme, asked for by the same role of tenant beta: never the object (404 or empty)."""
    client, sg, tokens = world
    acme = lambda r: _h(tokens, r, "acme")  # noqa: E731
    beta = lambda r: _h(tokens, r, "beta")  # noqa: E731
    assert client.post("/v1/users", json={"id": "acme-user"}, headers=acme(PROV)).status_code == 201
    assert client.post("/v1/users/acme-user/verify", json={"method": "mobile", "identifier": "+86 138 0013 8000",
                                                             "reference": "t"}, headers=beta(PROV)).status_code == 404
    assert "acme-user" not in client.get("/v1/users", headers=beta(PROV)).text
    up = client.post("/v1/moderation/content", headers=acme(PLAT), data={"ref": "acme-post"},
                     files={"file": ("a.png", kodak("kodim23.png").read_bytes(), "image/png")})
    assert up.status_code in (200, 201), up.text
    assert client.get("/v1/moderation/content/acme-post", headers=beta(PLAT)).status_code == 404
    ticket = client.post("/v1/complaints", json={"tenant": "acme", "kind": "intimate_deepfake", "name": "J R",
                                                 "email": "j@example.org", "signature": "J R", "good_faith": True,
                                                 "location": "acme-post", "description": "fake"}).json()
    case = client.get("/v1/moderation/queue", headers=acme(REV)).json()
    case_id = case[0]["id"] if isinstance(case, list) else case["cases"][0]["id"]
    for method, path in (("GET", f"/v1/moderation/cases/{case_id}"), ("POST", f"/v1/moderation/cases/{case_id}/claim"),
                         ("GET", f"/v1/moderation/cases/{case_id}/media"),
                         ("POST", f"/v1/moderation/cases/{case_id}/reveal")):
        assert client.request(method, path, headers=beta(ADM), json={}).status_code in (404, 422), path
    assert ticket["ticket"] not in client.get("/v1/moderation/queue", headers=beta(REV)).text
    job = client.post("/v1/jobs/scan", headers=acme(PLAT), files={"file": ("a.png", image_bytes(), "image/png")})
    assert job.status_code in (200, 201, 202), job.text
    assert client.get(f"/v1/jobs/{job.json()['id']}", headers=beta(PLAT)).status_code == 404
    assert client.post("/v1/consent/subjects", data={"subject": "acme-subj"}, headers=acme(PROV),
                       files={"faces": ("f.png", kodak("kodim04.png").read_bytes(), "image/png")}).status_code == 201
    assert client.get("/v1/consent/subjects/acme-subj/export", headers=beta(PROV)).status_code == 404
    assert client.delete("/v1/consent/subjects/acme-subj", headers=beta(ADM)).status_code == 404
    assert client.get("/v1/consent/subjects", headers=beta(PROV)).json() == []


def test_admin_is_per_tenant_unless_global_operator(world):
    """Finding 10: a tenant-A admin neither writes tenant B's (or everyone's) switches nor audits tenant B."""
    client, sg, tokens = world
    r = client.put("/v1/compliance/switches/label.image", headers=_h(tokens, ADM, "acme"),
                   json={"enabled": False, "reason": "attack", "tenant": "beta"})
    assert r.status_code == 403
    r = client.put("/v1/compliance/switches/label.image", headers=_h(tokens, ADM, "acme"),
                   json={"enabled": False, "reason": "attack", "tenant": "*"})
    assert r.status_code == 403
    r = client.put("/v1/compliance/switches/label.video", headers=_h(tokens, ADM, "acme"),
                   json={"enabled": False, "reason": "own tenant"})
    assert r.status_code == 200 and r.json()["tenant"] == "acme"
    assert all(s["tenant"] == "acme" for s in client.get("/v1/compliance/switches",
                                                         headers=_h(tokens, ADM, "acme")).json())
    check = client.get("/v1/compliance/check?tenant=beta", headers=_h(tokens, ADM, "acme"))
    assert check.status_code == 200 and check.json().get("tenant") in ("acme", None) and "beta" not in str(
        check.json().get("tenant"))
    operator = create_token(sg.db, ADM, "*", "operator")[0]
    r = client.put("/v1/compliance/switches/label.audio", headers={"Authorization": f"Bearer {operator}"},
                   json={"enabled": False, "reason": "incident", "tenant": "beta"})
    assert r.status_code == 200 and r.json()["tenant"] == "beta"
    with pytest.raises(Exception, match="global operators"):
        create_token(sg.db, PROV, "*", "not allowed")


def _page_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every route outside the OpenAPI spec (the pages), walking included routers."""
    from fastapi.routing import APIRoute

    def walk(routes):
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):
                yield from walk(r.original_router.routes)
            elif isinstance(getattr(r, "routes", None), list) and not hasattr(r, "app"):
                yield from walk(r.routes)

    return {(m, r.path) for r in walk(client.app.routes) if not r.include_in_schema for m in r.methods}


def test_every_page_has_a_rule(world):
    client, _, _ = world
    pages = _page_routes(client)
    assert ("GET", "/console") in pages and ("POST", "/signin") in pages
    assert not pages - set(PAGE_RULES), f"pages without a rule: {pages - set(PAGE_RULES)}"
    assert not set(PAGE_RULES) - pages, f"rules for pages that do not exist: {set(PAGE_RULES) - pages}"


@pytest.fixture(scope="module")
def sessions(world):
    """A signed-in cookie jar per role of tenant acme: {role: (cookies, csrf)}."""
    from tests.web_session import session_csrf, signin

    client, _, tokens = world
    out = {}
    for role in Role:
        client.cookies.clear()
        assert signin(client, tokens[(role, "acme")]).status_code == 303
        out[role] = (dict(client.cookies), session_csrf(client))
    client.cookies.clear()
    return out


@pytest.mark.parametrize("route", sorted(r for r, rule in PAGE_RULES.items() if rule != PUBLIC),
                         ids=lambda r: f"{r[0]} {r[1]}")
def test_page_by_role(world, sessions, route):
    """Not signed in: GET pages send the browser to /signin, forms and media answer 401.  Signed in: a role
    outside the rule gets 403, a role inside neither 401 nor 403 (its session's CSRF token sent)."""
    client, _, _ = world
    method, path = route
    url = re.sub(r"\{case_id\}", "1", path)
    form = PAGE_FORMS.get(path, {})
    client.cookies.clear()
    anon = client.request(method, url, data={"csrf": "x"} | form.get("data", {}), files=form.get("files"),
                          follow_redirects=False)
    if method == "GET" and not path.endswith("/media"):  # a page; its media (an <img> source) answers 401
        assert anon.status_code == 303 and anon.headers["location"].startswith("/signin?next="), (route, anon)
    else:
        assert anon.status_code == 401, (route, anon.status_code)
    for role in Role:
        cookies, csrf = sessions[role]
        client.cookies.clear()
        for k, v in cookies.items():
            client.cookies.set(k, v)
        r = client.request(method, url, data={"csrf": csrf} | form.get("data", {}), files=form.get("files"),
                           follow_redirects=False)
        if role in PAGE_RULES[route]:
            assert r.status_code not in (401, 403), (route, role, r.status_code, r.text[:300])
        else:
            assert r.status_code == 403, (route, role, r.status_code)
    client.cookies.clear()
