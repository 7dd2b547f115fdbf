"""docx / xlsx / pptx: the text a digest hashes and the visible notice (the AIGC property is in ``customprops``).

Notice placement (LM-03, LM-09, GB-02): docx gets a bold first and/or last paragraph; pptx a text box on the
bottom-left of the first and/or last slide, glyphs >= 5% of the slide's shorter side (as GB-03 asks of images);
xlsx gets the notice in every worksheet's page header (start) and/or footer (end): visible in Page Layout view and
on print, not in the grid (inserting a row would shift formulas and references). Our notices are recognised by
their bracketed form, so labeling twice adds nothing and the content digest leaves them out.
"""

from __future__ import annotations

import math
import re
from typing import Any

from synthguard.codecs.text.notice import is_notice, is_our_notice
from synthguard.codecs.text.office import (
    MAIN,
    edge_paragraphs,
    element_text,
    local_name,
    sheet_parts,
    slide_parts,
    text_shapes,
    word_body,
)
from synthguard.codecs.text.ooxml import NS, Package, lxml_etree, q, to_xml
from synthguard.errors import MediaError

NOTICE_SHAPE = "SynthGuard AIGC notice"
_HF_CODES = re.compile(r'&(?:"[^"]*"|K[0-9A-Fa-f]{6}|\d+|.)', re.DOTALL)
_BRACKETED = re.compile(r"【[^【】]{1,78}】")
# CT_Worksheet children that come after headerFooter (ECMA-376 Part 1, 18.3.1.99)
_AFTER_HF = {"rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
             "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
             "webPublishItems", "tableParts", "extLst"}


def _word_paragraph(notice: str) -> Any:
    etree = lxml_etree()
    p = etree.Element(q("w", "p"), nsmap={"w": NS["w"]})
    r = etree.SubElement(p, q("w", "r"))
    etree.SubElement(etree.SubElement(r, q("w", "rPr")), q("w", "b"))
    t = etree.SubElement(r, q("w", "t"))
    t.text = notice
    return p


def _notice_shape(pkg: Package, slide: Any, notice: str) -> Any:
    etree = lxml_etree()
    size = pkg.xml(MAIN["pptx"]).find("p:sldSz", NS)
    cx, cy = (int(size.get("cx")), int(size.get("cy"))) if size is not None else (9144000, 6858000)
    pt = math.ceil(0.05 * min(cx, cy) / 12700)  # GB-03-style: glyphs >= 5% of the shorter side
    em = pt * 12700
    width = min(cx, int(sum(1.0 if ord(c) > 0x2E7F else 0.62 for c in notice) * em) + 2 * 91440)
    height = int(em * 1.5) + 2 * 45720
    ids = [int(x) for x in slide.xpath("//p:cNvPr/@id", namespaces=NS) if str(x).isdigit()]
    xml = f"""<p:sp xmlns:p="{NS['p']}" xmlns:a="{NS['a']}">
<p:nvSpPr><p:cNvPr id="{max(ids, default=1) + 1}" name="{NOTICE_SHAPE}"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr>
<p:spPr><a:xfrm><a:off x="0" y="{cy - height}"/><a:ext cx="{width}" cy="{height}"/></a:xfrm>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill></p:spPr>
<p:txBody><a:bodyPr wrap="none" rtlCol="0"/><a:lstStyle/><a:p><a:r><a:rPr lang="zh-CN" sz="{pt * 100}" b="1">
<a:solidFill><a:srgbClr val="000000"/></a:solidFill></a:rPr><a:t></a:t></a:r></a:p></p:txBody></p:sp>"""
    sp = etree.fromstring(xml.replace("\n", ""))
    sp.find(".//a:t", NS).text = notice
    return sp


def _hf_notices(hf: Any, test: Any = is_notice) -> list[str]:
    found = []
    for el in hf:
        plain = _HF_CODES.sub(" ", el.text or "")
        found += [b for b in _BRACKETED.findall(plain) if test(b)]
    return found


