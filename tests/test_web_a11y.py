"""Issue 22, the pages in a browser: every public page in both languages at 1280 px and 390 px wide, with a
screenshot each (tests/artifacts/), and axe-core finding no serious or critical accessibility violation.

Headless Debian chromium through Playwright (never ``playwright install``); axe-core from npm (``npm ci`` with
the repository's package.json puts it in node_modules/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthguard.server import create_app
from tests.conftest import chromium, home_settings, image_bytes, live_server

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PAGES = ("/", "/inspect", "/check", "/report", "/process", "/complaints/status", "/console/login", "/consent",
         "/no/such/page")
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_template):
    from synthguard.core import SynthGuard

    settings = home_settings(tmp_path_factory.mktemp("web"), keys_template)
    sg = SynthGuard.open(settings)
    with live_server(create_app(settings, sg=sg)) as url:
        yield url, sg
    sg.close()


@pytest.fixture(scope="module")
def browser():
    if not AXE.exists():
        pytest.skip("axe-core not installed (npm ci)")
    with chromium() as b:
        yield b


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
