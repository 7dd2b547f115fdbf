"""Moderation HTTP API, public complaint pages and the review console: every route and role, tenants, bad input
(413, 415, malformed JSON, path traversal, CSRF, brute force), reports (DSA-11 SoR, CAC, CSV, HTML)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthguard.auth import Role, create_token, revoke_token
from synthguard.cli import main
from synthguard.config import Settings
from synthguard.server import create_app
from tests.conftest import api_client, auth, image_bytes, kodak, role_tokens

PNG = image_bytes("PNG", size=(320, 240))
NCII = {"tenant": "acme", "kind": "intimate_deepfake", "name": "Jane Roe", "email": "jane@example.org",
        "signature": "Jane Roe", "good_faith": True, "location": "https://plat.example/c/acme/post-1",
        "description": "a fake nude of me"}
ALL = set(Role)
ROUTES = [  # method, path, roles allowed (tenant acme)
    ("POST", "/v1/moderation/content", {Role.PLATFORM, Role.ADMIN}),
    ("GET", "/v1/moderation/content/post-x", {Role.PLATFORM, Role.REVIEWER, Role.ADMIN, Role.REGULATOR}),
    ("GET", "/v1/moderation/queue", {Role.REVIEWER, Role.ADMIN, Role.REGULATOR}),
    ("POST", "/v1/moderation/claim", {Role.REVIEWER, Role.ADMIN}),
    ("GET", "/v1/moderation/cases/1", {Role.REVIEWER, Role.ADMIN, Role.REGULATOR}),
    ("POST", "/v1/moderation/cases/1/claim", {Role.REVIEWER, Role.ADMIN}),
    ("POST", "/v1/moderation/cases/1/release", {Role.REVIEWER, Role.ADMIN}),
    ("POST", "/v1/moderation/cases/1/actions", {Role.REVIEWER, Role.ADMIN}),
    ("POST", "/v1/moderation/cases/1/close", {Role.REVIEWER, Role.ADMIN}),
    ("POST", "/v1/moderation/cases/1/reveal", {Role.REVIEWER, Role.ADMIN}),
    ("GET", "/v1/moderation/cases/1/media", {Role.REVIEWER, Role.ADMIN}),
    ("POST", "/v1/moderation/cases/1/counter-notice", {Role.PLATFORM, Role.ADMIN}),
    ("POST", "/v1/moderation/sweep", {Role.PLATFORM, Role.ADMIN}),
    ("GET", "/v1/moderation/outbox", {Role.PLATFORM, Role.ADMIN}),
    ("GET", "/v1/moderation/report?period=2026-10", {Role.REGULATOR, Role.ADMIN, Role.PLATFORM}),
]
PUBLIC = ["/report", "/complaints/status", "/process", "/v1/process", "/check", "/console/login"]


@pytest.fixture
def client(settings, sg):
    create_token(sg.db, Role.PLATFORM, "acme", "acme")  # acme is a platform here: it takes complaints (finding 6)
    yield from api_client(settings, sg)


@pytest.fixture
def tokens(sg) -> dict[str, str]:
    return role_tokens(sg) | {"beta-reviewer": create_token(sg.db, Role.REVIEWER, "beta", "beta reviewer")[0],
                              "beta-platform": create_token(sg.db, Role.PLATFORM, "beta", "beta platform")[0]}


def upload(client, token, ref, data=PNG, name="up.png", **form):
    return client.post("/v1/moderation/content", headers=auth(token), data={"ref": ref, **form},
                       files={"file": (name, data, "image/png")})


def call(client, method, path, token=None, **kw):
    headers = auth(token) if token else {}
    if method == "POST" and path.endswith("/content"):
        return client.post(path, headers=headers, data={"ref": "p-role"}, files={"file": ("a.png", PNG, "image/png")})
    if method == "POST":
        return client.post(path, headers=headers, json={})
    return client.get(path, headers=headers)


@pytest.mark.parametrize("method,path,allowed", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_checks_token_and_role(client, tokens, method, path, allowed):
    assert call(client, method, path).status_code == 401
    assert call(client, method, path, "sg_not-a-token").status_code == 401
    for role in ALL:
        r = call(client, method, path, tokens[role.value])
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)
            assert r.json()["error"] == "ForbiddenError"


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_need_no_login(client, path):
    r = client.get(path)
    assert r.status_code == 200


def test_journey_over_http(client, tokens, sg):
    """Platform upload -> anonymous takedown -> reviewer removes -> re-upload blocked -> status shows it."""
    r = upload(client, tokens["platform"], "post-1", kodak("kodim23.png").read_bytes(), uploader="u-9",
               uploader_email="u9@example.org")
    assert r.status_code == 201 and r.json()["content"]["status"] == "visible"
    r = client.post("/v1/complaints", json=NCII)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["content_found"] and re.fullmatch(r"T-[0-9A-Z]{10}", receipt["ticket"])
    queue = client.get("/v1/moderation/queue", headers=auth(tokens["reviewer"])).json()
    assert [c["ticket"] for c in queue] == [receipt["ticket"]] and queue[0]["seconds_left"] > 47 * 3600
    got = client.post("/v1/moderation/claim", headers=auth(tokens["reviewer"])).json()
    assert client.post("/v1/moderation/claim", headers=auth(tokens["admin"])).status_code == 204  # none left
    media = client.get(f"/v1/moderation/cases/{got['id']}/media", headers=auth(tokens["reviewer"]))
    assert media.status_code == 200 and media.headers["content-type"] == "image/png"
    r = client.post(f"/v1/moderation/cases/{got['id']}/actions", headers=auth(tokens["reviewer"]),
                    json={"action": "remove", "reason_code": "ncii", "note": "clear case"})
    assert r.status_code == 200 and r.json()["state"] == "actioned", r.text
    buf = io.BytesIO()
    Image.open(kodak("kodim23.png")).convert("RGB").save(buf, "JPEG", quality=75)
    r = upload(client, tokens["platform"], "post-2", buf.getvalue(), name="again.jpg")
    assert r.status_code == 403 and r.json()["error"] == "UploadBlockedError"
    scan = client.post("/v1/scan", headers=auth(tokens["platform"]), files={"file": ("x.jpg", buf.getvalue())})
    assert any(a["action"] == "block" for a in scan.json()["actions"])
    status = client.post("/v1/complaints/status", json={"ticket": receipt["ticket"], "secret": receipt["secret"]})
    assert status.json()["action"] == "remove" and status.json()["state"] == "actioned"
    viewer = client.get("/v1/public/content/acme/post-1").json()
    assert viewer["available"] is False
    assert client.get("/c/acme/post-1/media").status_code == 404
    box = client.get("/v1/moderation/outbox", headers=auth(tokens["platform"])).json()
    assert {"received", "forwarded", "decision"} <= {m["template"] for m in box}
    assert "jane@example.org" not in json.dumps(box)


def test_tenants_are_isolated(client, tokens):
    upload(client, tokens["platform"], "post-1")
    t = client.post("/v1/complaints", json=NCII).json()
    case = client.get(f"/v1/moderation/cases/{t['ticket']}", headers=auth(tokens["reviewer"])).json()
    for method, path in [("GET", f"/v1/moderation/cases/{case['id']}"),
                         ("POST", f"/v1/moderation/cases/{case['id']}/claim"),
                         ("GET", f"/v1/moderation/cases/{t['ticket']}"),
                         ("GET", f"/v1/moderation/cases/{case['id']}/media")]:
        r = call(client, method, path, tokens["beta-reviewer"])
        assert r.status_code == 404, (path, r.text)
    assert client.get("/v1/moderation/queue", headers=auth(tokens["beta-reviewer"])).json() == []
    assert client.get("/v1/moderation/content/post-1", headers=auth(tokens["beta-platform"])).status_code == 404
    r = client.post(f"/v1/moderation/cases/{case['id']}/counter-notice", headers=auth(tokens["beta-platform"]),
                    json={"statement": "x", "name": "y"})
    assert r.status_code == 404


def test_regulator_request_needs_a_regulator_token(client, tokens):
    body = {"kind": "regulator_request", "location": "post-1", "description": "order 2026-17"}
    assert client.post("/v1/complaints", json=body).status_code == 403
    r = client.post("/v1/complaints", json=body, headers=auth(tokens["regulator"]))
    assert r.status_code == 201
    case = client.get(f"/v1/moderation/cases/{r.json()['ticket']}", headers=auth(tokens["regulator"])).json()
    assert case["source"] == "regulator" and case["tenant"] == "acme"
    # regulators read, never decide
    assert client.post(f"/v1/moderation/cases/{case['id']}/claim", headers=auth(tokens["regulator"])).status_code \
        == 403


# --- bad input -------------------------------------------------------------------------------------
def test_complaint_api_refuses_bad_bodies(client, sg):
    r = client.post("/v1/complaints", content=b"kind=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["hint"]
    r = client.post("/v1/complaints", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["message"]
    r = client.post("/v1/complaints", json=["a", "list"])
    assert r.status_code == 400
    r = client.post("/v1/complaints", json=NCII | {"signature": ""})
    assert r.status_code == 400 and "signature" in r.json()["message"]
    r = client.post("/v1/complaints", json=NCII | {"kind": "alien"})
    assert r.status_code == 400 and r.json()["hint"]
    r = client.post("/v1/complaints", json=NCII | {"tenant": "../etc"})
    assert r.status_code == 400
    assert sg.moderation.queue("acme") == []  # nothing partially stored


def test_oversized_upload_is_413_and_nothing_stored(keys_template, _isolated_home, tokens):
    import shutil

    from synthguard.core import SynthGuard

    shutil.copytree(keys_template, _isolated_home / "keys", dirs_exist_ok=True)
    settings = Settings.load(home=_isolated_home, max_bytes=50_000)
    with SynthGuard.open(settings) as sg2, TestClient(create_app(settings, sg=sg2)) as c:
        tok = create_token(sg2.db, Role.PLATFORM, "acme")[0]
        big = kodak("kodim23.png").read_bytes()
        assert len(big) > 50_000
        r = upload(c, tok, "big-1", big)
        assert r.status_code == 413 and r.json()["error"] == "MediaTooLargeError"
        assert c.get("/v1/moderation/content/big-1", headers=auth(tok)).status_code == 404


def test_wrong_content_type_upload_is_refused(client, tokens):
    r = upload(client, tokens["platform"], "txt-1", b"hello, this is not an image", name="a.png")
    assert r.status_code in (415, 422) and r.json()["hint"]
    assert client.get("/v1/moderation/content/txt-1", headers=auth(tokens["platform"])).status_code == 404


def test_path_traversal_in_filenames_and_refs(client, tokens, sg):
    r = upload(client, tokens["platform"], "post-t", name="../../../../tmp/evil.png")
    assert r.status_code == 201
    stored = list((sg.settings.home / "moderation" / "media").iterdir())
    assert [p.name for p in stored] == [f"{r.json()['content']['sha256']}.png"]
    r = upload(client, tokens["platform"], "../../etc/passwd")
    assert r.status_code == 400 and "content reference" in r.json()["message"]


def test_forms_need_csrf_tokens(client, sg):
    data = {k: str(v) for k, v in NCII.items()}
    r = client.post("/report", data=data)
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post("/report", data=data | {"csrf": "forged"})
    assert r.status_code == 403
    page = client.get("/report")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    other = TestClient(client.app)  # another browser: no matching cookie
    assert other.post("/report", data=data | {"csrf": token}).status_code == 403
    r = client.post("/report", data=data | {"csrf": token})
    assert r.status_code == 200 and 'id="ticket"' in r.text
    assert len(sg.moderation.queue("acme")) == 1


def test_status_page_is_rate_limited(client):
    t = client.post("/v1/complaints", json=NCII).json()
    for _ in range(5):
        r = client.post("/v1/complaints/status", json={"ticket": t["ticket"], "secret": "wrong"})
        assert r.status_code == 404
    r = client.post("/v1/complaints/status", json={"ticket": t["ticket"], "secret": "wrong again"})
    assert r.status_code == 429 and r.json()["error"] == "TooManyAttemptsError"
    r = client.post("/v1/complaints/status", json={"ticket": t["ticket"], "secret": t["secret"]})
    assert r.status_code == 200  # the right secret is never locked out (issue 18 finding 3)
    page = client.get("/complaints/status")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/complaints/status", data={"ticket": "T-0000000000", "secret": "x", "csrf": token})
    assert r.status_code == 429  # this client's wrong guesses are throttled as well


# --- console -----------------------------------------------------------------------------------------
def login(client, token) -> str:
    """Sign in at /signin for the console (issue 22: one session for the console and the consent pages)."""
    from tests.web_session import signin

    return signin(client, token, "/console")


def test_console_login_roles_and_revocation(client, tokens, sg):
    assert client.get("/console", follow_redirects=False).status_code == 303
    r = login(client, tokens["provider"])  # a provider's session is for the consent pages, not the console
    assert r.status_code == 303 and r.headers["location"] == "/consent"
    assert client.get("/console", follow_redirects=False).status_code == 403
    r = login(client, tokens["reviewer"])
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert tokens["reviewer"] not in r.headers.get("set-cookie", "")
    assert client.get("/console").status_code == 200
    revoke_token(sg.db, next(t["id"] for t in __import__("synthguard.auth", fromlist=["x"]).list_tokens(sg.db)
                             if t["name"] == "reviewer"))
    assert client.get("/console", follow_redirects=False).status_code == 303  # logged out


def test_console_queue_case_reveal_and_act(client, tokens, sg):
    upload(client, tokens["platform"], "post-1")
    t1 = client.post("/v1/complaints", json=NCII).json()
    t2 = client.post("/v1/complaints", json={"tenant": "acme", "kind": "unlabeled_ai", "location": "post-1"}).json()
    login(client, tokens["reviewer"])
    html = client.get("/console").text
    assert html.index(t1["ticket"]) < html.index(t2["ticket"])  # 48 h deadline before 72 h
    assert "47h" in html and "left" in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    r = client.post("/console/next", data={"csrf": csrf}, follow_redirects=False)
    case_url = r.headers["location"]
    page = client.get(case_url).text
    assert 'class="preview blurred"' in page and 'id="reveal"' in page and "reason code" in page
    case_id = int(case_url.rsplit("/", 1)[-1])
    assert client.post(f"/console/cases/{case_id}/reveal", data={"csrf": "bad"}).status_code == 403
    assert client.post(f"/console/cases/{case_id}/reveal", data={"csrf": csrf}).status_code == 200
    r = client.post(f"/console/cases/{case_id}/act", data={"csrf": csrf, "action": "remove", "reason_code": "ncii"},
                    follow_redirects=False)
    assert r.status_code == 303
    case = sg.moderation.case("acme", case_id)
    assert case["state"] == "actioned" and [h["kind"] for h in case["history"]].count("reveal") == 1


# --- public pages --------------------------------------------------------------------------------------
def test_process_page_publishes_time_limits(client):
    html = client.get("/process").text
    assert "48 hours" in html and "72 hours" in html and "regulator" not in html.lower().split("<table")[1]
    assert {r["id"] for r in client.get("/v1/process").json()["complaint_types"]} >= {"intimate_deepfake"}
    for path in ("/", "/report", "/check", "/process"):
        assert 'href="/report"' in client.get(path).text  # US-03: the process link on every page


def test_check_a_file_explains_the_verdict(client, sg, settings):
    page = client.get("/check")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/check", data={"csrf": csrf}, files={"file": ("x.png", PNG, "image/png")})
    assert r.status_code == 200 and "No AI label found" in r.text and "does not prove" in r.text


def test_refutation_pages_and_viewer_notices(client, tokens):
    upload(client, tokens["platform"], "v-1", kodak("kodim23.png").read_bytes())
    t = client.post("/v1/complaints", json={"tenant": "acme", "kind": "false_information", "location": "v-1",
                                            "description": "fake disaster video"}).json()
    cid = client.post("/v1/moderation/claim", headers=auth(tokens["reviewer"])).json()["id"]
    r = client.post(f"/v1/moderation/cases/{cid}/actions", headers=auth(tokens["reviewer"]),
                    json={"action": "refute", "reason_code": "false_information",
                          "refutation": {"title": "No dam burst", "text": "The dam is intact (city notice 12)."}})
    slug = r.json()["effects"]["refutation"]
    assert client.get(f"/v1/refutations/{slug}").json()["title"] == "No dam burst"
    assert "No dam burst" in client.get(f"/refutations/{slug}").text
    assert 'id="refutation"' in client.get("/c/acme/v-1").text
    assert client.get("/refutations/R-nope").status_code == 404
    assert t["ticket"]


# --- reports -------------------------------------------------------------------------------------------
DSA_REQUIRED = ("decision_ground", "content_type", "category", "content_date", "application_date",
                "decision_facts", "source_type", "automated_detection", "automated_decision", "puid")


def test_reports_in_every_format(client, tokens, sg, capsys, tmp_path):
    from datetime import UTC, datetime

    sg.moderation.clock = lambda: datetime(2026, 10, 7, 12, tzinfo=UTC)
    upload(client, tokens["platform"], "post-1", kodak("kodim23.png").read_bytes())
    t = client.post("/v1/complaints", json=NCII).json()
    cid = client.post("/v1/moderation/claim", headers=auth(tokens["reviewer"])).json()["id"]
    client.post(f"/v1/moderation/cases/{cid}/actions", headers=auth(tokens["reviewer"]),
                json={"action": "remove", "reason_code": "ncii"})
    rep = client.get("/v1/moderation/report?period=2026-10", headers=auth(tokens["regulator"])).json()
    assert rep["cases_decided"] == 1 and rep["by_action"] == {"remove": 1}
    assert rep["time_to_action_hours"]["p50"] == 0.0 and rep["time_to_action_hours"]["within_deadline"] == 1
    sor = rep["statements"][0]
    assert all(k in sor for k in DSA_REQUIRED)
    assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert sor["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE" and "CONTENT_TYPE_SYNTHETIC_MEDIA" in \
        sor["content_type"] and sor["illegal_content_legal_ground"] and re.fullmatch(r"[a-zA-Z0-9_-]+", sor["puid"])
    assert "jane" not in json.dumps(rep).lower()  # no personal data (DSA-11)
    assert client.get("/v1/moderation/report?period=2026-13", headers=auth(tokens["admin"])).status_code == 400
    assert client.get("/v1/moderation/report?period=2026-10&format=xml",
                      headers=auth(tokens["admin"])).status_code == 422
    assert client.get("/v1/moderation/report?period=2026-10",
                      headers=auth(tokens["beta-platform"])).json()["cases_decided"] == 0
    html = client.get("/v1/moderation/report?period=2026-10&format=html", headers=auth(tokens["admin"])).text
    assert "<svg" in html and 'id="histogram"' in html and t["ticket"] in html
    # the CLI, on the same database
    assert main(["report", "--period", "2026-10", "--format", "dsa-sor", "--tenant", "acme"]) == 0
    assert json.loads(capsys.readouterr().out)["statements"][0]["puid"] == sor["puid"]
    assert main(["report", "--period", "2026-10", "--format", "csv", "--tenant", "acme"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["ticket"] == t["ticket"] and rows[0]["action"] == "remove"
    assert main(["report", "--period", "2026-10", "--format", "cac", "--tenant", "acme"]) == 0
    cac = json.loads(capsys.readouterr().out)
    assert cac["disposals"][0]["report_decision"] == "report" and cac["refutations"] == []
    out = tmp_path / "r.html"
    assert main(["report", "--period", "2026-10", "--format", "html", "--tenant", "acme", "-o", str(out)]) == 0
    assert "<svg" in out.read_text()
    assert main(["report", "--period", "October", "--tenant", "acme"]) == 2
    assert main(["report", "--period", "2026-10", "--format", "pdf", "--tenant", "acme"]) == 2  # needs -o
    pdf = tmp_path / "r.pdf"
    assert main(["report", "--period", "2026-10", "--format", "pdf", "--tenant", "acme", "-o", str(pdf)]) == 0
    assert_pdf_not_blank(pdf, tmp_path)
    r = client.get("/v1/moderation/report?period=2026-10&format=pdf", headers=auth(tokens["regulator"]))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"


def assert_pdf_not_blank(pdf, tmp_path) -> None:
    """Rasterise page 1 with poppler's pdftoppm (Debian poppler-utils) and check it has ink."""
    import shutil
    import subprocess

    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm missing: apt-get install poppler-utils")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    import numpy as np

    page = np.asarray(Image.open(next(tmp_path.glob("page*.png"))).convert("L"))
    dark = int((page < 128).sum())
    assert dark > 500, f"the PDF page looks blank ({dark} dark pixels)"


