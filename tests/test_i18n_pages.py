"""Every web page, notice, email and report in Chinese and English (issue 12, pages part).

Pages: the public complaint form, receipt and status pages (DS-12, DSA-04), the published process (DS-12, US-03),
the public check page (LM-13..LM-15 verdicts explained), viewer notices next to an item (LM Art. 6 "is / may be /
suspected to be AI-generated", LM-13..LM-15) and refutation pages (DS-11), the review console (DS-10), consent
pages (DS-15) and the compliance notice (DS-06, DS-22). Each renders in zh_CN and en; the Chinese version carries
none of the English texts the templates mark. Emails go out in the complainant's language (DSA-04, CC-10, CC-11);
regulator reports (DS-10, DS-11) have headings in the report's language while DSA SoR field names and enum values
stay machine values (DSA-11). Browser checks (Debian chromium + Playwright, never ``playwright install``) render
the complaint form and the review console queue in both languages and save screenshots to tests/artifacts/.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.core import SynthGuard
from synthguard.moderation import texts
from synthguard.server import create_app
from synthguard.server.i18n import TEMPLATES, templates
from tests.conftest import chromium, home_settings, image_bytes, live_server

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CJK = re.compile(r"[\u4e00-\u9fff]")
PNG = image_bytes("PNG", size=(160, 120))
MINE = sorted(p.name for p in TEMPLATES.glob("*.html") if p.name.startswith(("mod_", "consent_", "compliance_")))
NCII = {"tenant": "acme", "kind": "intimate_deepfake", "name": "Jane Roe", "email": "jane@example.org",
        "signature": "Jane Roe", "good_faith": True, "location": "post-1", "description": "a fake nude of me"}


# --- helpers ---------------------------------------------------------------------------------------------
class _Text(HTMLParser):
    """The text a person sees: no tags, scripts or styles; attribute texts people read (placeholder, alt)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in ("placeholder", "alt", "title") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    p = _Text()
    p.feed(html)
    return re.sub(r"\s+", " ", " ".join(p.parts))


def marked_strings() -> set[str]:
    """Every plain English text the page templates mark for translation (the ones a Chinese page must not show).
    Placeholder texts and one-word texts (which can equal a data value) are left out."""
    out = set()
    for name in MINE + ["base.html"]:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        for _line, _func, msg in templates.env.extract_translations(source):
            for m in msg if isinstance(msg, tuple) else (msg,):
                if not isinstance(m, str):  # a call with a variable argument: not a marked text
                    continue
                text = re.sub(r"<[^>]+>", "", " ".join(m.split()))
                if m and "%(" not in m and " " in text and len(text) > 6:
                    out.add(text)
    return out


def csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "the form carries no CSRF token"
    return m.group(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory, keys_template):
    """One deployment for the module: a tenant with content, cases, a refutation and a published notice."""
    home = tmp_path_factory.mktemp("i18n-pages")
    settings = home_settings(home, keys_template)
    sg = SynthGuard.open(settings)
    tok = {r: create_token(sg.db, r, "acme", r.value)[0] for r in (Role.PLATFORM, Role.REVIEWER)}
    mod = sg.moderation
    mod.register("acme", "post-1", PNG, uploader="u-7", uploader_email="u7@example.org", declared_ai=True)
    mod.register("acme", "post-2", image_bytes("PNG", size=(96, 64)))
    filed = mod.submit("acme", NCII)  # English (the library default): its emails stay English
    rumor = mod.submit("acme", {"tenant": "acme", "kind": "false_information", "location": "post-2",
                                "description": "a fake flood photo"})
    case = next(c for c in mod.queue("acme") if c["ticket"] == rumor["ticket"])
    mod.claim("acme", "reviewer:1:r", case["id"])
    out = mod.act("acme", case["id"], "reviewer:1:r", "refute", "false_information",
                  refutation={"title": "No dam burst", "text": "The dam is intact (water authority, 2026-11-20)."})
    sg.add_user("u-1")
    sg.verify_user("u-1", "mobile", identifier="+86 138 0013 8000", reference="tx-1")
    labelled = home / "labelled.png"
    sg.label(image_bytes("PNG", size=(256, 192)), user="u-1", producer="ACME", output=labelled)
    sg.compliance.terms.publish("first_use_notice", "1", "Outputs of this service are labelled.", actor="t")
    sg.compliance.terms.publish("service_agreement", "1", "Agreement text.", actor="t")
    yield {"sg": sg, "settings": settings, "tokens": tok, "filed": filed, "refuted": out, "labelled": labelled,
           "slug": out["effects"]["refutation"]}
    sg.close()


