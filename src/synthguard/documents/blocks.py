"""The block model every SynthGuard document is made of (issue 23, step 5).

A document is a title, a language, a theme and a list of typed blocks.  The same list renders as Markdown, HTML and
PDF (:mod:`synthguard.documents.render`), so the legal memo (LM-*), the compliance audit and DS Art. 15 assessment
(DS-17, DS-22), the evidence report (US-07, CC-10) and the moderation report (DS-10, DS-11, US-06) say the same thing
in every format.  Blocks hold display text only: the documents build them from their own data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from synthguard.errors import SynthGuardError, ValidationError

RGB = tuple[int, int, int]
State = Literal["pass", "fail", "not_applicable"]


@dataclass(frozen=True)
class Heading:
    """A heading; level 1 is the document's title line, 2 a section, 3 a subsection."""

    text: str
    level: int = 1
    kind: ClassVar[str] = "heading"


@dataclass(frozen=True)
class Paragraph:
    """Running text.  ``lang`` marks a paragraph written in another language than the document's; ``small`` is
    fine print (when and by what the document was made)."""

    text: str
    lang: str | None = None
    small: bool = False
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Note:
    """A caution or disclaimer, set off from the text."""

    text: str
    kind: ClassVar[str] = "note"


@dataclass(frozen=True)
class Status:
    """The outcome of one check, coloured by ``state``."""

    state: State
    text: str
    kind: ClassVar[str] = "status"


@dataclass(frozen=True)
class KeyValues:
    """Labelled values.  As a definition list ("key: value" lines) or, with ``table``, a two-column table;
    ``mono`` values (hashes, ids) are set in a fixed-width face and may break anywhere."""

    rows: Sequence[tuple[str, str]]
    table: bool = False
    mono: bool = False
    kind: ClassVar[str] = "key_values"


@dataclass(frozen=True)
class Table:
    """A table with a header row; every row has as many cells as the header."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    kind: ClassVar[str] = "table"

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.header):
                raise SynthGuardError("a table row has {cells} cells for {columns} columns",
                                      values={"cells": len(row), "columns": len(self.header)})


@dataclass(frozen=True)
class BulletList:
    """An unordered list; the items at the indexes in ``flagged`` are failures (shown as such in HTML)."""

    items: Sequence[str]
    flagged: frozenset[int] = frozenset()
    kind: ClassVar[str] = "bullet_list"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as the reader sees it (localised number)


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart (inline SVG in HTML, drawn bars in PDF, a list in Markdown)."""

    title: str
    bars: Sequence[Bar]
    color: RGB
    id: str = ""
    kind: ClassVar[str] = "bar_chart"


@dataclass(frozen=True)
class Image:
    """A PNG or JPEG picture, ``width`` in millimetres on the page."""

    data: bytes
    alt: str
    width: float = 80.0
    kind: ClassVar[str] = "image"

    @property
    def mime(self) -> str:
        if self.data[:8] == b"\x89PNG\r\n\x1a\n":
            return "image/png"
        if self.data[:3] == b"\xff\xd8\xff":
            return "image/jpeg"
        raise ValidationError("an image block holds PNG or JPEG data, not {start!r}", values={"start": self.data[:8]})


@dataclass(frozen=True)
class PageBreak:
    """Start a new page (PDF), a printed page (HTML), a thematic break (Markdown)."""

    kind: ClassVar[str] = "page_break"


@dataclass(frozen=True)
class Box:
    """Blocks framed together, e.g. a conclusion; ``tone`` names the frame's look in the document's theme."""

    blocks: Sequence[Block]
    tone: str = ""
    kind: ClassVar[str] = "box"


Block = Heading | Paragraph | Note | Status | KeyValues | Table | BulletList | BarChart | Image | PageBreak | Box


@dataclass(frozen=True)
class Document:
    """What a renderer needs: the title (HTML ``<title>``, PDF metadata), the document's language, the theme
    (:data:`synthguard.documents.themes.THEMES`: look of HTML and PDF), the PDF creator, and the blocks."""

    title: str
    blocks: Sequence[Block]
    lang: str = "en"
    theme: str = "report"
    creator: str = "synthguard"


def walk(blocks: Sequence[Block]) -> Iterator[Block]:
    """Every block, the blocks inside boxes included, in reading order."""
    for b in blocks:
        yield b
        if isinstance(b, Box):
            yield from walk(b.blocks)


def texts(blocks: Sequence[Block]) -> Iterator[str]:
    """Every piece of text the blocks show, in reading order (to pick a font that has all their characters)."""
    for b in walk(blocks):
        if isinstance(b, Heading | Paragraph | Note | Status):
            yield b.text
        elif isinstance(b, KeyValues):
            for k, v in b.rows:
                yield k
                yield v
        elif isinstance(b, Table):
            yield from b.header
            for row in b.rows:
                yield from row
        elif isinstance(b, BulletList):
            yield from b.items
        elif isinstance(b, BarChart):
            yield b.title
            for bar in b.bars:
                yield bar.label
                yield bar.shown
        elif isinstance(b, Image):
            yield b.alt