def test_counter_notice_proof_and_appeal_over_http(client, tokens, sg):
    """CC-11 over HTTP: counter-notice (platform) -> the notifier's status page offers proof upload -> stays down;
    DSA-08: a dismissed report is appealed from the status page."""
    upload(client, tokens["platform"], "post-1", kodak("kodim23.png").read_bytes())
    t = client.post("/v1/complaints", json=NCII | {"kind": "portrait_forgery"}).json()
    cid = client.post("/v1/moderation/claim", headers=auth(tokens["reviewer"])).json()["id"]
    client.post(f"/v1/moderation/cases/{cid}/actions", headers=auth(tokens["reviewer"]),
                json={"action": "remove", "reason_code": "portrait_forgery"})
    r = client.post(f"/v1/moderation/cases/{cid}/counter-notice", headers=auth(tokens["platform"]),
                    json={"statement": "This is my own face.", "name": "U. Ploader"})
    assert r.status_code == 200 and r.json()["state"] == "appealed"
    assert client.post(f"/v1/moderation/cases/{cid}/counter-notice", headers=auth(tokens["platform"]),
                       json={"statement": "again", "name": "U"}).status_code == 409
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/complaints/status").text).group(1)
    page = client.post("/complaints/status", data={"ticket": t["ticket"], "secret": t["secret"], "csrf": csrf})
    assert "Upload proof" in page.text and "counter-notice" in page.text.lower()
    r = client.post("/complaints/status", data={"ticket": t["ticket"], "secret": t["secret"], "csrf": csrf,
                                                "op": "proof"}, files={"proof": ("suit.pdf", b"%PDF-1.4 filing")})
    assert r.status_code == 200 and "Upload proof" not in r.text
    assert client.post("/v1/moderation/sweep", headers=auth(tokens["platform"])).json()["restored"] == []
    assert sg.moderation.case("acme", cid)["details"]["suit_proof_sha256"]
    # appeal of a dismissal
    t2 = client.post("/v1/complaints", json={"tenant": "acme", "kind": "unlabeled_ai", "location": "post-1"}).json()
    queue = client.get("/v1/moderation/queue", headers=auth(tokens["admin"])).json()
    assert [c["ticket"] for c in queue] == [t["ticket"], t2["ticket"]]  # the suit-backed case is back for review
    cid2 = client.get(f"/v1/moderation/cases/{t2['ticket']}", headers=auth(tokens["admin"])).json()["id"]
    assert client.post(f"/v1/moderation/cases/{cid2}/claim", headers=auth(tokens["admin"])).status_code == 200
    client.post(f"/v1/moderation/cases/{cid2}/actions", headers=auth(tokens["admin"]),
                json={"action": "dismiss", "reason_code": "not_infringing"})
    r = client.post("/complaints/status", data={"ticket": t2["ticket"], "secret": t2["secret"], "csrf": csrf,
                                                "op": "appeal", "reason": "It is clearly generated."})
    assert r.status_code == 200 and 'id="state">appealed' in r.text
    assert client.post(f"/v1/moderation/cases/{cid}/claim", headers=auth(tokens["reviewer"])).status_code == 200
    r = client.post(f"/v1/moderation/cases/{cid}/actions", headers=auth(tokens["reviewer"]),
                    json={"action": "remove", "reason_code": "portrait_forgery", "note": "suit pending: stays down"})
    close = client.post(f"/v1/moderation/cases/{cid}/close", headers=auth(tokens["reviewer"]))
    assert close.status_code == 200 and close.json()["state"] == "closed"


