"""Find a font that covers every character of a label text (no tofu boxes, GB-03).

Order: the operator's SYNTHGUARD_FONT_PATH, the bundled subset of WenQuanYi Micro Hei (covers the default
label texts), then system fonts fontconfig knows for Chinese.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from synthguard.errors import FontMissingError

BUNDLED = Path(__file__).resolve().parent.parent / "fonts" / "SynthGuardLabel-WQYMicroHei-subset.ttf"


@lru_cache(maxsize=32)
def _cmap(path: str, index: int = 0) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.lower().endswith((".ttc", ".otc")):
            font = TTCollection(path).fonts[index]
        else:
            font = TTFont(path, lazy=True)
        return frozenset(font.getBestCmap() or {})
    except Exception:  # unreadable font files are simply skipped
        return frozenset()


@lru_cache(maxsize=1)
def _system_candidates() -> tuple[str, ...]:
    if not shutil.which("fc-list"):
        return ()
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    return tuple(f for f in files if Path(f).is_file())


def missing_glyphs(path: str | Path, text: str) -> set[str]:
    cmap = _cmap(str(path))
    return {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}


def find_font(text: str, configured: Path | None = None) -> Path:
    """Return a font file covering ``text``; raise FontMissingError naming the missing glyphs."""
    if configured is not None:
        if not Path(configured).is_file():
            raise FontMissingError("the configured font file does not exist", path=configured)
        missing = missing_glyphs(configured, text)
        if missing:
            raise FontMissingError(
                "the configured font lacks glyphs for {missing!r}",
                values={"missing": ''.join(sorted(missing))}, path=configured
            )
        return Path(configured)
    # the bundled subset first: labels then look the same on every machine (so the visible-label reader, which
    # renders the label it looks for, matches labels made elsewhere), and its cmap loads in milliseconds where a
    # full CJK system font costs ~0.3 s (issue 22)
    if not missing_glyphs(BUNDLED, text):
        return BUNDLED
    for candidate in _system_candidates():
        if not missing_glyphs(candidate, text):
            return Path(candidate)
    missing = missing_glyphs(BUNDLED, text)
    raise FontMissingError("no installed font covers the label characters {missing!r}",
                           values={"missing": ''.join(sorted(missing))})
