"""Bilingual text (issue 12): catalogs complete and fresh, official terms, language choice in CLI and web."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from synthguard import i18n
from synthguard.errors import CorruptMediaError, ValidationError

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "synthguard" / "locale"
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*(?:[:!][^}]*)?\}|%\([a-z_]+\)s")


def _catalog(path: Path, locale: str | None = None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _ids(cat) -> set[str]:
    return {m.id for m in cat if m.id}


def test_catalog_template_is_fresh(tmp_path):
    """Fails when code or templates gained or lost a marked string and `make i18n` was not run."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import i18n as tool  # scripts/i18n.py
    finally:
        sys.path.pop(0)
    fresh = tmp_path / "fresh.pot"
    tool.extract(fresh)
    committed, now = _ids(_catalog(LOCALE / "synthguard.pot")), _ids(_catalog(fresh))
    assert now == committed, f"stale catalog: new {sorted(now - committed)[:5]}, gone {sorted(committed - now)[:5]}"


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    pot = _catalog(LOCALE / "synthguard.pot")
    zh = {m.id: m for m in _catalog(LOCALE / "zh_CN" / "LC_MESSAGES" / "synthguard.po", "zh_CN") if m.id}
    missing = sorted(i for i in _ids(pot) if i not in zh or not zh[i].string or zh[i].fuzzy)
    assert not missing, f"untranslated (zh_CN): {missing[:10]}"
    for mid in _ids(pot):
        assert sorted(PLACEHOLDER.findall(mid)) == sorted(PLACEHOLDER.findall(zh[mid].string)), mid
        assert re.search(r"[\u4e00-\u9fff]", zh[mid].string), f"not Chinese: {zh[mid].string!r}"


def test_official_terms_follow_the_glossary():
    terms = yaml.safe_load((LOCALE / "glossary.yaml").read_text(encoding="utf-8"))["terms"]
    assert all(t["en"] and t["zh"] and t["source"] for t in terms)
    zh = _catalog(LOCALE / "zh_CN" / "LC_MESSAGES" / "synthguard.po", "zh_CN")
    for m in zh:
        if not m.id:
            continue
        for t in terms:
            if re.search(r"\b" + re.escape(t["en"]), m.id, re.IGNORECASE):
                assert t["zh"] in m.string, f"{t['en']!r} must be {t['zh']!r} ({t['source']}) in: {m.string}"


@pytest.mark.parametrize(("tag", "lang"), [("zh-CN", "zh_CN"), ("zh_CN.UTF-8", "zh_CN"), ("zh-Hans", "zh_CN"),
                                           ("zh-TW", None), ("en-US", "en"), ("C", "en"), ("fr", None), ("", None)])
def test_normalize(tag, lang):
    assert i18n.normalize(tag) == lang


def test_resolution_order():
    env = {"SYNTHGUARD_LANG": "zh_CN", "LANG": "en_US.UTF-8"}
    assert i18n.resolve("en", environ=env) == "en"  # --lang wins
    assert i18n.resolve(None, environ=env) == "zh_CN"
    assert i18n.resolve(None, setting="zh_CN", environ={"LANG": "en_US.UTF-8"}) == "zh_CN"
    assert i18n.resolve(None, environ={"LANG": "zh_CN.UTF-8"}) == "zh_CN"  # the system locale
    assert i18n.resolve(None, environ={"LANG": "de_DE.UTF-8"}) == "en"
    with pytest.raises(Exception, match="unsupported language"):
        i18n.resolve("klingon", environ={})


@pytest.mark.parametrize(("header", "lang"), [("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"), ("en-GB,zh;q=0.5", "en"),
                                              ("fr, zh;q=0.3", "zh_CN"), ("zh;q=0, en", "en"), (None, "en"),
                                              ("garbage;;;q=x", "en")])
def test_accept_language(header, lang):
    assert i18n.negotiate(header) == lang


def test_errors_render_in_chinese_and_keep_the_english_contract():
    err = CorruptMediaError("the file is empty")
    text = err.diagnostics("zh_CN")
    assert "处理建议" in text and "文件已损坏" in text
    assert err.to_dict()["hint"].startswith("The file is damaged")  # machine contract stays English by default
    assert "What to do:" in err.diagnostics("en")
    v = ValidationError("payload has {n} bytes, not 8", values={"n": 3})
    assert v.message == "payload has 3 bytes, not 8"  # templates are filled for every language


