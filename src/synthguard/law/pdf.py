"""The memo as PDF (fpdf2).  Chinese needs a CJK font: find_font picks one covering every character of the
memo (SYNTHGUARD_FONT_PATH, system fonts, the bundled subset); if none does, FontMissingError says so rather
than printing tofu boxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthguard.law.report import blocks
from synthguard.marking.fonts import find_font, missing_glyphs

FALLBACK = {"✓": "[yes]", "✗": "[no]", "→": "->", "≥": ">=", "≤": "<=", "≠": "!=", "—": "-", "’": "'"}


def render_pdf(a: dict[str, Any], font_path: Path | None = None) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    content = blocks(a)
    text = "".join(_flatten(p) for _, p in content)
    cjk = "".join(sorted({c for c in text if ord(c) >= 0x2E80}))
    font = find_font(cjk or "A", font_path)
    lacking = missing_glyphs(font, text)

    def clean(s: str) -> str:  # symbols the font lacks get ASCII stand-ins, never tofu boxes
        return "".join(FALLBACK.get(c, f"U+{ord(c):04X}") if c in lacking else c for c in s)

    pdf = FPDF(format="A4")
    pdf.set_title(str(content[0][1]))
    pdf.set_creator("synthguard law")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("body", "", str(font), collection_font_number=0)
    pdf.add_page()
    sizes = {"h1": 15, "h2": 12.5, "h3": 10.5}

    def line(s: str, size: float = 9, h: float = 5, indent: float = 0, color: tuple[int, int, int] = (0, 0, 0)) -> None:
        pdf.set_font("body", size=size)
        pdf.set_text_color(*color)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(0, h, clean(s), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    for kind, p in content:
        if kind in sizes:
            if kind != "h1" and pdf.get_y() > pdf.h - 40:
                pdf.add_page()
            pdf.ln(2)
            line(p, sizes[kind], 7, color=(20, 50, 100))
        elif kind == "p":
            line(p)
        elif kind == "note":
            line(p, 8.5, color=(120, 60, 0))
        elif kind == "ul":
            for x in p:
                line(f"- {x}", indent=3)
        elif kind == "kv":
            for k, v in p:
                line(f"{k}: {v}", indent=3)
        pdf.ln(1)
    return bytes(pdf.output())


def _flatten(p: Any) -> str:
    if isinstance(p, str):
        return p
    if isinstance(p, list | tuple):
        return "".join(_flatten(x) for x in p)
    return str(p)
