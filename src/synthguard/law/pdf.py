"""The memo as PDF.  Chinese needs a CJK font: the document renderer picks one covering every character of the
memo (SYNTHGUARD_FONT_PATH, the bundled subset, system fonts); if none does, FontMissingError says so rather than
printing tofu boxes (:mod:`synthguard.documents.fonts`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthguard import documents
from synthguard.law.report import document


def render_pdf(a: dict[str, Any], font_path: Path | None = None) -> bytes:
    return documents.render_pdf(document(a), font_path=font_path)
