"""Find a font that covers every character of a label text (no tofu boxes, GB-03).

Order: the operator's SYNTHGUARD_FONT_PATH, the bundled subset of WenQuanYi Micro Hei (covers the default
label texts), then system fonts fontconfig knows for Chinese.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from synthguard.errors import FontMissingError

BUNDLED = Path(__file__).resolve().parent.parent / "fonts" / "SynthGuardLabel-WQYMicroHei-subset.ttf"


@lru_cache(maxsize=32)
def _cmap(path: str, index: int = 0) -> frozenset[int]:
    """The code points a font maps to a glyph (its Unicode cmap), read with struct: fontTools took ~0.3 s of
    every ``synthguard inspect`` to answer this (issue 22)."""
    try:
        return frozenset(_codepoints(Path(path).read_bytes(), index))
    except (OSError, struct.error, IndexError, ValueError):  # unreadable font files are simply skipped
        return frozenset()


def _codepoints(data: bytes, index: int) -> set[int]:
    u16 = lambda o: struct.unpack_from(">H", data, o)[0]  # noqa: E731
    u32 = lambda o: struct.unpack_from(">I", data, o)[0]  # noqa: E731
    base = u32(12 + 4 * index) if data[:4] == b"ttcf" else 0  # a collection: the index-th font's table directory
    tables = {data[base + 12 + 16 * i: base + 16 + 16 * i]: u32(base + 20 + 16 * i) for i in range(u16(base + 4))}
    cmap = tables[b"cmap"]
    subtables = {(u16(cmap + 4 + 8 * i), u16(cmap + 6 + 8 * i)): cmap + u32(cmap + 8 + 8 * i)
                 for i in range(u16(cmap + 2))}
    for key in ((3, 10), (0, 6), (0, 4), (0, 3), (3, 1)):  # full Unicode first, then the BMP
        if key in subtables:
            return _read_subtable(data, subtables[key], u16, u32)
    return set()


def _read_subtable(data: bytes, at: int, u16: Any, u32: Any) -> set[int]:
    out: set[int] = set()
    fmt = u16(at)
    if fmt == 12:
        for g in range(u32(at + 12)):
            start, end = u32(at + 16 + 12 * g), u32(at + 20 + 12 * g)
            out.update(range(start, min(end, 0x10FFFF) + 1))
        return out
    if fmt != 4:
        return out
    segs = u16(at + 6) // 2
    ends, starts = at + 14, at + 16 + 2 * segs
    deltas, ranges = starts + 2 * segs, starts + 4 * segs
    for i in range(segs):
        start, end, delta, ro = u16(starts + 2 * i), u16(ends + 2 * i), u16(deltas + 2 * i), u16(ranges + 2 * i)
        for c in range(start, min(end, 0xFFFE) + 1):
            glyph = (c + delta) & 0xFFFF if ro == 0 else u16(ranges + 2 * i + ro + 2 * (c - start))
            if glyph and (ro == 0 or (glyph + delta) & 0xFFFF):
                out.add(c)
    return out


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


def codepoints(path: str | Path) -> frozenset[int]:
    """The code points ``path`` has glyphs for (empty for a file that is not a readable font)."""
    return _cmap(str(path))


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