def test_regulator_console_is_read_only(client, tokens):
    upload(client, tokens["platform"], "post-1")
    t = client.post("/v1/complaints", json=NCII).json()
    assert login(client, tokens["regulator"]).status_code == 303
    html = client.get("/console").text
    assert t["ticket"] in html and 'id="next"' not in html
    cid = re.search(r'href="/console/cases/(\d+)"', html).group(1)
    page = client.get(f"/console/cases/{cid}").text
    assert 'id="claim"' not in page and 'id="media"' not in page and "History" in page
    token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    r = client.post("/console/next", data={"csrf": token})
    assert r.status_code == 403 and r.json()["error"] == "ForbiddenError"
    assert client.get(f"/console/cases/{cid}/media").status_code == 403


def test_victim_token_files_a_victim_notice_for_its_tenant(client, tokens):
    r = client.post("/v1/complaints", json=NCII | {"tenant": "beta"}, headers=auth(tokens["victim"]))
    assert r.status_code == 201
    case = client.get(f"/v1/moderation/cases/{r.json()['ticket']}", headers=auth(tokens["reviewer"])).json()
    assert case["source"] == "victim_notice" and case["tenant"] == "acme"  # the token's tenant wins
    assert client.post("/v1/complaints", json=NCII, headers=auth("sg_bogus")).status_code == 401
