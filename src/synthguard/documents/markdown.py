"""Blocks -> Markdown (CommonMark with pipe tables)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from synthguard.documents import blocks as blk


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _lines(b: blk.Block) -> list[str]:
    if isinstance(b, blk.Heading):
        return ["#" * b.level + " " + b.text]
    if isinstance(b, blk.Paragraph):
        return [b.text]
    if isinstance(b, blk.Note):
        return [f"> {b.text}"]
    if isinstance(b, blk.Status):
        return [f"**{b.text}**"]
    if isinstance(b, blk.KeyValues):
        return [f"- **{k}**: {v}" for k, v in b.rows]
    if isinstance(b, blk.Table):
        return ["| " + " | ".join(map(_cell, b.header)) + " |", "|" + " --- |" * len(b.header),
                *("| " + " | ".join(map(_cell, row)) + " |" for row in b.rows)]
    if isinstance(b, blk.BulletList):
        return [f"- {x}" for x in b.items]
    if isinstance(b, blk.BarChart):
        return [f"**{b.title}**", "", *(f"- {bar.label}: {bar.shown}" for bar in b.bars)]
    if isinstance(b, blk.Image):
        return [f"![{b.alt}](data:{b.mime};base64,{base64.b64encode(b.data).decode('ascii')})"]
    if isinstance(b, blk.PageBreak):
        return ["---"]
    return _all(b.blocks)[:-1]  # a Box: its blocks, no frame


def _all(blocks: Sequence[blk.Block]) -> list[str]:
    out: list[str] = []
    for b in blocks:
        out += [*_lines(b), ""]
    return out


def render_markdown(doc: blk.Document) -> str:
    """Every block followed by a blank line."""
    return "\n".join(_all(doc.blocks))


__all__ = ["render_markdown"]
