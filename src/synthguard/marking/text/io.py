"""Synthetic text documents for tests and plugin authors (``testing.synthetic_media``); decoding and the content
digest are ``codecs/text``.
"""

from __future__ import annotations

import io

from synthguard.media import Media

SYNTHETIC_FORMATS = ("TXT", "MD", "DOCX", "XLSX", "PPTX")


# --- synthetic samples (testing.synthetic_media) -----------------------------------------------------
SAMPLE_PARAGRAPHS = (
    "The committee met on Tuesday to review the draft budget for the coming year.",
    "会议讨论了明年的预算草案，并同意在下次会议前提交修改意见。",
    "Members asked for a clearer breakdown of travel costs and of the new training programme.",
)


def synthetic_text(fmt: str = "TXT") -> Media:
    """A small deterministic document: TXT and MD are made here, DOCX/XLSX/PPTX with python-docx, openpyxl and
    python-pptx (the ``test`` extra), so contract tests run on files the office libraries themselves wrote."""
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
