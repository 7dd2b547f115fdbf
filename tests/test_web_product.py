"""Issue 22, web pages: the design system and the API docs served from the package (offline), HTML error pages
for browsers (JSON for API clients), and the inspection page's verdict card before any raw field."""

from __future__ import annotations

import re

from synthguard.server.verdict import content_date, verdict
from tests.conftest import image_bytes

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_docs_and_assets_come_from_this_server(client):
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
        assert urls and all(u.startswith("/") for u in urls), urls  # nothing from a CDN
        for u in urls:
            assert client.get(u).status_code == 200, u
    assert "fonts.googleapis" not in client.get("/redoc").text
    css = client.get("/static/sg/synthguard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "--brand" in css.text
    assert 'href="/static/sg/synthguard.css"' in client.get("/").text


def test_unknown_pages_answer_browsers_in_html_and_api_clients_in_json(client):
    page = client.get("/no/such/page", headers=BROWSER)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and 'href="/"' in page.text and "synthguard.css" in page.text
    zh = client.get("/no/such/page?lang=zh_CN", headers=BROWSER)
    assert zh.status_code == 404 and 'lang="zh-CN"' in zh.text
    api = client.get("/v1/no-such", headers=BROWSER)  # the JSON API stays JSON, whatever the Accept header
    assert api.status_code == 404 and api.json()["error"] == "HTTPError"
    plain = client.get("/no/such/page")
    assert plain.status_code == 404 and plain.json()["error"] == "HTTPError"
    bad = client.get("/v1/records/SG0", headers={"accept": "application/json"})
    assert bad.headers["content-type"].startswith("application/json")


def test_the_verdict_card_comes_first_and_says_what_each_check_means(client, sg, verified_user):
    out = sg.settings.home / "l.png"
    sg.label(image_bytes("PNG", size=(480, 320)), user=verified_user, producer="ACME", output=out)
    data = out.read_bytes()
    page = client.post("/inspect", files={"file": ("l.png", data, "image/png")}).text
    card, details = page.index('class="card verdict"'), page.index("<details>")
    assert card < details and card < page.index("<form")  # the verdict first, the fields and the form after it
    headline = re.search(r'id="verdict-headline">([^<]+)<', page).group(1)
    byline = re.search(r'class="byline">([^<]+)<', page).group(1)
    assert headline == "AI-generated" and "labeled by ACME" in byline and "watermark verified" in byline
    assert page.count('data-state="yes"') >= 3 and "C2PA" in page
    plain = client.post("/inspect", files={"file": ("p.png", image_bytes("PNG"), "image/png")}).text
    assert "No AI-generation label found" in plain and "does not prove" in plain
    assert 'data-tone="none"' in plain and "Visible label" in plain and "not detected" in plain


def test_verdict_flags_an_altered_label_and_dates_the_content_id():
    v = verdict({"modality": "image", "aigc": {"Label": "1", "ContentProducer": "ACME",
                                               "ProduceID": "SG01M9579X1WPEJZB7N5B3CXPZAX"},
                 "aigc_integrity": "invalid", "c2pa": {"present": True, "state": "invalid"},
                 "watermark": {"detected": False}, "visible_label": {"found": False}})
    assert v.tone == "warn" and [c.state for c in v.checks].count("bad") == 2
    assert content_date("SG01M9579X1WPEJZB7N5B3CXPZAX").year == 2026
    assert content_date("SG-not-an-id") is None and content_date(None) is None
