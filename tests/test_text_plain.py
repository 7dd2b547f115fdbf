"""Plain text and Markdown labels: notice placement (LM-03, GB-02), one AIGC block (GB-08, GB-18), integrity
bound to the content digest (GB-12), bad input as problems or clear errors."""

from __future__ import annotations

import json

import pytest
import yaml

from synthguard.codecs.text.notice import is_notice, is_our_notice
from synthguard.errors import ConfigError, CorruptMediaError, MetadataError, UnsupportedMediaError
from synthguard.marking.text.marker import TextMetadataMarker, TextNoticeMarker
from synthguard.marking.text.notice import render
from synthguard.media import Media
from synthguard.testing import sample_context, synthetic_media

KEY = b"k" * 32
NOTICE = "【AI生成 / AI-generated】"


def label(media: Media, position: str = "start", ctx=None) -> Media:
    ctx = ctx or sample_context()
    return TextMetadataMarker(KEY).mark(TextNoticeMarker(NOTICE, position).mark(media, ctx), ctx)


def text_of(media: Media) -> str:
    return media.data.decode("utf-8-sig")


def md(text: str, name: str = "doc.md") -> Media:
    return Media.from_bytes(text.encode(), name=name)


# --- wording (GB-02) --------------------------------------------------------------------------------
def test_default_wording_and_recognition():
    assert render() == NOTICE and is_our_notice(NOTICE)
    assert is_notice("本内容由人工智能生成") and not is_our_notice("本内容由人工智能生成")
    assert not is_notice("AI") and not is_notice("生成") and not is_notice("x" * 100 + "AI生成")
    assert render("本内容由人工智能合成", "") == "【本内容由人工智能合成】"


@pytest.mark.parametrize("zh,en", [("", ""), ("AI", ""), ("生成", None), ("AI\n生成", ""), ("【AI生成】", ""),
                                   ("AI生成" * 30, "")])
def test_bad_wording_is_a_config_error(zh, en):
    with pytest.raises(ConfigError) as ei:
        render(zh, en)
    assert "GB-02" in ei.value.hint


# --- plain text -------------------------------------------------------------------------------------
@pytest.mark.parametrize("position,first,last", [("start", True, False), ("end", False, True), ("both", True, True)])
def test_notice_positions(position, first, last):
    out = label(synthetic_media("TXT"), position)
    lines = [x for x in text_of(out).splitlines() if x.strip()]
    assert (lines[0] == NOTICE) is first
    assert lines[-1].startswith("AIGC: {")  # the machine-readable trailer stays last
    assert (lines[-2] == NOTICE) is last
    reading = TextNoticeMarker().read(out)
    assert reading.found and reading.data["text"] == NOTICE


def test_labeling_twice_changes_nothing_but_the_record():
    once = label(synthetic_media("TXT"), "both")
    twice = label(once, "both", sample_context("SG01SECONDLABEL000000000000"))
    assert text_of(twice).count(NOTICE) == 2  # one at each end, not four
    assert text_of(twice).count("AIGC:") == 1 and "SG01SECONDLABEL" in text_of(twice)
    assert TextNoticeMarker(NOTICE, "both").mark(twice, sample_context()).data == twice.data


def test_digest_ignores_notice_and_metadata_but_not_words():
    clean = synthetic_media("TXT")
    out = label(clean, "both")
    assert out.content_sha256 == clean.content_sha256
    reading = TextMetadataMarker(KEY).read(out)
    assert reading.found and reading.data["integrity"] == "valid" and reading.data["count"] == 1
    edited = Media.from_bytes(out.data.replace(b"Tuesday", b"Friday"), name="e.txt")
    assert edited.content_sha256 != clean.content_sha256
    bad = TextMetadataMarker(KEY).read(edited)
    assert bad.data["integrity"] == "invalid" and any("GB-12" in p for p in bad.problems)


def test_crlf_and_bom_are_kept():
    src = Media.from_bytes(b"\xef\xbb\xbfline one\r\nline two\r\n", name="w.txt")
    out = label(src, "both")
    assert out.data.startswith(b"\xef\xbb\xbf" + NOTICE.encode() + b"\r\n")
    assert b"\n" not in out.data.replace(b"\r\n", b"") and out.data.endswith(b"\r\n")
    assert out.content_sha256 == src.content_sha256


