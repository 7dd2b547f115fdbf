"""The font of a PDF document, in one place for every document (issue 23, step 5; GB-03: no tofu boxes).

:func:`document_font` picks a font file that has every CJK character of the document: the operator's
SYNTHGUARD_FONT_PATH (``configured``), the bundled WenQuanYi subset, then the system's Chinese fonts
(:func:`synthguard.marking.fonts.find_font`, which labels use too); when none has them it raises
:class:`~synthguard.errors.FontMissingError` rather than print boxes.  :class:`Glyphs` then replaces each remaining
character the chosen font lacks (a tick, an arrow, an emoji) by a readable ASCII stand-in, or ``U+XXXX``.
"""

from __future__ import annotations

from pathlib import Path

from synthguard.marking.fonts import BUNDLED, codepoints, find_font, missing_glyphs

# characters fonts commonly lack, as ASCII a reader understands; anything else becomes U+XXXX
STAND_INS = {"✓": "[yes]", "✗": "[no]", "→": "->", "←": "<-", "≥": ">=", "≤": "<=", "≠": "!=", "—": "-", "’": "'"}
CJK_START = 0x2E80  # CJK radicals onwards: the characters a Latin font will not have


def cjk(text: str) -> str:
    """The distinct CJK characters of ``text``, sorted (what a document font must cover)."""
    return "".join(sorted({c for c in text if ord(c) >= CJK_START}))


def document_font(text: str, configured: Path | None = None) -> Path:
    """A font file with every CJK character of ``text``; FontMissingError (naming them) when there is none."""
    return find_font(cjk(text) or "A", configured)


class Glyphs:
    """The characters of a document's text that ``font`` has no glyph for, and their stand-ins."""

    def __init__(self, font: Path, text: str):
        self.font = font
        self.lacking = missing_glyphs(font, text)
        cmap = codepoints(font)  # spaces a font lacks (U+202F, which Babel puts before "AM") become plain spaces
        self.spaces = {c for c in set(text) if c.isspace() and c not in "\t\n\r " and ord(c) not in cmap}

    def __call__(self, text: str) -> str:
        """``text`` with every character the font lacks replaced, so nothing prints as a box."""
        if not self.lacking and not self.spaces:
            return text
        return "".join(" " if c in self.spaces else STAND_INS.get(c, f"U+{ord(c):04X}") if c in self.lacking else c
                       for c in text)


__all__ = ["BUNDLED", "STAND_INS", "Glyphs", "cjk", "codepoints", "document_font", "find_font",
           "missing_glyphs"]
