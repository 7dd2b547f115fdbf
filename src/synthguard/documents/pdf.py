"""Blocks -> PDF (fpdf2), A4, one embedded font that has every character (:mod:`synthguard.documents.fonts`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from synthguard.documents import blocks as blk
from synthguard.documents.fonts import Glyphs, document_font
from synthguard.documents.themes import THEMES, PdfStyle, TextStyle

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "body"


class _Writer:
    def __init__(self, pdf: FPDF, style: PdfStyle, clean: Glyphs):
        self.pdf, self.style, self.clean = pdf, style, clean

    def line(self, text: str, st: TextStyle, color: tuple[int, int, int] | None = None, indent: float = 0) -> None:
        from fpdf.enums import XPos, YPos

        pdf = self.pdf
        pdf.set_font(FONT, size=st.size)
        pdf.set_text_color(*(color or st.color))
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(0, st.height, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    def blocks(self, blocks: Sequence[blk.Block]) -> None:
        for b in blocks:
            self.block(b)
            if self.style.block_space:
                self.pdf.ln(self.style.block_space)

    def block(self, b: blk.Block) -> None:  # noqa: C901  one branch per kind of block
        pdf, st = self.pdf, self.style
        if isinstance(b, blk.Heading):
            self.heading(b.text, b.level)
        elif isinstance(b, blk.Paragraph):
            self.line(b.text, st.small if b.small else st.text)
            if st.paragraph_space and not b.small:
                pdf.ln(st.paragraph_space)
        elif isinstance(b, blk.Note):
            self.line(b.text, st.note)
        elif isinstance(b, blk.Status):
            pdf.ln(1)
            self.line(b.text, st.status, color=st.status_colors[b.state])
        elif isinstance(b, blk.KeyValues):
            for k, v in b.rows:
                if b.table:
                    self.key_value(k, v, b.mono)
                else:
                    self.line(f"{k}: {v}", st.text, indent=st.indent)
        elif isinstance(b, blk.BulletList):
            for x in b.items:
                self.line(f"- {x}", st.text, indent=st.indent)
        elif isinstance(b, blk.Table):
            self.table(b)
        elif isinstance(b, blk.BarChart):
            self.chart(b)
        elif isinstance(b, blk.Image):
            pdf.image(io.BytesIO(b.data), x=pdf.l_margin, w=b.width, alt_text=b.alt)
        elif isinstance(b, blk.PageBreak):
            pdf.add_page()
        elif isinstance(b, blk.Box):
            self.blocks(b.blocks)

    def heading(self, text: str, level: int) -> None:
        h = self.style.heading(level)
        if h.keep is not None and self.pdf.get_y() > self.pdf.h - h.keep:
            self.pdf.add_page()
        if h.space:
            self.pdf.ln(h.space)
        self.line(text, TextStyle(h.size, h.height, h.color))

    def key_value(self, key: str, value: str, mono: bool) -> None:
        """Key left (grey, wrapped in its column), value right; the next row starts below the taller of the two."""
        from fpdf.enums import WrapMode, XPos, YPos

        pdf, st = self.pdf, self.style
        width, height = st.key_width, st.text.height
        pdf.set_font(FONT, size=st.text.size)
        y, page = pdf.get_y(), pdf.page
        key_lines = len(cast(list[str], pdf.multi_cell(width, height, self.clean(key), dry_run=True, output="LINES")))
        pdf.set_text_color(*st.key_color)
        pdf.multi_cell(width, height, self.clean(key), new_x=XPos.RIGHT, new_y=YPos.TOP, align="L")
        pdf.set_text_color(*st.text.color)
        pdf.multi_cell(0, height, self.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L",
                       wrapmode=WrapMode.CHAR if mono else WrapMode.WORD)
        if pdf.page == page:
            pdf.set_y(max(pdf.get_y(), y + height * key_lines))

    def table(self, t: blk.Table) -> None:
        from fpdf.enums import TableBordersLayout
        from fpdf.fonts import FontFace

        pdf, st = self.pdf, self.style
        pdf.set_font(FONT, size=st.table.size)
        pdf.set_text_color(*st.table.color)
        pdf.set_fill_color(255, 255, 255)  # a chart before may have left its bar colour
        heads = FontFace(color=st.key_color, fill_color=(255, 255, 255))
        with pdf.table(line_height=st.table.height, text_align="LEFT", first_row_as_headings=True,
                       headings_style=heads, borders_layout=TableBordersLayout.HORIZONTAL_LINES) as grid:
            for cells in (t.header, *t.rows):
                row = grid.row()
                for c in cells:
                    row.cell(self.clean(c))

    def chart(self, c: blk.BarChart) -> None:
        """The title as a section heading, then one row a bar: label, bar (longest = 100 mm), value."""
        from fpdf.enums import XPos, YPos

        pdf = self.pdf
        self.heading(c.title, 2)
        top = max([bar.value for bar in c.bars] or [1]) or 1
        pdf.set_text_color(*self.style.text.color)
        for bar in c.bars:
            y = pdf.get_y()
            pdf.set_font(FONT, size=8)
            pdf.cell(55, 5, self.clean(bar.label))
            pdf.set_fill_color(*c.color)
            width = 100 * bar.value / top
            if width:
                pdf.rect(pdf.l_margin + 56, y + 0.8, width, 3.4, style="F")
            pdf.set_xy(pdf.l_margin + 58 + width, y)
            pdf.cell(10, 5, self.clean(bar.shown), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_pdf(doc: blk.Document, *, font_path: Path | None = None, font: Path | None = None) -> bytes:
    """The document as PDF.  ``font`` is used as given; otherwise one covering every CJK character of the document
    is looked for (``font_path``: the operator's SYNTHGUARD_FONT_PATH first).  Characters the font still lacks
    print as stand-ins (:class:`~synthguard.documents.fonts.Glyphs`)."""
    from fpdf import FPDF

    text = doc.title + "".join(blk.texts(doc.blocks))
    chosen = font or document_font(text, font_path)
    clean = Glyphs(chosen, text)
    pdf = FPDF(format="A4")
    pdf.set_title(clean(doc.title))
    pdf.set_creator(doc.creator)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FONT, "", str(chosen), collection_font_number=0)
    pdf.add_page()
    _Writer(pdf, THEMES[doc.theme].pdf, clean).blocks(doc.blocks)
    return bytes(pdf.output())


__all__ = ["render_pdf"]