@pytest.fixture(scope="module")
def client(world):
    with TestClient(create_app(world["settings"], sg=world["sg"])) as c:
        yield c


def login(client: TestClient, token: str) -> None:
    from tests.web_session import signin

    r = signin(client, token, "/console")
    assert r.status_code == 303, r.text


def pages(client: TestClient, world: dict, lang: str) -> dict[str, str]:
    """Every page route (GET and the form results) rendered in ``lang`` via ?lang= (remembered in the cookie)."""
    client.cookies.clear()
    h = {"Accept-Language": "en"}  # ?lang= and then the cookie must win over the browser's preference
    out = {}
    for path in ("/", "/inspect", "/check", "/report", "/process", "/complaints/status", "/signin",
                 "/consent", "/compliance/notice/default", f"/refutations/{world['slug']}", "/c/acme/post-1",
                 "/c/acme/post-2", "/refutations/R-000000000000"):
        r = client.get(path + ("&" if "?" in path else "?") + f"lang={lang}", headers=h)
        out[path] = r
    form = out["/report"].text
    out["POST /report"] = client.post("/report", headers=h, data={
        "csrf": csrf(form), "tenant": "acme", "kind": "unlabeled_ai", "location": "post-2"})
    out["POST /report (invalid)"] = client.post("/report", headers=h, data={
        "csrf": csrf(form), "tenant": "acme", "kind": "intimate_deepfake", "location": "post-2"})
    filed = world["filed"]
    out["POST /complaints/status"] = client.post("/complaints/status", headers=h, data={
        "csrf": csrf(out["/complaints/status"].text), "ticket": filed["ticket"], "secret": filed["secret"]})
    out["POST /check"] = client.post("/check", headers=h, data={"csrf": csrf(out["/check"].text)},
                                     files={"file": ("x.png", PNG, "image/png")})
    out["POST /check (labelled)"] = client.post("/check", headers=h, data={"csrf": csrf(out["/check"].text)},
                                                files={"file": ("l.png", world["labelled"].read_bytes(), "image/png")})
    out["POST /consent/revoke"] = client.post("/consent/revoke", headers=h, data={"csrf": "bad", "grant_id": "g"})
    login(client, world["tokens"][Role.REVIEWER])
    out["/console"] = client.get("/console", headers=h)
    case = next(c for c in world["sg"].moderation.queue("acme"))
    out["/console/cases"] = client.get(f"/console/cases/{case['id']}", headers=h)
    out["/console/cases (decided)"] = client.get(f"/console/cases/{world['refuted']['id']}", headers=h)
    return out


# --- every page, both languages ---------------------------------------------------------------------------
def test_every_page_renders_in_chinese_without_english_leftovers(client, world):
    english = marked_strings()
    assert len(english) > 80  # the templates really are marked up
    for name, r in pages(client, world, "zh_CN").items():
        assert r.status_code < 500, (name, r.text[:300])
        assert '<html lang="zh-CN">' in r.text, name
        text = visible(r.text)
        assert CJK.search(text), f"{name}: no Chinese on the Chinese page"
        left = sorted(s for s in english if s in text)
        assert not left, f"{name}: English left on the Chinese page: {left[:5]}"


def test_every_page_renders_in_english(client, world):
    for name, r in pages(client, world, "en").items():
        assert r.status_code < 500, (name, r.text[:300])
        assert '<html lang="en">' in r.text, name
        text = visible(r.text).replace("中文", "")  # the language switcher names Chinese in Chinese
        assert not CJK.search(text), f"{name}: Chinese on the English page: {CJK.findall(text)[:10]}"


