"""docx / xlsx / pptx as text: the words a digest hashes, and where a notice sits (word paragraphs, slide shapes,
sheet cells).  Reading only; placing a notice is ``marking/text/office.py``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from synthguard.codecs.text.notice import is_our_notice
from synthguard.codecs.text.ooxml import NS, Package, q, resolve
from synthguard.errors import MediaError

MAIN = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}


def local_name(el: Any) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def element_text(el: Any, t: str, brk: tuple[str, ...] = ("br", "cr")) -> str:
    """The text of ``el``: every ``t`` element's text, tabs (w:tab) and line breaks (``brk``) in document order."""
    out = []
    for node in el.iter():
        name = local_name(node)
        if node.tag == t and node.text:
            out.append(node.text)
        elif name == "tab" and node.tag.startswith("{" + NS["w"]):
            out.append("\t")
        elif name in brk:
            out.append("\n")
    return "".join(out)


# --- word -------------------------------------------------------------------------------
def word_body(pkg: Package) -> tuple[Any, Any]:
    root = pkg.xml(MAIN["docx"])
    body = root.find("w:body", NS)
    if body is None:
        raise MediaError("word/document.xml has no body", hint="Save the document again from Word.")
    return root, body


def edge_paragraphs(body: Any, test: Any) -> tuple[list[Any], list[Any]]:
    """Body-level paragraphs passing ``test`` at the start and at the end (consecutive, empty ones skipped)."""
    kids = [k for k in body if local_name(k) != "sectPr"]
    edges = []
    for seq in (kids, kids[::-1]):
        found = []
        for k in seq:
            if k.tag != q("w", "p"):
                break
            text = element_text(k, q("w", "t"))
            if not text.strip():
                continue
            if not test(text):
                break
            found.append(k)
        edges.append(found)
    return edges[0], edges[1]


# --- presentation -------------------------------------------------------------------------
def slide_parts(pkg: Package) -> list[str]:
    pres = pkg.xml(MAIN["pptx"])
    rels = pkg.rels_of(MAIN["pptx"])
    by_id = {}
    if rels in pkg.parts:
        for rel in pkg.xml(rels).findall("rel:Relationship", NS):
            by_id[rel.get("Id")] = resolve("ppt", rel.get("Target", ""))
    ids = pres.findall("p:sldIdLst/p:sldId", NS)
    return [by_id[i.get(q("r", "id"))] for i in ids if by_id.get(i.get(q("r", "id"))) in pkg.parts]


def text_shapes(slide: Any) -> Iterator[tuple[Any, str]]:
    for sp in slide.iter(q("p", "sp")):
        body = sp.find("p:txBody", NS)
        if body is not None:
            yield sp, "\n".join(element_text(p, q("a", "t"), ("br",)) for p in body.findall("a:p", NS))


# --- spreadsheet ------------------------------------------------------------------------
def sheet_parts(pkg: Package) -> list[tuple[str, str]]:
    """(sheet name, part) in workbook order."""
    wb = pkg.xml(MAIN["xlsx"])
    rels = pkg.rels_of(MAIN["xlsx"])
    by_id = {r.get("Id"): resolve("xl", r.get("Target", ""))
             for r in (pkg.xml(rels).findall("rel:Relationship", NS) if rels in pkg.parts else [])}
    out = []
    for s in wb.findall("x:sheets/x:sheet", NS):
        part = by_id.get(s.get(q("r", "id")))
        if part in pkg.parts:
            out.append((s.get("name", ""), part))
    return out


def shared_strings(pkg: Package) -> list[str]:
    part = "xl/sharedStrings.xml"
    if part not in pkg.parts:
        return []
    out = []
    for si in pkg.xml(part).findall("x:si", NS):
        out.append("".join(t.text or "" for t in si.iter(q("x", "t")) if local_name(t.getparent()) != "rPh"))
    return out


def cells(pkg: Package, sheet: Any, strings: list[str]) -> Iterator[str]:
    """``ref<TAB>value`` per non-empty cell; a formula cell gives its formula, not the cached result, which any
    recalculating application rewrites on save."""
    for c in sheet.iter(q("x", "c")):
        v, f, kind = c.find("x:v", NS), c.find("x:f", NS), c.get("t", "n")
        if f is not None:
            value = f"={f.text}" if f.text else f"=(shared {f.get('si', '')})"
        elif kind == "inlineStr":
            value = element_text(c, q("x", "t"))
        elif kind == "s" and v is not None and (v.text or "").strip().isdigit() and int(v.text) < len(strings):
            value = strings[int(v.text)]
        else:
            value = v.text or "" if v is not None else ""
        if value:
            yield f"{c.get('r', '')}\t{value}"


def body_text(pkg: Package) -> str:
    """The document's text without our notices: what the content digest hashes."""
    if pkg.kind == "docx":
        _, body = word_body(pkg)
        start, end = edge_paragraphs(body, is_our_notice)
        ours = start + end  # held, so lxml keeps returning the same proxies
        return "\n".join(element_text(p, q("w", "t")) for p in body.iter(q("w", "p")) if not any(p is o for o in ours))
    if pkg.kind == "pptx":
        slides = []
        for part in slide_parts(pkg):
            slide = pkg.xml(part)  # a fresh tree: dropping our notices here changes nothing else
            for sp, text in list(text_shapes(slide)):
                if is_our_notice(text):
                    sp.getparent().remove(sp)
            # every paragraph on the slide: shapes, groups, and table cells in graphic frames
            slides.append("\n".join(element_text(p, q("a", "t"), ("br",)) for p in slide.iter(q("a", "p"))))
        return "\n\f\n".join(slides)
    strings = shared_strings(pkg)
    return "\n\f\n".join("\n".join([f"# {name}", *cells(pkg, pkg.xml(part), strings)])
                         for name, part in sheet_parts(pkg))
