"""Blocks -> PDF (fpdf2), shared by the legal memo (law/pdf.py) and the compliance reports.

A report is a list of blocks ``(kind, payload)``: ``h1``/``h2``/``h3``/``p``/``note`` (text), ``ul`` (items),
``kv`` (pairs) and ``status`` (``(state, text)``, coloured by state).  The font is one that covers every character
(:func:`synthguard.marking.fonts.find_font`: Chinese included); a symbol it lacks gets an ASCII stand-in, never a
tofu box.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

Block = tuple[str, Any]
FALLBACK = {"✓": "[yes]", "✗": "[no]", "→": "->", "←": "<-", "≥": ">=", "≤": "<=", "≠": "!=", "—": "-", "’": "'"}
HEADINGS = {"h1": 15, "h2": 12.5, "h3": 10.5}
STATUS_COLORS = {"pass": (20, 110, 40), "fail": (180, 20, 20), "not_applicable": (110, 110, 110)}


def flatten(p: Any) -> str:
    """Every character of a block's payload (to pick a font that has them all)."""
    if isinstance(p, str):
        return p
    if isinstance(p, list | tuple):
        return "".join(flatten(x) for x in p)
    return str(p)


def render_blocks(blocks: list[Block], *, creator: str, font_path: Path | None = None,
                  space_after: float = 0.0) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    from synthguard.marking.fonts import find_font, missing_glyphs

    text = "".join(flatten(p) for _, p in blocks)
    cjk = "".join(sorted({c for c in text if ord(c) >= 0x2E80}))
    font = find_font(cjk or "A", font_path)
    lacking = missing_glyphs(font, text)

    def clean(s: str) -> str:
        return "".join(FALLBACK.get(c, f"U+{ord(c):04X}") if c in lacking else c for c in s)

    pdf = FPDF(format="A4")
    pdf.set_title(clean(str(blocks[0][1])))
    pdf.set_creator(creator)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("body", "", str(font), collection_font_number=0)
    pdf.add_page()

    def line(s: str, size: float = 9, h: float = 5, indent: float = 0, color: tuple[int, int, int] = (0, 0, 0)) -> None:
        pdf.set_font("body", size=size)
        pdf.set_text_color(*color)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(0, h, clean(s), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    for kind, p in blocks:
        if kind in HEADINGS:
            if kind != "h1" and pdf.get_y() > pdf.h - 40:
                pdf.add_page()
            pdf.ln(2)
            line(p, HEADINGS[kind], 7, color=(20, 50, 100))
        elif kind == "status":
            pdf.ln(1)
            line(p[1], 10.5, 6, color=STATUS_COLORS[p[0]])
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
        if space_after:
            pdf.ln(space_after)
    return bytes(pdf.output())