def test_chinese_pages_say_the_right_things(client, world):
    zh = {k: visible(r.text) for k, r in pages(client, world, "zh_CN").items()}
    assert "举报内容" in zh["/report"] and "我的面部或肖像被伪造" in zh["/report"]  # policy titles too
    assert "（删除）" in zh["/report"]  # takedown types, glossary term 删除 (CC Art. 1195)
    assert "已收到举报" in zh["POST /report"] and "年" in zh["POST /report"]  # deadline in the Chinese format
    assert "工单号" in zh["POST /complaints/status"] and "待审核" in zh["POST /complaints/status"]
    assert "不存在侵权行为的声明" in zh["/process"] and "48 小时" in zh["/process"]
    assert "辟谣：" in zh[f"/refutations/{world['slug']}"] and "No dam burst" in zh[f"/refutations/{world['slug']}"]
    assert "可能为AI生成" in zh["/c/acme/post-1"]  # LM Art. 6(1)(2) notice from policies/notices.yaml
    assert "发布者声明该内容含有人工智能生成合成内容" in zh["/c/acme/post-1"]
    assert "辟谣：" in zh["/c/acme/post-2"]
    assert "审核队列" in zh["/console"] and "剩余" in zh["/console"]  # time left, translated in Python
    assert "处理记录" in zh["/console/cases (decided)"] and "辟谣" in zh["/console/cases (decided)"]
    assert "人脸与声音的同意" in zh["/consent"] and "单独同意" in zh["/consent"]
    assert "首次使用提示" in zh["/compliance/notice/default"]
    assert "该文件是人工智能生成的吗？" in zh["POST /check"] and "未发现人工智能标识" in zh["POST /check"]
    # LM Art. 6(1)(1): the notice of policies/notices.yaml in the reader's language (LM-13)
    assert "该内容含有人工智能生成合成标识，为人工智能生成合成内容。" in zh["POST /check (labelled)"]
    assert "错误" in zh["POST /report (invalid)"] or CJK.search(zh["POST /report (invalid)"].split("举报内容")[-1])
    en = {k: visible(r.text) for k, r in pages(client, world, "en").items()}
    assert "Report content" in en["/report"] and "(takedown)" in en["/report"]
    assert "Review queue" in en["/console"] and "left" in en["/console"]
    assert "Possibly AI-generated" in en["/c/acme/post-1"]
    assert "This content carries an AI-generation label: it is AI-generated." in en["POST /check (labelled)"]
    assert "Nov" in en["POST /report"] or re.search(r"[A-Z][a-z]+ \d{1,2}, 20\d\d", en["POST /report"])


def test_page_errors_follow_the_page_language(client, world):
    r = pages(client, world, "zh_CN")["POST /report (invalid)"]
    assert r.status_code == 400  # ValidationError: a takedown needs the identity fields
    hint = re.search(r'<div class="error".*?</div>', r.text, re.S)
    assert hint and CJK.search(visible(hint.group(0))), "the form's error explanation must be in Chinese"


def test_traditional_chinese_readers_get_english_not_simplified(client):
    client.cookies.clear()
    r = client.get("/report", headers={"Accept-Language": "zh-TW,en;q=0.5"})
    assert '<html lang="en">' in r.text and "Report content" in r.text
    r = client.get("/report", headers={"Accept-Language": "zh-HK, zh-CN;q=0.5"})
    assert '<html lang="zh-CN">' in r.text  # Simplified was asked for too, with a lower weight


def test_compliance_report_template_names_its_language():
    from synthguard.compliance.report import render_html
    from synthguard.documents import Heading

    assert '<html lang="zh-CN">' in render_html([Heading("合规报告")], lang="zh")
    assert '<html lang="zh-CN">' in render_html([Heading("合规报告")], lang="zh_CN")
    assert '<html lang="en">' in render_html([Heading("Compliance report")])


