"""How each kind of document looks: a style sheet for HTML and the sizes, colours and spacing for PDF.

The block model and the renderers are shared; a theme only says how big, which colour and how far apart.  ``memo``
is the legal memo, ``report`` the compliance reports, ``evidence`` the evidence report, ``moderation`` the monthly
moderation report (each kept as it looked before the renderers were merged, issue 23).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files

from synthguard.documents.blocks import RGB

BLACK: RGB = (0, 0, 0)
GREY: RGB = (90, 90, 90)
NAVY: RGB = (20, 50, 100)


@dataclass(frozen=True)
class HeadingStyle:
    size: float
    height: float  # line height, mm
    space: float = 2.0  # mm before the heading
    color: RGB = NAVY
    keep: float | None = 40.0  # a new page first when less than this (mm) is left: no heading alone at the bottom


@dataclass(frozen=True)
class TextStyle:
    size: float = 9.0
    height: float = 5.0
    color: RGB = BLACK


@dataclass(frozen=True)
class PdfStyle:
    headings: dict[int, HeadingStyle]
    text: TextStyle = TextStyle()
    small: TextStyle = TextStyle(8, 4, GREY)
    note: TextStyle = TextStyle(8.5, 5, (120, 60, 0))
    status: TextStyle = TextStyle(10.5, 6)
    status_colors: dict[str, RGB] = field(default_factory=lambda: {
        "pass": (20, 110, 40), "fail": (180, 20, 20), "not_applicable": (110, 110, 110)})
    table: TextStyle = TextStyle(8, 4.5)
    block_space: float = 0.0  # mm after every block
    paragraph_space: float = 0.0  # mm after a paragraph
    indent: float = 3.0  # list items and "key: value" lines
    key_width: float = 48.0  # the key column of a key-value table
    key_color: RGB = GREY

    def heading(self, level: int) -> HeadingStyle:
        return self.headings.get(level) or self.headings[max(self.headings)]


@dataclass(frozen=True)
class Theme:
    css: str  # file name under documents/templates
    pdf: PdfStyle

    def stylesheet(self) -> str:
        return files("synthguard.documents").joinpath("templates", self.css).read_text(encoding="utf-8")


_MEMO_HEADINGS = {1: HeadingStyle(15, 7, keep=None), 2: HeadingStyle(12.5, 7), 3: HeadingStyle(10.5, 7)}
THEMES: dict[str, Theme] = {
    "memo": Theme("memo.css", PdfStyle(_MEMO_HEADINGS, block_space=1.0)),
    "report": Theme("report.css", PdfStyle(_MEMO_HEADINGS)),
    "evidence": Theme("evidence.css", PdfStyle(
        {1: HeadingStyle(16, 9, space=0, color=BLACK, keep=None),
         2: HeadingStyle(12, 7, space=3, color=(20, 60, 120), keep=45)}, paragraph_space=1.0, indent=0)),
    "moderation": Theme("moderation.css", PdfStyle(
        {1: HeadingStyle(15, 8, space=0, color=BLACK, keep=None), 2: HeadingStyle(11, 6, space=3, color=BLACK)},
        indent=0)),
}
