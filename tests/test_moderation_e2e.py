"""End to end in headless Chromium (Debian ``chromium`` + Playwright, never ``playwright install``):

a victim files a takedown -> a reviewer sees it with a blurred preview -> removes it -> a re-upload of a
JPEG-recompressed copy is blocked -> the complainant's status page shows the outcome (US-02, US-04, CC-12,
DS-12).  Screenshots go to tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from synthguard.auth import Role, create_token
from synthguard.server import create_app
from tests.conftest import CHROMIUM, chromium, kodak, live_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


@pytest.fixture
def server(settings, sg):
    with live_server(create_app(settings, sg=sg)) as url:
        yield url


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    gitignore = ARTIFACTS / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n")
    page.screenshot(path=str(ARTIFACTS / f"moderation-{name}.png"), full_page=True)


def test_takedown_journey_in_the_browser(server, browser, sg):
    platform = create_token(sg.db, Role.PLATFORM, "acme", "platform")[0]
    reviewer = create_token(sg.db, Role.REVIEWER, "acme", "alice")[0]
    api = httpx.Client(base_url=server, timeout=30)
    original = kodak("kodim23.png").read_bytes()
    r = api.post("/v1/moderation/content", headers={"Authorization": f"Bearer {platform}"},
                 data={"ref": "post-1", "uploader": "u-7"}, files={"file": ("p.png", original, "image/png")})
    assert r.status_code == 201, r.text

    # 1. the victim files a takedown, without an account
    victim = browser.new_context().new_page()
    victim.goto(f"{server}/report?tenant=acme&location={server}/c/acme/post-1")
    victim.select_option("#kind", "intimate_deepfake")
    victim.fill("#description", "A sexual deepfake of me, made from my profile photo.")
    victim.fill("#name", "Jane Roe")
    victim.fill("#email", "jane@example.org")
    victim.fill("#signature", "Jane Roe")
    victim.check("#good_faith")
    shot(victim, "1-report-form")
    victim.click("#submit")
    ticket, secret = victim.inner_text("#ticket").strip(), victim.inner_text("#secret").strip()
    assert ticket.startswith("T-") and secret
    shot(victim, "2-receipt")

    # 2. a reviewer signs in and sees it at the top of the queue with its time left
    rev = browser.new_context().new_page()
    rev.goto(f"{server}/console/login")
    rev.fill("#token", reviewer)
    rev.click("#login")
    assert ticket in rev.inner_text("#queue") and "left" in rev.inner_text("#queue")
    shot(rev, "3-queue")
    rev.click(f"text={ticket}")
    rev.click("#claim")
    preview = rev.locator("#preview")
    assert "blurred" in (preview.get_attribute("class") or "")
    assert "blur" in rev.eval_on_selector("#media", "e => getComputedStyle(e).filter")
    shot(rev, "4-case-blurred")
    rev.click("#reveal")
    rev.wait_for_function("() => !document.getElementById('preview').classList.contains('blurred')")
    shot(rev, "5-case-revealed")

    # 3. removes it with a reason code
    rev.select_option("#act-remove select[name=reason_code]", "ncii")
    rev.click("#do-remove")
    assert rev.inner_text("#content-status") == "removed"
    history = rev.inner_text("#history")
    assert "reveal" in history and "decide" in history
    shot(rev, "6-removed")

    # 4. a JPEG-recompressed copy is blocked at upload and flagged on the public check page
    buf = io.BytesIO()
    Image.open(kodak("kodim23.png")).convert("RGB").save(buf, "JPEG", quality=70)
    r = api.post("/v1/moderation/content", headers={"Authorization": f"Bearer {platform}"},
                 data={"ref": "post-2"}, files={"file": ("again.jpg", buf.getvalue(), "image/jpeg")})
    assert r.status_code == 403 and r.json()["error"] == "UploadBlockedError"
    rev.reload()
    assert "reupload_blocked" in rev.inner_text("#history")  # on the removal case's record (CC-12)
    shot(rev, "7-reupload-blocked")

    # 5. the complainant's status page shows the outcome
    victim.goto(f"{server}/complaints/status")
    victim.fill("#ticket", ticket)
    victim.fill("#secret", secret)
    victim.click("#show")
    assert victim.inner_text("#state") == "actioned"
    assert victim.inner_text("#decision").startswith("remove")
    shot(victim, "8-status")