# --- notices, emails, reports -----------------------------------------------------------------------------
def test_emails_go_out_in_the_complainants_language(world):
    """A complaint filed on a Chinese page gets Chinese emails, also for the later decision a reviewer working
    in English makes (the language is kept on the case); an English complaint stays English (DSA-04)."""
    from synthguard import i18n

    sg = world["sg"]
    token = i18n.use("zh_CN")
    try:
        t = sg.moderation.submit("acme", NCII | {"location": "post-1"})
    finally:
        i18n.reset(token)
    box = [m for m in sg.moderation.outbox("acme") if t["ticket"] in m["subject"] or t["ticket"] in m["body"]]
    assert box and all(CJK.search(m["subject"]) for m in box)
    received = next(m for m in box if m["template"] == "received")
    assert "我们已收到您的举报" in received["subject"] and "未经我同意的私密或色情深度伪造内容" in received["body"]
    assert "年" in received["body"]  # the deadline in the Chinese date format
    case = next(c for c in sg.moderation.queue("acme") if c["ticket"] == t["ticket"])
    sg.moderation.claim("acme", "reviewer:1:r", case["id"])
    sg.moderation.act("acme", case["id"], "reviewer:1:r", "remove", "ncii")  # the reviewer's context: English
    decision = [m for m in sg.moderation.outbox("acme") if m["template"] == "decision" and t["ticket"] in m["body"]]
    assert decision and all("删除" in m["body"] and "申诉" in m["body"] for m in decision)
    english = [m for m in sg.moderation.outbox("acme") if world["filed"]["ticket"] in m["subject"]]
    assert english and all(not CJK.search(m["subject"] + m["body"]) for m in english)


def test_counter_notice_and_restoration_emails_in_chinese(world, client):
    """CC-11: the counter-notice and the restoration reach a Chinese complainant in Chinese, with the date of
    restoration in the Chinese format, although the platform and the sweeper run without a language."""
    from datetime import timedelta

    from synthguard import i18n

    mod = world["sg"].moderation
    mod.register("acme", "post-cn", image_bytes("PNG", size=(80, 60)))
    token = i18n.use("zh_CN")
    try:
        t = mod.submit("acme", NCII | {"location": "post-cn"})
    finally:
        i18n.reset(token)
    case = next(c for c in mod.queue("acme") if c["ticket"] == t["ticket"])
    mod.claim("acme", "reviewer:1:r", case["id"])
    mod.act("acme", case["id"], "reviewer:1:r", "remove", "ncii")
    mod.counter_notice("acme", case["id"], {"statement": "It is my own photo.", "name": "U. Loader"},
                       actor="platform")
    client.cookies.clear()
    form = client.get("/complaints/status?lang=zh_CN").text
    page = client.post("/complaints/status", data={"csrf": csrf(form), "ticket": t["ticket"], "secret": t["secret"]})
    text = visible(page.text)
    assert "不存在侵权行为的声明" in text and "上传证明" in text and "已申诉" in text  # CC-11 on the status page
    assert not sorted(s for s in marked_strings() if s in text)
    clock = mod.clock
    mod.clock = lambda: clock() + timedelta(days=16)
    try:
        assert t["ticket"] in mod.sweep("acme")["restored"]
    finally:
        mod.clock = clock
    box = {m["template"]: m for m in mod.outbox("acme") if t["ticket"] in m["subject"] + m["body"]}
    assert "上传者对通知提出异议" in box["counter_notice"]["subject"]
    assert "《民法典》第一千一百九十六条" in box["counter_notice"]["body"] and "年" in box["counter_notice"]["body"]
    assert "已恢复" in box["restored"]["subject"] and "不存在侵权行为的声明成立" in box["restored"]["body"]