def test_locale_formatting():
    from datetime import datetime

    assert i18n.format_number(1234567.5, "en") == "1,234,567.5"
    assert "2026年" in i18n.format_datetime(datetime(2026, 11, 22, 9, 30), "zh_CN")
    assert "¥" in i18n.format_currency(4300000, "CNY", "zh_CN")


def test_compiled_catalog_loads(tmp_path):
    from babel.messages.mofile import read_mo, write_mo

    cat = _catalog(LOCALE / "zh_CN" / "LC_MESSAGES" / "synthguard.po", "zh_CN")
    mo = tmp_path / "synthguard.mo"
    with mo.open("wb") as fh:
        write_mo(fh, cat)
    with mo.open("rb") as fh:
        assert read_mo(fh).get("What to do:").string == "处理建议："


def test_cli_lang_option(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHGUARD_HOME", str(tmp_path))
    monkeypatch.delenv("SYNTHGUARD_LANG", raising=False)
    run = [sys.executable, "-m", "synthguard"]
    zh = subprocess.run([*run, "--lang", "zh_CN", "inspect", str(tmp_path / "nope.jpg")], capture_output=True,
                        text=True)
    assert zh.returncode == 2 and "错误：" in zh.stderr and "处理建议：" in zh.stderr
    en = subprocess.run([*run, "inspect", str(tmp_path / "nope.jpg"), "--lang=en"], capture_output=True, text=True)
    assert en.returncode == 2 and "error:" in en.stderr and "What to do:" in en.stderr
    bad = subprocess.run([*run, "--lang", "xx", "inspect", "x"], capture_output=True, text=True)
    assert bad.returncode == 3 and "unsupported language" in bad.stderr


def test_web_pages_follow_the_request_language(sg):
    from fastapi.testclient import TestClient

    from synthguard.server import create_app

    with TestClient(create_app(sg.settings, sg=sg)) as client:
        zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text and "谁可以做什么" in zh.text
        assert zh.headers["content-language"] == "zh-CN"
        en = client.get("/inspect")
        assert '<html lang="en">' in en.text and "Read a file" in en.text
        switched = client.get("/?lang=zh_CN")  # the switcher link remembers the choice in a cookie
        assert "sg_lang=zh_CN" in switched.headers.get("set-cookie", "")
        assert '<html lang="zh-CN">' in client.get("/inspect").text  # the page title's translation: issue 22 msgids
        err = client.post("/v1/inspect", files={"file": ("x.jpg", b"\xff\xd8\xff garbage", "image/jpeg")},
                          headers={"Accept-Language": "zh-CN"})
        assert err.status_code >= 400 and re.search(r"[\u4e00-\u9fff]", err.json()["hint"])


def test_chinese_pdf_report_renders_without_tofu(tmp_path):
    """The legal memo in Chinese: rasterised by poppler it is not blank, and its text layer reads back in Chinese
    with every CJK character drawn from the embedded font (no stand-ins, no missing glyphs)."""
    import shutil

    import numpy as np
    from PIL import Image

    from synthguard.law import assess, load_incident
    from synthguard.law.pdf import render_pdf

    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail("poppler-utils is missing: apt-get install poppler-utils (make test installs it)")
    memo = assess(load_incident(ROOT / "src" / "synthguard" / "law" / "examples" / "beijing_voice_2024.yaml"),
                  lang="zh")
    pdf = tmp_path / "memo.pdf"
    pdf.write_bytes(render_pdf(memo))
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True, timeout=120)
    page = np.asarray(Image.open(next(tmp_path.glob("p*.png"))).convert("L"))
    assert (page < 128).mean() > 0.01, "the first page is blank"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    assert len(cjk) > 200, "the text layer has (almost) no Chinese"
    assert "U+" not in text  # the renderer's stand-in for a glyph the font lacks
    assert "\ufffd" not in text and "□" not in text


def test_messages_passed_to_the_gettext_functions_are_literals():
    """Issue 17: what an extractor makes of ``_(variable)`` differs between Babel releases, so the catalog would
    depend on the day's package versions. Dynamic texts go through ``i18n.translate``, which is not a keyword."""
    import ast

    keywords = {"_": 1, "N_": 1, "gettext": 1, "ngettext": 2}
    bad = []
    for f in sorted((ROOT / "src" / "synthguard").rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords:
                if f.name == "i18n.py" and node.func.id == "_":
                    continue  # translate() itself
                for arg in node.args[:keywords[node.func.id]]:
                    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                        bad.append(f"{f.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert bad == [], "use i18n.translate() for texts that are not literals:\n" + "\n".join(bad)
