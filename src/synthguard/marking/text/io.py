"""Text documents (plain text, Markdown, docx, xlsx, pptx): decoding, the content digest, synthetic samples.

``Media.decode()`` and ``Media.content_sha256`` call :func:`decode_text` and :func:`content_digest`. The digest
hashes the normalised body text WITHOUT our notice and metadata (NFC, LF newlines, trailing spaces and blank
edge lines dropped), so ``ReservedCode1`` computed before the metadata is written still verifies afterwards
(GB-12), and a copy stripped of notice and metadata still matches the ledger record by content hash. Styling,
images and the front matter are outside the digest: it binds the words, not the layout.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from synthguard.errors import CorruptMediaError, UnsupportedMediaError
from synthguard.marking.text import ooxml, plain

if TYPE_CHECKING:
    from synthguard.media import Media

TEXT_FORMATS = ("text", "markdown")
OFFICE_FORMATS = ("docx", "xlsx", "pptx")
SYNTHETIC_FORMATS = ("TXT", "MD", "DOCX", "XLSX", "PPTX")
DIGEST_DOMAIN = b"synthguard.text.v1\n"


def sniff_ooxml(data: bytes, name: str = "<bytes>") -> str | None:
    """docx / xlsx / pptx for a ZIP holding an OOXML package (called by ``Media.from_bytes``)."""
    return ooxml.sniff(data, name)


@dataclass(frozen=True)
class TextDoc:
    """A decoded text document: lines for plain text and Markdown, parts for OOXML, and the digest body."""

    format: str
    body: str
    plain: plain.PlainDoc | None = None
    package: ooxml.Package | None = None
    problems: tuple[str, ...] = field(default=())


def normalise(text: str) -> str:
    lines = [unicodedata.normalize("NFC", line.rstrip()) for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def decode_text(media: Media) -> TextDoc:
    """Decode fully (UTF-8, ZIP CRCs, every XML part we read), so bad input fails before anything is written."""
    if media.format in TEXT_FORMATS:
        doc = plain.decode(media.data, media.format, media.name)
        return TextDoc(media.format, normalise(doc.body()), plain=doc, problems=doc.problems)
    if media.format not in OFFICE_FORMATS:
        raise UnsupportedMediaError("{format} is not a text format", path=media.name,
                                    values={"format": media.format})
    pkg = ooxml.open_package(media.data, media.name)
    if pkg.kind != media.format:
        raise CorruptMediaError("the package is a {kind}, not a {format}", path=media.name,
                                values={"kind": pkg.kind, "format": media.format})
    from synthguard.marking.text import office

    try:
        body = office.body_text(pkg)
    except CorruptMediaError as exc:
        raise CorruptMediaError(exc.template, values=exc.values, path=media.name, hint=exc.hint) from exc
    return TextDoc(media.format, normalise(body), package=pkg)


def content_digest(media: Media) -> str:
    """SHA-256 of the normalised body text (see the module docstring): what ReservedCode1 and trace bind to."""
    return hashlib.sha256(DIGEST_DOMAIN + media.text().body.encode("utf-8")).hexdigest()


# --- synthetic samples (testing.synthetic_media) -----------------------------------------------------
SAMPLE_PARAGRAPHS = (
    "The committee met on Tuesday to review the draft budget for the coming year.",
    "会议讨论了明年的预算草案，并同意在下次会议前提交修改意见。",
    "Members asked for a clearer breakdown of travel costs and of the new training programme.",
)


def synthetic_text(fmt: str = "TXT") -> Media:
    """A small deterministic document: TXT and MD are made here, DOCX/XLSX/PPTX with python-docx, openpyxl and
    python-pptx (the ``test`` extra), so contract tests run on files the office libraries themselves wrote."""
    from synthguard.media import Media

    f = fmt.upper()
    if f == "TXT":
        data = ("\n\n".join(SAMPLE_PARAGRAPHS) + "\n").encode()
    elif f == "MD":
        data = ("---\ntitle: Budget notes\ntags: [minutes, draft]\n---\n# Budget\n\n"
                + "\n\n".join(SAMPLE_PARAGRAPHS) + "\n").encode()
    elif f == "DOCX":
        import docx

        d = docx.Document()
        d.add_heading("Budget notes", level=1)
        for p in SAMPLE_PARAGRAPHS:
            d.add_paragraph(p)
        table = d.add_table(rows=1, cols=2)
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "travel", "12,400"
        data = _saved(d)
    elif f == "XLSX":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Budget"
        for row in (("item", "amount"), ("travel", 12400), ("training", 8000), ("total", "=SUM(B2:B3)")):
            ws.append(row)
        wb.create_sheet("Notes")["A1"] = SAMPLE_PARAGRAPHS[1]
        data = _saved(wb)
    elif f == "PPTX":
        import pptx

        deck = pptx.Presentation()
        for i, p in enumerate(SAMPLE_PARAGRAPHS):
            slide = deck.slides.add_slide(deck.slide_layouts[1])
            slide.shapes.title.text = f"Budget {i + 1}"
            slide.placeholders[1].text = p
        data = _saved(deck)
    else:
        raise ValueError(f"no synthetic text sample for {fmt!r}; choose from {SYNTHETIC_FORMATS}")
    ext = {"TXT": "txt", "MD": "md"}.get(f, f.lower())
    return Media.from_bytes(data, name=f"synthetic.{ext}")


def _saved(doc: object) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)  # type: ignore[attr-defined]
    return buf.getvalue()