def test_trailer_problems_are_reported_not_raised():
    aigc = json.dumps({"Label": "1", "ContentProducer": "X", "ProduceID": "P", "ReservedCode1": "",
                       "ContentPropagator": "X", "PropagateID": "P", "ReservedCode2": ""})
    two = Media.from_bytes(f"body\n\nAIGC: {aigc}\nAIGC: {aigc}\n".encode(), name="t.txt")
    r = TextMetadataMarker(KEY).read(two)
    assert r.found and r.data["count"] == 2 and any("GB-08" in p for p in r.problems)
    broken = Media.from_bytes(b'body\n\nAIGC: {"Label": 1, oops}\n', name="t.txt")
    r = TextMetadataMarker(KEY).read(broken)
    assert r.found and r.data["aigc"] is None and any("JSON" in p for p in r.problems)
    huge = Media.from_bytes(b'body\nAIGC: {"Label":"' + b"1" * 10_000 + b'"}\n', name="t.txt")
    r = TextMetadataMarker(KEY).read(huge)
    assert r.data["count"] == 1 and any("limit" in p for p in r.problems)
    numeric = Media.from_bytes(f"body\nAIGC: {aigc.replace(chr(34) + '1' + chr(34), '1', 1)}\n".encode(), name="t")
    assert any("must be a string" in p for p in TextMetadataMarker(KEY).read(numeric).problems)  # GB-09


def test_relabel_replaces_a_foreign_trailer():
    src = Media.from_bytes(b'body text\n\nAIGC: {"Label":"3"}\n', name="t.txt")
    out = label(src)
    r = TextMetadataMarker(KEY).read(out)
    assert r.data["count"] == 1 and r.data["aigc"]["Label"] == "1" and r.data["integrity"] == "valid"


@pytest.mark.parametrize("data,words", [(b"x" * 100 + b"caf\xe9 au lait\n", "UTF-8"),
                                        (b"x" * 100 + b"abc\x00def\n", "NUL")])
def test_bad_text_is_a_clear_error(data, words):
    m = Media.from_bytes(data, name="bad.txt")
    with pytest.raises(CorruptMediaError) as ei:
        m.decode()
    assert words in ei.value.message and "What to do" in ei.value.diagnostics()


def test_binary_head_is_not_text():
    with pytest.raises(UnsupportedMediaError):
        Media.from_bytes(b"caf\xe9\x00\x01 au lait\n", name="bad.txt")


def test_invalid_utf8_after_the_sniffed_head():
    m = Media.from_bytes(b"x" * 200 + b"\xff\xfe tail\n", name="late.txt")
    assert m.format == "text"
    with pytest.raises(CorruptMediaError):
        label(m)


