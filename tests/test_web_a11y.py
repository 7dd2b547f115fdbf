"""Issue 22, the pages in a browser: every public page, and the signed-in pages (home, review queue and case,
consent forms), in both languages at 1280 px and 390 px wide, with a screenshot each (tests/artifacts/), and axe-core
finding no serious or critical accessibility violation.  ``SYNTHGUARD_DOCS_SCREENSHOTS=1`` also writes the four
shots the docs embed to docs/screenshots/ (viewport only, 256 colours: small PNGs).

Headless Debian chromium through Playwright (never ``playwright install``); axe-core from npm (``npm ci`` with
the repository's package.json puts it in node_modules/)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from synthguard.server import create_app
from tests.conftest import image_bytes, live_server

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = ("/", "/inspect", "/check", "/report", "/process", "/complaints/status", "/signin", "/consent",
         "/no/such/page")
DOCS = ROOT / "docs" / "screenshots"  # the four shots the docs embed (SYNTHGUARD_DOCS_SCREENSHOTS=1)
WRITE_DOCS = os.environ.get("SYNTHGUARD_DOCS_SCREENSHOTS") == "1"  # read at import: the fixtures clear SYNTHGUARD_*
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_template):
    import shutil

    from synthguard.config import Settings
    from synthguard.core import SynthGuard

    home = tmp_path_factory.mktemp("web")
    shutil.copytree(keys_template, home / "keys")
    settings = Settings.load(home=home)
    sg = SynthGuard.open(settings)
    with live_server(create_app(settings, sg=sg)) as base:
        yield base, sg
    sg.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    if not AXE.exists():
        pytest.skip("axe-core not installed (npm ci)")
    sync = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _axe(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))")
    return [v for v in json.loads(result)["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_every_page_is_accessible_and_captured(server, browser, lang, device):
    base, _ = server
    ctx = browser.new_context(viewport={"width": WIDTHS[device], "height": 900},
                              locale="zh-CN" if lang == "zh_CN" else "en-US")
    page = ctx.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    if not (ARTIFACTS / ".gitignore").exists():
        (ARTIFACTS / ".gitignore").write_text("*\n")
    problems = {}
    for path in PAGES:
        page.goto(f"{base}{path}?lang={lang}")
        assert page.get_attribute("html", "lang") == lang.replace("_", "-"), path
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[device] + 1, f"{path} scrolls sideways"
        name = path.strip("/").replace("/", "_") or "home"
        page.screenshot(path=str(ARTIFACTS / f"web-{name}-{lang}-{device}.png"), full_page=True)
        bad = _axe(page)
        if bad:
            problems[path] = [(v["id"], v["impact"], len(v["nodes"])) for v in bad]
    ctx.close()
    assert not problems, problems


def test_inspect_result_page_is_accessible(server, browser, tmp_path):
    base, sg = server
    f = tmp_path / "upload.png"
    f.write_bytes(image_bytes("PNG", size=(480, 320)))
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(f"{base}/inspect")
    page.set_input_files("#file", str(f))
    page.click("button[type=submit]")
    page.wait_for_selector(".verdict")
    page.screenshot(path=str(ARTIFACTS / "web-inspect-result-en-phone.png"), full_page=True)
    assert page.inner_text("#verdict-headline") == "No AI-generation label found"
    assert not _axe(page)
    page.close()


def _docs_shot(page, name: str) -> None:
    """A small PNG for the docs (viewport, 256 colours), only when asked: the committed ones change rarely."""
    if not WRITE_DOCS:
        return
    import io

    from PIL import Image

    DOCS.mkdir(parents=True, exist_ok=True)
    img = Image.open(io.BytesIO(page.screenshot(full_page=False))).convert("RGB").quantize(256)
    img.save(DOCS / f"{name}.png", optimize=True)
    assert (DOCS / f"{name}.png").stat().st_size < 300_000


@pytest.fixture(scope="module")
def signed_in(server):
    """An admin of tenant a11y (the console and the consent pages) with a case it claimed, and a reviewer."""
    from synthguard.auth import Role, create_token
    from synthguard.media import Media
    from tests.conftest import kodak

    _, sg = server
    admin, info = create_token(sg.db, Role.ADMIN, "a11y", "ada")
    sg.moderation.register("a11y", "post-1", Media.from_bytes(kodak("kodim23.png").read_bytes(), "p.png"),
                           uploader="u-1", actor="platform:test")
    filed = sg.moderation.submit("a11y", {"kind": "intimate_deepfake", "location": "post-1", "name": "Jane Roe",
                                          "email": "jane@example.org", "signature": "Jane Roe", "good_faith": True,
                                          "description": "A deepfake of me."})
    case = sg.moderation.claim("a11y", f"admin:{info['id']}:ada")
    return admin, case["id"], filed


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_signed_in_pages_are_accessible_and_captured(server, browser, signed_in, lang, device):
    base, _ = server
    admin, case_id, _ = signed_in
    ctx = browser.new_context(viewport={"width": WIDTHS[device], "height": 900},
                              locale="zh-CN" if lang == "zh_CN" else "en-US")
    page = ctx.new_page()
    page.goto(f"{base}/signin?lang={lang}")
    if (lang, device) == ("en", "phone"):
        _docs_shot(page, "signin-en-390")
    page.fill("#token", admin)
    page.click("#login")
    page.wait_for_selector("#queue")
    problems = {}
    for path, name in (("/", "home-signed-in"), ("/console", "console"), (f"/console/cases/{case_id}", "case"),
                       ("/consent", "consent-forms")):
        page.goto(f"{base}{path}?lang={lang}")
        assert page.get_attribute("html", "lang") == lang.replace("_", "-")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[device] + 1, f"{path} scrolls sideways"
        assert page.locator("#signout").count() == 1 and page.locator("input[name=token]").count() == 0
        page.screenshot(path=str(ARTIFACTS / f"web-{name}-{lang}-{device}.png"), full_page=True)
        if (lang, device, name) in (("en", "desktop", "case"), ("zh_CN", "phone", "consent-forms")):
            _docs_shot(page, f"{name}-{lang}-{WIDTHS[device]}")
        bad = _axe(page)
        if bad:
            problems[path] = [(v["id"], v["impact"], len(v["nodes"])) for v in bad]
    ctx.close()
    assert not problems, problems


def test_docs_home_shot(server, browser):
    """The anonymous home page with its sign-in links by role (the fourth docs screenshot)."""
    base, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/?lang=en")
    assert page.locator("#your-pages a[href='/signin?next=/console']").count() == 1
    assert page.locator("#your-pages a[href='/signin?next=/consent']").count() == 1
    _docs_shot(page, "home-en-1280")
    assert not _axe(page)
    page.close()
