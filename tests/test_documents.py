"""The one document renderer (issue 23, step 5): every block kind in Markdown, HTML and PDF, the font chosen for a
document, stand-ins for glyphs the font lacks (GB-03: no tofu boxes), and errors for malformed blocks.  The reports
built on it (law memo, compliance, evidence, moderation) have their own tests."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from PIL import Image as PILImage

from synthguard import documents as d
from synthguard.documents.fonts import BUNDLED, Glyphs, cjk, document_font
from synthguard.documents.themes import THEMES
from synthguard.errors import FontMissingError, SynthGuardError, ValidationError


def png() -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (40, 20), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def sample(theme: str = "report") -> d.Document:
    return d.Document(title="Sample <report>", lang="zh_CN", theme=theme, blocks=[
        d.Heading("样本报告 Sample"), d.Paragraph("Fine print", small=True), d.Heading("Section & more", 2),
        d.Paragraph("中文段落", lang="zh"), d.Note("Careful"), d.Status("fail", "[FAIL] a check"),
        d.KeyValues([("Key", "value <b>")]), d.KeyValues([("Hash", "ab" * 40)], table=True, mono=True),
        d.Table(["Col|1", "Col 2"], [["a|b", "c"], ["d", "e"]]),
        d.BulletList(["PASS one", "FAIL two"], flagged=frozenset({1})),
        d.BarChart("Chart", [d.Bar("x", 3, "3"), d.Bar("y", 0, "0")], (70, 110, 170), id="chart"),
        d.Box([d.Paragraph("Framed")], tone="found"), d.Image(png(), "a red box", width=20), d.PageBreak(),
        d.Heading("After the break", 3)])


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def pages(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def test_markdown_shows_every_block():
    md = d.render_markdown(sample())
    assert md.startswith("# 样本报告 Sample\n\nFine print\n\n## Section & more\n")
    for line in ("> Careful", "**[FAIL] a check**", "- **Key**: value <b>", "| Col\\|1 | Col 2 |", "| a\\|b | c |",
                 "- FAIL two", "- x: 3", "Framed", "### After the break", "---"):
        assert line in md.splitlines(), line
    assert "![a red box](data:image/png;base64," in md


def test_html_is_self_contained_escaped_and_tagged_by_kind():
    html = d.render_html(sample())
    assert '<html lang="zh-CN">' in html and "<title>Sample &lt;report&gt;</title>" in html
    assert "value &lt;b&gt;" in html and "<b>" not in html
    assert '<p lang="zh">中文段落</p>' in html and '<p class="status status-fail">' in html
    assert '<table class="kv mono"><tr><th>Hash</th>' in html and "<dt>Key</dt><dd>value &lt;b&gt;</dd>" in html
    assert "<th>Col|1</th>" in html and '<li class="fail">FAIL two</li>' in html and "<li>PASS one</li>" in html
    assert '<figure id="chart"><svg' in html and '<div class="box found">' in html
    assert 'src="data:image/png;base64,' in html and "<script" not in html and "<link" not in html
    assert "break-after: page" in html


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_pdf_in_every_theme_has_the_text_and_the_page_break(theme):
    pdf = d.render_pdf(sample(theme))
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for piece in ("样本报告", "中文段落", "Careful", "[FAIL] a check", "Key: value <b>", "a|b", "FAIL two", "Chart",
                  "Framed"):
        assert piece in text, piece
    assert pages(pdf) == 2 and "After the break" in text.split("\f")[1]


def test_glyphs_the_font_lacks_become_readable_stand_ins():
    doc = d.Document(title="t", blocks=[d.Paragraph("ok ✓ no ✗ → 😀 AM\u202fUTC")])
    text = pdf_text(d.render_pdf(doc, font=BUNDLED))
    assert "ok [yes] no [no] -> U+1F600 AM UTC" in text
    clean = Glyphs(BUNDLED, "✓ plain")
    assert clean("plain") == "plain" and clean("✓") == "[yes]"


def test_font_covers_the_chinese_or_says_which_characters_are_missing():
    assert cjk("a中b文中") == "中文"
    assert document_font("AI生成 AI-generated") == BUNDLED  # the bundled subset has the label characters
    with pytest.raises(FontMissingError, match="龘"):
        document_font("龘", BUNDLED)  # the operator's font lacks a character: an error, never tofu
    with pytest.raises(FontMissingError):
        d.render_pdf(d.Document(title="t", blocks=[d.Paragraph("龘")]), font_path=BUNDLED)


def test_malformed_blocks_are_errors():
    with pytest.raises(SynthGuardError, match="1 cells for 2 columns"):
        d.Table(["a", "b"], [["only one"]])
    with pytest.raises(ValidationError):
        d.render_html(d.Document(title="t", blocks=[d.Image(b"GIF89a", "not supported")]))