def test_reports_follow_the_report_language_and_keep_machine_values(world):
    from synthguard.moderation.reports import render

    period = world["sg"].moderation.queue("acme")[0]["opened_at"][:7]
    mod = world["sg"].moderation
    zh, en = mod.report("acme", period, lang="zh_CN"), mod.report("acme", period, lang="en")
    html, _mime = render(zh, "html", lang="zh_CN")
    assert '<html lang="zh-CN">' in html and "内容审核报告" in html and "辟谣信息" in html
    assert "Moderation report" in render(en, "html", lang="en")[0]
    head_zh = next(csv.reader(io.StringIO(render(zh, "csv", lang="zh_CN")[0])))
    head_en = next(csv.reader(io.StringIO(render(en, "csv", lang="en")[0])))
    assert head_en[0] == "ticket" and head_zh[0] == "工单号" and len(head_zh) == len(head_en)
    sor_zh, sor_en = (json.loads(render(r, "dsa-sor", lang=lang)[0])["statements"][0]
                      for r, lang in ((zh, "zh_CN"), (en, "en")))
    assert sor_zh.keys() == sor_en.keys()  # Transparency Database field names never change (DSA-11)
    for k, v in sor_en.items():
        if isinstance(v, str) and (v.isupper() or k in ("puid", "content_date", "application_date")):
            assert sor_zh[k] == v, k  # enum values and ids stay machine values
    assert CJK.search(sor_zh["decision_facts"]) and not CJK.search(sor_en["decision_facts"])
    assert json.loads(render(zh, "cac", lang="zh_CN")[0])["report"].startswith("向监管部门报送")
    pdf, _mime = render(zh, "pdf", lang="zh_CN")
    assert pdf[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert "内容审核报告" in text and "处置记录" in text


def test_api_report_follows_the_request_language(client, world):
    client.cookies.clear()  # a page's remembered language (sg_lang) would win over Accept-Language
    period = world["sg"].moderation.queue("acme")[0]["opened_at"][:7]
    auth = {"Authorization": f"Bearer {world['tokens'][Role.PLATFORM]}"}
    url = f"/v1/moderation/report?period={period}&format=html"
    zh = client.get(url, headers=auth | {"Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text and "按类别统计的处置措施" in zh.text
    en = client.get(url, headers=auth | {"Accept-Language": "en-US"})
    assert '<html lang="en">' in en.text and "Actions by category" in en.text and not CJK.search(
        en.text.split("<body>")[0])
    sor = client.get(f"/v1/moderation/report?period={period}&format=dsa-sor", headers=auth | {
        "Accept-Language": "zh-CN"}).json()["statements"][0]
    assert sor["decision_ground"].startswith("DECISION_GROUND_") and CJK.search(sor["decision_facts"])


def test_cli_report_follows_the_global_lang_option(world, monkeypatch, capsys):
    """`synthguard --lang zh_CN report ...`: the report's language is the CLI's (i18n.current())."""
    from synthguard.cli import main

    monkeypatch.setenv("SYNTHGUARD_HOME", str(world["settings"].home))
    period = world["sg"].moderation.queue("acme")[0]["opened_at"][:7]
    args = ["report", "--period", period, "--format", "csv", "--tenant", "acme"]
    assert main(["--lang", "zh_CN", *args]) == 0
    assert capsys.readouterr().out.startswith("工单号,类别,")
    assert main([*args, "--lang=en"]) == 0
    assert capsys.readouterr().out.startswith("ticket,category,")
    assert main(["--lang", "zh_CN", "report", "--period", period, "--format", "html", "--tenant", "acme"]) == 0
    assert "内容审核报告" in capsys.readouterr().out


def test_scan_notices_keep_both_languages_in_json_and_pick_one_on_pages(world):
    """The scan's actions[].text stays the {zh, en} dict (the JSON contract); pages render one side (LM-13..15)."""
    content = world["sg"].moderation.content("acme", "post-1")
    notice = next(n for n in content["notices"] if n.get("badge"))
    assert set(notice["text"]) == {"zh", "en"} and set(notice["badge"]) == {"zh", "en"}
    assert texts.bilingual(notice["badge"], "zh_CN") == "可能为AI生成"
    assert texts.bilingual(notice["badge"], "en") == "Possibly AI-generated"
    assert texts.bilingual({"en": "only English"}, "zh_CN") == "only English"  # a missing side falls back
    assert texts.bilingual(None) == "" and texts.when(None) == "-" and texts.when("not a date") == "not a date"


def test_every_shipped_policy_text_is_marked_for_translation():
    """A new row in policies/{cn,eu,us}.yaml must be added to moderation/texts.py (and so to the catalogs)."""
    marked = set(texts.POLICY_TEXTS)
    for j in ("cn", "eu", "us"):
        doc = yaml.safe_load((ROOT / "src" / "synthguard" / "policies" / f"{j}.yaml").read_text(encoding="utf-8"))
        found = {doc["title"]} | {t.get("title", k) for k, t in doc["complaint_types"].items()} | {
            r["text"] for r in doc["reason_codes"].values()}
        assert found <= marked, f"{j}: not in moderation/texts.py: {sorted(found - marked)[:5]}"


def test_operator_text_with_a_percent_sign_does_not_break_a_page():
    """Data shown through tr() is translated but never %-formatted (an operator's policy may say "100%")."""
    t = templates.env.from_string("{{ tr(x) }}|{{ display('states', 'nope') }}|{{ display('states', None) }}")
    assert t.render(x="100% synthetic") == "100% synthetic|nope|-"


# --- the browser: the complaint form and the review console in both languages -------------------------------


@pytest.fixture(scope="module")
def server(world):
    with live_server(create_app(world["settings"], sg=world["sg"])) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if not (ARTIFACTS / ".gitignore").exists():
        (ARTIFACTS / ".gitignore").write_text("*\n")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(("locale", "lang"), [("zh-CN", "zh_CN"), ("en-US", "en")])
def test_complaint_form_and_review_console_in_the_browser(server, browser, world, locale, lang):
    """The browser's own language (Accept-Language from the context locale) picks the page language."""
    ctx = browser.new_context(locale=locale)
    page = ctx.new_page()
    page.goto(f"{server}/report?tenant=acme")
    assert page.get_attribute("html", "lang") == lang.replace("_", "-")
    if lang == "zh_CN":
        assert page.inner_text("h1") == "举报内容" and page.inner_text("#submit") == "提交举报"
        assert "我的面部或肖像被伪造" in page.inner_text("#kind")
        assert "Send report" not in page.content() and "What is wrong?" not in page.inner_text("body")
    else:
        assert page.inner_text("h1") == "Report content" and page.inner_text("#submit") == "Send report"
        assert "My face or likeness was forged" in page.inner_text("#kind")
    shot(page, f"complaint_form_{lang}")

    page.goto(f"{server}/console/login")
    page.fill("#token", world["tokens"][Role.REVIEWER])
    page.click("#login")
    page.wait_for_selector("#queue")
    queue = page.inner_text("#queue")
    assert page.get_attribute("html", "lang") == lang.replace("_", "-")
    if lang == "zh_CN":
        assert page.inner_text("h1").startswith("审核队列") and "剩余时间" in queue and "待审核" in queue
        assert "Review queue" not in page.inner_text("body")
    else:
        assert page.inner_text("h1").startswith("Review queue") and "Time left" in queue and "opened" in queue
        assert not CJK.search(page.inner_text("body").replace("中文", ""))
    shot(page, f"review_console_{lang}")

    page.click("#queue .case-row a")
    heading, history = page.inner_text("h1"), page.inner_text("#history")
    if lang == "zh_CN":
        assert heading.startswith("案件 T-") and "处理记录" in page.inner_text("body") and "受理" in history
        assert page.get_attribute("#reveal", "type") and page.inner_text("#reveal") == "显示（将被记录）"
    else:
        assert heading.startswith("Case T-") and "History" in page.inner_text("body") and "open" in history
    shot(page, f"review_case_{lang}")
    ctx.close()


def test_language_switcher_is_remembered_in_the_browser(server, browser):
    ctx = browser.new_context(locale="en-US")
    page = ctx.new_page()
    page.goto(f"{server}/process")
    page.click("a[hreflang=zh-CN]")
    assert page.inner_text("h1") == "我们如何处理举报，以及处理时限"
    page.goto(f"{server}/check")  # no ?lang: the cookie keeps Chinese although the browser asks for English
    assert page.inner_text("h1") == "该文件是人工智能生成的吗？"
    ctx.close()