def _with_hf(sheet: Any, notice: str, which: str) -> bool:
    """Put the notice in the centre section of the sheet's odd (and first/even) header or footer."""
    etree = lxml_etree()
    hf = sheet.find("x:headerFooter", NS)
    if hf is None:
        hf = etree.Element(q("x", "headerFooter"))
        after = next((i for i, k in enumerate(sheet) if local_name(k) in _AFTER_HF), None)
        sheet.insert(len(sheet) if after is None else after, hf)
    names = [f"odd{which}"] + ([f"even{which}"] if hf.get("differentOddEven") in ("1", "true") else []) + (
        [f"first{which}"] if hf.get("differentFirst") in ("1", "true") else [])
    changed = False
    order = ["oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"]
    for name in names:
        el = hf.find(f"x:{name}", NS)
        if el is None:
            el = etree.Element(q("x", name))
            pos = sum(1 for k in hf if local_name(k) in order[: order.index(name)])
            hf.insert(pos, el)
        if _hf_notices([el], is_our_notice):
            continue
        text = el.text or ""
        el.text = text.replace("&C", f"&C{notice} ", 1) if "&C" in text else f"{text}&C{notice}"
        changed = True
    return changed


def notices(pkg: Package) -> dict[str, list[str]]:
    """Explicit notices found at the start and end (any wording with both GB-02 elements)."""
    start: list[str] = []
    end: list[str] = []
    if pkg.kind == "docx":
        _, body = word_body(pkg)
        kids = [k for k in body if k.tag == q("w", "p") and element_text(k, q("w", "t")).strip()]
        if kids and is_notice(t := element_text(kids[0], q("w", "t"))):
            start.append(t.strip())
        if len(kids) > 1 and is_notice(t := element_text(kids[-1], q("w", "t"))):
            end.append(t.strip())
    elif pkg.kind == "pptx":
        slides = slide_parts(pkg)
        if slides:
            start = [t.strip() for _, t in text_shapes(pkg.xml(slides[0])) if is_notice(t)]
            end = [t.strip() for _, t in text_shapes(pkg.xml(slides[-1])) if is_notice(t)] if len(slides) > 1 else []
    else:
        for _, part in sheet_parts(pkg):
            hf = pkg.xml(part).find("x:headerFooter", NS)
            if hf is not None:
                start += _hf_notices([k for k in hf if "Header" in local_name(k)])
                end += _hf_notices([k for k in hf if "Footer" in local_name(k)])
    return {"start": start, "end": end}


def with_notice(pkg: Package, notice: str, position: str) -> dict[str, bytes]:
    """Changed parts carrying the notice; empty when it is already there (idempotent)."""
    want = {"start", "end"} if position == "both" else {position}
    if pkg.kind == "docx":
        root, body = word_body(pkg)
        start, end = edge_paragraphs(body, is_our_notice)
        changed = False
        if "start" in want and not start:
            body.insert(0, _word_paragraph(notice))
            changed = True
        if "end" in want and not (end and ("start" not in want or any(all(e is not s for s in start) for e in end))):
            last = body[-1] if len(body) and local_name(body[-1]) == "sectPr" else None
            (last.addprevious if last is not None else body.append)(_word_paragraph(notice))
            changed = True
        return {MAIN["docx"]: to_xml(root)} if changed else {}
    if pkg.kind == "pptx":
        slides = slide_parts(pkg)
        if not slides:
            raise MediaError("the presentation has no slides to carry the notice (LM-09)",
                             hint="Label a presentation with at least one slide.")
        changes: dict[str, bytes] = {}
        for edge, part in (("start", slides[0]), ("end", slides[-1])):
            if edge not in want:
                continue
            root = pkg.xml(part) if part not in changes else lxml_etree().fromstring(changes[part])
            if any(is_our_notice(t) for _, t in text_shapes(root)):
                continue
            tree = root.find("p:cSld/p:spTree", NS)
            if tree is None:
                raise MediaError("{part} has no shape tree", hint="Save the presentation again from PowerPoint.",
                                 values={"part": part})
            tree.append(_notice_shape(pkg, root, notice))
            changes[part] = to_xml(root)
        return changes
    sheets = sheet_parts(pkg)
    if not sheets:
        raise MediaError("the workbook has no worksheets to carry the notice (LM-09)",
                         hint="Label a workbook with at least one worksheet.")
    changes = {}
    for _, part in sheets:
        root = pkg.xml(part)
        edits = [_with_hf(root, notice, where) for edge, where in (("start", "Header"), ("end", "Footer"))
                 if edge in want]
        if any(edits):
            changes[part] = to_xml(root)
    return changes
