"""Issue 22: the complaint and review journey with the keyboard only (WCAG 2.1.1 Keyboard, 2.4.7 Focus Visible).

A victim files a takedown, then a reviewer signs in, claims the case and decides it, in headless Debian Chromium
through Playwright, pressing only Tab / Shift+Tab / Enter / Space to move and act (text is typed into the focused
field, a select's option is chosen with the arrow keys of the focused select).  Every focus stop must show a
visible focus indicator; every step must succeed.  Screenshots go to tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

from synthguard.auth import Role, create_token
from synthguard.media import Media
from tests.conftest import kodak
from tests.test_web_a11y import ARTIFACTS, browser, server  # noqa: F401  (module fixtures: uvicorn + chromium)

MAX_STOPS = 60
FOCUS = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name') || '', text: (e.innerText || '').trim(),
          visible: e.matches(':focus-visible'), outline: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0,
          shadow: s.boxShadow}; }"""


def _focused(page) -> dict:
    return page.evaluate(FOCUS)


def _assert_visible_focus(f: dict) -> None:
    assert f["tag"] != "body", "focus was lost (on <body>)"
    shown = f["visible"] and ((f["outline"] != "none" and f["width"] >= 2) or f["shadow"] not in ("", "none"))
    assert shown, f"no visible focus indicator on {f}"


def tab_to(page, match, *, back: bool = False) -> dict:
    """Press Tab (Shift+Tab when ``back``) until the focused element satisfies ``match``; every stop on the way
    must show its focus.  Returns the element's description."""
    for _ in range(MAX_STOPS):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        f = _focused(page)
        _assert_visible_focus(f)
        if match(f):
            return f
    raise AssertionError(f"{MAX_STOPS} Tab stops without reaching the target; last: {f}")


def by_id(i: str):
    return lambda f: f["id"] == i


def choose(page, value: str) -> None:
    """Choose an option of the focused select with the arrow keys."""
    for _ in range(40):
        if page.evaluate("() => document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {value!r} not reached")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"keyboard-{name}.png"), full_page=True)


def test_complaint_and_review_with_the_keyboard_only(server, browser):  # noqa: F811
    base, sg = server
    reviewer = create_token(sg.db, Role.REVIEWER, "kb", "kim")[0]
    create_token(sg.db, Role.PLATFORM, "kb", "platform")
    sg.moderation.register("kb", "post-9", Media.from_bytes(kodak("kodim23.png").read_bytes(), "p.png"),
                           uploader="u-7", actor="platform:test")

    # 1. the victim: skip link, then every field by Tab, the statement ticked on the way back (Shift+Tab)
    victim = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    victim.goto(f"{base}/report?tenant=kb&location=post-9&lang=en")
    f = tab_to(victim, lambda f: f["tag"] == "a")
    assert "Skip" in f["text"]  # the first stop is the skip link, and it is visible when focused
    victim.keyboard.press("Enter")
    tab_to(victim, by_id("kind"))
    choose(victim, "intimate_deepfake")
    tab_to(victim, by_id("description"))
    victim.keyboard.type("A sexual deepfake of me, made from my profile photo.")
    tab_to(victim, by_id("name"))
    victim.keyboard.type("Jane Roe")
    tab_to(victim, by_id("email"))
    victim.keyboard.type("jane@example.org")
    tab_to(victim, by_id("signature"))
    victim.keyboard.type("Jane Roe")
    tab_to(victim, by_id("submit"))
    tab_to(victim, by_id("good_faith"), back=True)
    victim.keyboard.press("Space")
    assert victim.is_checked("#good_faith")
    shot(victim, "1-report")
    tab_to(victim, by_id("submit"))
    victim.keyboard.press("Enter")
    victim.wait_for_selector("#ticket")
    ticket = victim.inner_text("#ticket").strip()
    assert ticket.startswith("T-") and victim.inner_text("#secret").strip()
    shot(victim, "2-receipt")

    # 2. the reviewer: sign in from the header link, open the case, claim it, decide it
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/?lang=en")
    tab_to(page, by_id("signin-link"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/signin")
    tab_to(page, by_id("token"))
    page.keyboard.type(reviewer)
    tab_to(page, by_id("login"))
    shot(page, "3-signin")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console")
    assert ticket in page.inner_text("#queue")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == ticket)
    page.keyboard.press("Enter")
    page.wait_for_selector("#claim")
    tab_to(page, by_id("claim"))
    page.keyboard.press("Space")
    page.wait_for_selector("#act-remove")
    assert "kim" in page.inner_text("#case-state")
    tab_to(page, lambda f: f["tag"] == "select" and f["name"] == "reason_code"
           and page.evaluate("() => document.activeElement.closest('form').id") == "act-remove")
    choose(page, "ncii")
    tab_to(page, lambda f: f["tag"] == "input" and f["name"] == "note")
    page.keyboard.type("keyboard-only review")
    tab_to(page, by_id("do-remove"))
    shot(page, "4-decide")
    page.keyboard.press("Space")
    page.wait_for_selector("#decision")
    assert page.inner_text("#content-status") == "removed"
    kinds = page.eval_on_selector_all("#history [data-kind]", "els => els.map(e => e.dataset.kind)")
    assert "claim" in kinds and "decide" in kinds
    shot(page, "5-decided")
    case = sg.moderation.case("kb", ticket)
    assert case["state"] == "actioned" and case["action"] == "remove" and case["reason_code"] == "ncii"

    # 3. sign out from the header, with the keyboard too; the console is then closed
    tab_to(page, by_id("signout"), back=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**/signin?signed_out=1")
    page.goto(f"{base}/console")
    assert "/signin?next=" in page.url
