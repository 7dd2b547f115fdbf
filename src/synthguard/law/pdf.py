"""The memo as PDF.  Chinese needs a CJK font: the shared block renderer picks one covering every character of the
memo (SYNTHGUARD_FONT_PATH, system fonts, the bundled subset); if none does, FontMissingError says so rather than
printing tofu boxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthguard.blocks_pdf import render_blocks
from synthguard.law.report import blocks


def render_pdf(a: dict[str, Any], font_path: Path | None = None) -> bytes:
    return render_blocks(blocks(a), creator="synthguard law", font_path=font_path, space_after=1)
