"""docx / xlsx / pptx labels (GB-18, LM-03, LM-09, GB-08, GB-12): validated by re-opening the output with
python-docx, openpyxl and python-pptx AND by checking the ZIP parts; bad packages give clear errors."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pptx
import pytest
from lxml import etree

from synthguard.codecs.text import ooxml
from synthguard.errors import CorruptMediaError, MediaError, UnsupportedMediaError
from synthguard.marking.text.marker import TextMetadataMarker, TextNoticeMarker
from synthguard.media import Media
from synthguard.testing import sample_context, synthetic_media

KEY = b"k" * 32
NOTICE = "【AI生成 / AI-generated】"
CP = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


def label(media: Media, position: str = "start", ctx=None) -> Media:
    ctx = ctx or sample_context()
    return TextMetadataMarker(KEY).mark(TextNoticeMarker(NOTICE, position).mark(media, ctx), ctx)


def parts(media: Media) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(media.data)) as z:
        assert z.testzip() is None
        return {i.filename: z.read(i) for i in z.infolist()}


def aigc_props(media: Media) -> list[tuple[str, str, str]]:
    root = etree.fromstring(parts(media)["docProps/custom.xml"])
    return [(p.get("name"), p.get("pid"), p[0].text) for p in root.findall(f"{CP}property")]


def reopen(media: Media):
    opener = {"docx": docx.Document, "xlsx": openpyxl.load_workbook, "pptx": pptx.Presentation}[media.format]
    return opener(io.BytesIO(media.data))


@pytest.mark.parametrize("fmt", ["DOCX", "XLSX", "PPTX"])
def test_package_parts_after_labeling(fmt):
    """One AIGC custom property with its content type and package relationship; every other part unchanged."""
    clean = synthetic_media(fmt)
    out = label(clean, "both")
    before, after = parts(clean), parts(out)
    props = aigc_props(out)
    assert [(n, pid) for n, pid, _ in props] == [("AIGC", "2")]
    assert '"ProduceID":"SG01TESTCONTENTID0000000000"' in props[0][2]
    types = after["[Content_Types].xml"].decode()
    assert 'PartName="/docProps/custom.xml"' in types and "custom-properties+xml" in types
    assert b"relationships/custom-properties" in after["_rels/.rels"]
    changed = {n for n in before if before[n] != after[n]}
    body = {"DOCX": {"word/document.xml"}, "XLSX": {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"},
            "PPTX": {"ppt/slides/slide1.xml", "ppt/slides/slide3.xml"}}[fmt]
    assert changed == body | {"[Content_Types].xml", "_rels/.rels"}
    assert list(after)[: len(before)] == list(before)  # original order kept, new part appended
    assert out.content_sha256 == clean.content_sha256
    r = TextMetadataMarker(KEY).read(out)
    assert r.valid and r.data["integrity"] == "valid" and r.data["count"] == 1
    notice = TextNoticeMarker().read(out)
    assert notice.found and set(notice.data["positions"]) == {"start", "end"}
    reopen(out)  # the office libraries accept the result


def test_docx_notice_is_the_first_and_last_paragraph():
    out = label(synthetic_media("DOCX"), "both")
    d = reopen(out)
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == NOTICE and texts[-1] == NOTICE and texts[1] == "Budget notes"
    assert d.paragraphs[0].runs[0].bold
    assert d.tables[0].rows[0].cells[1].text == "12,400"


def test_xlsx_notice_in_page_headers_and_data_untouched():
    out = label(synthetic_media("XLSX"), "both")
    wb = reopen(out)
    assert wb.sheetnames == ["Budget", "Notes"]
    ws = wb["Budget"]
    assert [c.value for c in ws["B"]] == ["amount", 12400, 8000, "=SUM(B2:B3)"]
    assert NOTICE in ws.oddHeader.center.text and NOTICE in ws.oddFooter.center.text
    assert wb.custom_doc_props["AIGC"].value.startswith('{"Label":"1"')


def test_pptx_text_box_is_big_enough():
    out = label(synthetic_media("PPTX"), "start")
    deck = reopen(out)
    boxes = [s for s in deck.slides[0].shapes if s.has_text_frame and s.text_frame.text == NOTICE]
    assert len(boxes) == 1
    box = boxes[0]
    size = box.text_frame.paragraphs[0].runs[0].font.size
    assert size.emu >= 0.05 * min(deck.slide_width, deck.slide_height)  # GB-03-style 5 % rule
    assert box.top + box.height <= deck.slide_height and box.left >= 0
    ids = [s.shape_id for s in deck.slides[0].shapes]
    assert len(ids) == len(set(ids))
    assert not any(NOTICE in (s.text_frame.text if s.has_text_frame else "") for s in deck.slides[2].shapes)


@pytest.mark.parametrize("fmt", ["DOCX", "XLSX", "PPTX"])
def test_labeling_twice_keeps_one_notice_and_one_block(fmt):
    once = label(synthetic_media(fmt), "both")
    twice = label(once, "both", sample_context("SG01SECONDLABEL000000000000"))
    assert [n for n, _, _ in aigc_props(twice)] == ["AIGC"] and "SG01SECONDLABEL" in aigc_props(twice)[0][2]
    assert TextNoticeMarker(NOTICE, "both").mark(twice, sample_context()).data == twice.data
    assert TextNoticeMarker().read(twice).data["notices"] == TextNoticeMarker().read(once).data["notices"]


def test_other_custom_properties_are_kept():
    from openpyxl.packaging.custom import StringProperty

    wb = openpyxl.Workbook()
    wb.active["A1"] = "hello"
    wb.custom_doc_props.append(StringProperty(name="Owner", value="finance"))
    wb.custom_doc_props.append(StringProperty(name="aigc", value='{"Label":"3"}'))
    buf = io.BytesIO()
    wb.save(buf)
    src = Media.from_bytes(buf.getvalue(), name="b.xlsx")
    assert TextMetadataMarker(KEY).read(src).data["aigc"]["Label"] == "3"
    out = label(src)
    names = [(n, pid) for n, pid, _ in aigc_props(out)]
    assert ("Owner", "2") in names and [n for n, _ in names].count("AIGC") == 1 and len(names) == 2
    assert len({pid for _, pid in names}) == 2
    assert reopen(out).custom_doc_props["Owner"].value == "finance"


def _rezip(media: Media, edit) -> bytes:
    src = parts(media)
    edit(src)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in src.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_two_aigc_properties_are_counted():
    out = label(synthetic_media("DOCX"))

    def dup(p):
        xml = p["docProps/custom.xml"].decode()
        start = xml.index("<property")
        prop = xml[start: xml.index("</property>") + len("</property>")]
        p["docProps/custom.xml"] = xml.replace(prop, prop + prop.replace('pid="2"', 'pid="3"')).encode()

    r = TextMetadataMarker(KEY).read(Media.from_bytes(_rezip(out, dup), name="d.docx"))
    assert r.data["count"] == 2 and any("GB-08" in p for p in r.problems)


def test_edited_words_fail_integrity():
    out = label(synthetic_media("DOCX"))
    edited = _rezip(out, lambda p: p.update({"word/document.xml": p["word/document.xml"].replace(
        b"Tuesday", b"Monday")}))
    r = TextMetadataMarker(KEY).read(Media.from_bytes(edited, name="e.docx"))
    assert r.data["integrity"] == "invalid"


def test_macro_enabled_documents_are_refused_but_readable():
    def macro(p):
        p["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 fake vba"
        p["[Content_Types].xml"] = p["[Content_Types].xml"].replace(
            b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")

    src = Media.from_bytes(_rezip(synthetic_media("DOCX"), macro), name="m.docm")
    assert src.format == "docx"
    for marker in (TextNoticeMarker(), TextMetadataMarker(KEY)):
        with pytest.raises(UnsupportedMediaError) as ei:
            marker.mark(src, sample_context())
        assert "macro" in ei.value.message and "without macros" in ei.value.hint
        assert not marker.read(src).found


def test_corrupt_packages():
    data = synthetic_media("DOCX").data
    with pytest.raises(CorruptMediaError) as ei:
        Media.from_bytes(data[: len(data) // 2], name="t.docx")
    assert "truncated" in ei.value.message
    bad_xml = _rezip(synthetic_media("DOCX"), lambda p: p.update({"word/document.xml": b"<w:document"}))
    with pytest.raises(CorruptMediaError) as ei:
        Media.from_bytes(bad_xml, name="x.docx").decode()
    assert "well-formed" in ei.value.message and ei.value.path == "x.docx"
    entity = _rezip(synthetic_media("DOCX"), lambda p: p.update({"word/document.xml": (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
        b"<w:t>&x;</w:t></w:r></w:p></w:body></w:document>")}))
    assert "root:" not in Media.from_bytes(entity, name="e.docx").text().body  # no external entities (XXE)


def test_bad_crc_is_corrupt():
    data = bytearray(synthetic_media("DOCX").data)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("word/document.xml")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    data[offset] ^= 0xFF
    m = Media.from_bytes(bytes(data), name="c.docx")
    with pytest.raises(CorruptMediaError) as ei:
        m.decode()
    assert "damaged" in ei.value.message


def test_zip_bomb_guard(monkeypatch):
    monkeypatch.setattr(ooxml, "MAX_UNZIPPED", 10_000)
    with pytest.raises(CorruptMediaError) as ei:
        synthetic_media("DOCX").decode()
    assert "zip bomb" in ei.value.message


def test_deck_without_slides():
    buf = io.BytesIO()
    pptx.Presentation().save(buf)
    src = Media.from_bytes(buf.getvalue(), name="empty.pptx")
    with pytest.raises(MediaError) as ei:
        TextNoticeMarker().mark(src, sample_context())
    assert "no slides" in ei.value.message
    out = TextMetadataMarker(KEY).mark(src, sample_context())  # metadata alone still works
    assert TextMetadataMarker(KEY).read(out).data["integrity"] == "valid"


def test_empty_paragraphs_around_the_notice_do_not_duplicate_it():
    d = docx.Document()
    d.add_paragraph("")
    d.add_paragraph("Body text.")
    d.add_paragraph("")
    buf = io.BytesIO()
    d.save(buf)
    once = label(Media.from_bytes(buf.getvalue(), name="e.docx"), "both")
    twice = label(once, "both")
    texts = [p.text for p in reopen(twice).paragraphs]
    assert texts.count(NOTICE) == 2 and texts[0] == NOTICE and texts[-1] == NOTICE


def test_xlsx_existing_header_is_kept():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = 1
    ws.oddHeader.center.text = "Quarterly"
    ws.oddHeader.right.text = "Page &P"
    buf = io.BytesIO()
    wb.save(buf)
    out = reopen(label(Media.from_bytes(buf.getvalue(), name="h.xlsx"), "start"))
    header = out.active.oddHeader
    assert header.center.text.startswith(NOTICE) and "Quarterly" in header.center.text
    assert header.right.text == "Page &P"


def test_pptx_table_text_is_in_the_digest():
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Costs"
    table = slide.shapes.add_table(2, 2, 0, 0, 3_000_000, 1_000_000).table
    table.cell(1, 1).text = "12,400"
    buf = io.BytesIO()
    deck.save(buf)
    src = Media.from_bytes(buf.getvalue(), name="t.pptx")
    assert "12,400" in src.text().body
    out = label(src)
    edited = _rezip(out, lambda p: p.update({"ppt/slides/slide1.xml": p["ppt/slides/slide1.xml"].replace(
        b"12,400", b"99,999")}))
    assert TextMetadataMarker(KEY).read(out).data["integrity"] == "valid"
    assert TextMetadataMarker(KEY).read(Media.from_bytes(edited, name="e.pptx")).data["integrity"] == "invalid"


@pytest.mark.parametrize("fmt", ["DOCX", "XLSX", "PPTX"])
def test_damaged_packages_fail_only_with_our_errors(fmt):
    """Byte edits inside XML parts, dropped parts and flipped ZIP bytes: opening, reading and labeling raise only
    SynthGuard errors (with a message and a hint), never a parser's or zipfile's own exception."""
    import random

    from synthguard.errors import SynthGuardError

    rng = random.Random(fmt)
    base = synthetic_media(fmt)
    src = parts(base)
    xml_parts = [n for n in src if n.endswith((".xml", ".rels"))]

    def variants():
        for _ in range(25):
            name = rng.choice(xml_parts)
            x = bytearray(src[name])
            for _ in range(rng.randint(1, 3)):
                x[rng.randrange(len(x))] = rng.choice(b'<>/"= abcwpr:0123456789\x00\xff')
            yield _rezip(base, lambda p, n=name, d=bytes(x): p.update({n: d}))
            drop = rng.choice(list(src))
            yield _rezip(base, lambda p, n=drop: p.pop(n))
            d = bytearray(base.data)
            for _ in range(3):
                d[rng.randrange(len(d))] ^= rng.randrange(1, 256)
            yield bytes(d)

    for data in variants():
        try:
            m = Media.from_bytes(data, name="f." + fmt.lower())
            TextNoticeMarker().read(m)
            TextMetadataMarker(KEY).read(m)
            label(m, "both")
        except SynthGuardError as exc:
            assert exc.message and exc.hint


def test_recalculated_formula_results_keep_integrity():
    """An office suite that recalculates on save rewrites cached formula results; the digest hashes formulas,
    so the label still verifies (LibreOffice re-save measured in bench/text_roundtrip.py)."""
    out = label(synthetic_media("XLSX"))
    sheet = parts(out)["xl/worksheets/sheet1.xml"]
    assert b"<f>SUM(B2:B3)</f><v></v>" in sheet or b"<f>SUM(B2:B3)</f><v/>" in sheet
    recalculated = _rezip(out, lambda p: p.update({"xl/worksheets/sheet1.xml": sheet.replace(
        b"<f>SUM(B2:B3)</f><v></v>", b"<f>SUM(B2:B3)</f><v>20400</v>").replace(
        b"<f>SUM(B2:B3)</f><v/>", b"<f>SUM(B2:B3)</f><v>20400</v>")}))
    r = TextMetadataMarker(KEY).read(Media.from_bytes(recalculated, name="r.xlsx"))
    assert r.data["integrity"] == "valid"
    changed = _rezip(out, lambda p: p.update({"xl/worksheets/sheet1.xml": sheet.replace(b"SUM(B2:B3)", b"SUM(B2:B2)")}))
    assert TextMetadataMarker(KEY).read(Media.from_bytes(changed, name="c.xlsx")).data["integrity"] == "invalid"


def test_xlsx_first_page_header_gets_the_notice_too():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "x"
    ws.HeaderFooter.differentFirst = True
    ws.firstHeader.center.text = "Cover"
    buf = io.BytesIO()
    wb.save(buf)
    out = reopen(label(Media.from_bytes(buf.getvalue(), name="f.xlsx"), "start")).active
    assert NOTICE in out.oddHeader.center.text and out.firstHeader.center.text.startswith(NOTICE)
    assert "Cover" in out.firstHeader.center.text


def test_single_slide_deck_gets_one_notice_for_both_ends():
    deck = pptx.Presentation()
    deck.slides.add_slide(deck.slide_layouts[6])
    buf = io.BytesIO()
    deck.save(buf)
    out = label(Media.from_bytes(buf.getvalue(), name="one.pptx"), "both")
    shapes = [s for s in reopen(out).slides[0].shapes if s.has_text_frame and s.text_frame.text == NOTICE]
    assert len(shapes) == 1 and TextNoticeMarker().read(out).found
