"""Blocks -> Markdown (CommonMark with pipe tables)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from synthguard.documents.blocks import (
    BarChart,
    Block,
    BulletList,
    Document,
    Heading,
    Image,
    KeyValues,
    Note,
    PageBreak,
    Paragraph,
    Status,
    Table,
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _lines(b: Block) -> list[str]:
    if isinstance(b, Heading):
        return ["#" * b.level + " " + b.text]
    if isinstance(b, Paragraph):
        return [b.text]
    if isinstance(b, Note):
        return [f"> {b.text}"]
    if isinstance(b, Status):
        return [f"**{b.text}**"]
    if isinstance(b, KeyValues):
        return [f"- **{k}**: {v}" for k, v in b.rows]
    if isinstance(b, Table):
        return ["| " + " | ".join(map(_cell, b.header)) + " |", "|" + " --- |" * len(b.header),
                *("| " + " | ".join(map(_cell, row)) + " |" for row in b.rows)]
    if isinstance(b, BulletList):
        return [f"- {x}" for x in b.items]
    if isinstance(b, BarChart):
        return [f"**{b.title}**", "", *(f"- {bar.label}: {bar.shown}" for bar in b.bars)]
    if isinstance(b, Image):
        return [f"![{b.alt}](data:{b.mime};base64,{base64.b64encode(b.data).decode('ascii')})"]
    if isinstance(b, PageBreak):
        return ["---"]
    return _all(b.blocks)[:-1]  # a Box: its blocks, no frame


def _all(blocks: Sequence[Block]) -> list[str]:
    out: list[str] = []
    for b in blocks:
        out += [*_lines(b), ""]
    return out


def render_markdown(doc: Document) -> str:
    """Every block followed by a blank line."""
    return "\n".join(_all(doc.blocks))


__all__ = ["render_markdown"]