# --- Markdown ---------------------------------------------------------------------------------------
def test_front_matter_keeps_the_authors_keys_and_comments():
    src = md("---\n# a comment\ntitle: Notes\ntags: [a, b]\n---\n# Heading\n\nText.\n")
    out = label(src)
    text = text_of(out)
    assert text.startswith("---\n# a comment\ntitle: Notes\ntags: [a, b]\nAIGC:\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == "Notes" and front["tags"] == ["a", "b"]
    assert front["AIGC"]["Label"] == "1" and front["AIGC"]["ProduceID"] == sample_context().content_id
    assert text.split("---\n", 2)[2].startswith(NOTICE + "\n\n# Heading")
    assert out.content_sha256 == src.content_sha256
    r = TextMetadataMarker(KEY).read(out)
    assert r.data["integrity"] == "valid" and r.data["locations"] == ["front-matter"] and r.valid


def test_front_matter_is_created_and_replaced():
    src = md("# Title\n\nBody.\n", name="notes.md")
    assert src.format == "markdown" and src.mime == "text/markdown"
    once = label(src)
    assert text_of(once).startswith("---\nAIGC:\n  Label: \"1\"\n")
    twice = label(once, ctx=sample_context("SG01SECONDLABEL000000000000"))
    r = TextMetadataMarker(KEY).read(twice)
    assert r.data["count"] == 1 and r.data["aigc"]["ProduceID"] == "SG01SECONDLABEL000000000000"
    assert text_of(twice).count(NOTICE) == 1


def test_aigc_as_json_string_and_duplicate_keys():
    src = md('---\nAIGC: \'{"Label":"2","ContentProducer":"P","ProduceID":"X","ReservedCode1":"",'
             '"ContentPropagator":"P","PropagateID":"X","ReservedCode2":""}\'\n---\nBody\n')
    r = TextMetadataMarker(KEY).read(src)
    assert r.found and r.data["aigc"]["Label"] == "2" and r.data["count"] == 1
    dup = md("---\nAIGC:\n  Label: '1'\nAIGC:\n  Label: '2'\n---\nBody\n")
    r = TextMetadataMarker(KEY).read(dup)
    assert r.data["count"] == 2 and any("GB-08" in p for p in r.problems)


def test_malformed_front_matter_is_a_problem_when_reading_and_an_error_when_writing():
    src = md("---\ntitle: [unclosed\n---\nBody\n")
    r = TextMetadataMarker(KEY).read(src)
    assert not r.found and any("malformed" in p for p in r.problems)
    with pytest.raises(MetadataError) as ei:
        label(src)
    assert "front matter" in ei.value.message and ei.value.path == "doc.md"


def test_huge_front_matter_is_refused():
    src = md("---\nnote: " + "x" * 70_000 + "\n---\nBody\n")
    r = TextMetadataMarker(KEY).read(src)
    assert any("longer than" in p for p in r.problems)
    with pytest.raises(MetadataError):
        label(src)


def test_a_thematic_break_is_not_front_matter():
    src = md("---\n\nJust a rule, no closing fence.\n", name="rule.md")
    out = label(src)
    assert text_of(out).startswith("---\nAIGC:\n") and "Just a rule" in text_of(out)
    assert TextMetadataMarker(KEY).read(out).data["integrity"] == "valid"


def test_yaml_alias_bomb_is_a_problem_not_a_hang():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{k}: &{k} [{', '.join(['*' + p] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi", strict=True))
    src = md(f"---\n{bomb}AIGC: x\n---\nBody\n")
    r = TextMetadataMarker(KEY).read(src)
    assert any("aliases" in p for p in r.problems)
    with pytest.raises(MetadataError):
        label(src)


def test_an_aigc_line_inside_the_body_is_content():
    src = Media.from_bytes(b'How to write the label:\nAIGC: {"Label":"1"}\nThat is all.\n', name="howto.txt")
    assert not TextMetadataMarker(KEY).read(src).found
    out = label(src)
    assert b'AIGC: {"Label":"1"}\nThat is all.' in out.data and out.content_sha256 == src.content_sha256
    r = TextMetadataMarker(KEY).read(out)
    assert r.data["count"] == 1 and r.data["integrity"] == "valid"


def test_markdown_with_windows_newlines_and_bom():
    src = Media.from_bytes(b"\xef\xbb\xbf---\r\ntitle: T\r\n---\r\n# H\r\n\r\nBody.\r\n", name="w.md")
    assert src.format == "markdown"
    out = label(src, "both")
    assert out.data.startswith(b"\xef\xbb\xbf---\r\ntitle: T\r\nAIGC:\r\n")
    assert b"\n" not in out.data.replace(b"\r\n", b"")
    r = TextMetadataMarker(KEY).read(out)
    assert r.data["integrity"] == "valid" and r.data["count"] == 1
    assert TextNoticeMarker().read(out).data["positions"] == ["start", "end"]


@pytest.mark.parametrize("prefix", range(0, 4))
def test_sniff_accepts_a_character_cut_at_64_bytes(prefix):
    """The sniffer sees 64 bytes; a 3-byte CJK character straddling the cut is still text."""
    data = ("x" * prefix + "生成" * 30 + "\n").encode()
    assert Media.from_bytes(data, name="cjk.txt").format == "text"
    with pytest.raises(UnsupportedMediaError):  # a byte that is never UTF-8, inside the head: not text
        Media.from_bytes(b"x" * 58 + b"\xff" + b"abc" * 10, name="bad.txt")


def test_notice_spec_for_the_record():
    """DS-19: the applied label spec (text and position) is available to store with the record."""
    assert TextNoticeMarker(NOTICE, "end").spec() == {"text": NOTICE, "position": "end"}
    assert TextNoticeMarker("本内容由人工智能生成").spec()["text"] == "【本内容由人工智能生成】"
    with pytest.raises(ConfigError):
        TextNoticeMarker(NOTICE, "middle")


def test_a_txt_name_keeps_dashes_as_text():
    src = Media.from_bytes(b"---\nHello\n---\nWorld\n", name="poem.txt")
    assert src.format == "text" and Media.from_bytes(src.data).format == "markdown"
    out = label(src)
    assert text_of(out).startswith(NOTICE + "\n\n---\nHello") and out.content_sha256 == src.content_sha256


@pytest.mark.parametrize("data,kind", [(b"%PDF-1.7\n" + b"1 0 obj\n" * 10 + b"\xe2\xe3\xcf\xd3", "PDF"),
                                       (b"{\\rtf1\\ansi hello}", "RTF"), (b'<?xml version="1.0"?><svg/>', "XML")])
def test_structured_formats_are_refused_not_corrupted(data, kind):
    m = Media.from_bytes(data, name="doc.txt")
    with pytest.raises(UnsupportedMediaError) as ei:
        label(m)
    assert kind in ei.value.message and "What to do" in ei.value.diagnostics()
