"""AIGC JSON in an EXIF ``UserComment`` (an in-the-wild form, read but never written; GB-15).

A minimal TIFF walker: IFD0 -> Exif IFD (0x8769) -> UserComment (0x9286). It returns the byte span of the value
so the writer can blank it in place (same length, no offsets move) when it replaces the label (GB-08).
"""

from __future__ import annotations

import json
import struct

_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def _tiff(blob: bytes) -> tuple[bytes, int]:
    """Strip an optional ``Exif\\0\\0`` header; return the TIFF bytes and where they start in ``blob``."""
    start = 6 if blob.startswith(b"Exif\x00\x00") else 0
    return blob[start:], start


def _find(tiff: bytes, ifd: int, tag: int, end: str) -> tuple[int, int, int] | None:
    """(type, count, value offset) of ``tag`` in the IFD at ``ifd``, or None."""
    if ifd + 2 > len(tiff):
        return None
    (n,) = struct.unpack_from(end + "H", tiff, ifd)
    for i in range(min(n, 1000)):
        pos = ifd + 2 + 12 * i
        if pos + 12 > len(tiff):
            return None
        t, typ, count = struct.unpack_from(end + "HHI", tiff, pos)
        if t == tag:
            size = _TYPE_SIZES.get(typ, 1) * count
            off = pos + 8 if size <= 4 else struct.unpack_from(end + "I", tiff, pos + 8)[0]
            return typ, count, off
    return None


def user_comment_span(blob: bytes) -> tuple[int, int, str] | None:
    """(start, length, byte order) of the UserComment value inside ``blob`` (EXIF payload), or None."""
    try:
        return _span(blob)
    except struct.error:  # truncated EXIF: no readable comment
        return None


def _span(blob: bytes) -> tuple[int, int, str] | None:
    tiff, base = _tiff(blob)
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    end = "<" if tiff[:2] == b"II" else ">"
    (ifd0,) = struct.unpack_from(end + "I", tiff, 4)
    ptr = _find(tiff, ifd0, _EXIF_IFD, end)
    if ptr is None:
        return None
    (exif_ifd,) = struct.unpack_from(end + "I", tiff, ptr[2])
    hit = _find(tiff, exif_ifd, _USER_COMMENT, end)
    if hit is None or hit[2] + hit[1] > len(tiff):
        return None
    return base + hit[2], hit[1], end


def _decode(raw: bytes, end: str) -> str:
    head, body = raw[:8], raw[8:]
    if head.startswith(b"UNICODE"):
        enc = "utf-16" if body[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-16-le" if end == "<" else "utf-16-be")
        text = body.decode(enc, "replace")
    elif head in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        text = body.decode("utf-8", "replace")
    else:
        text = raw.decode("utf-8", "replace")
    return text.strip("\x00 \r\n\t")


def aigc_json(text: str) -> str | None:
    """The AIGC JSON inside a free-text value: ``{"AIGC": {...}}`` or a bare object with a ``Label`` key."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if isinstance(obj, dict) and "AIGC" in obj:
        inner = obj["AIGC"]
        return inner if isinstance(inner, str) else json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
    if isinstance(obj, dict) and "Label" in obj:
        return text
    return None


def read_aigc(blob: bytes) -> str | None:
    """AIGC JSON found in the EXIF UserComment of ``blob``, or None."""
    span = user_comment_span(blob)
    if span is None:
        return None
    start, length, end = span
    return aigc_json(_decode(blob[start:start + length], end))


def strip_aigc(blob: bytes) -> bytes:
    """``blob`` with an AIGC-carrying UserComment blanked to NULs (same length, so no offset changes)."""
    if read_aigc(blob) is None:
        return blob
    start, length, _ = user_comment_span(blob)  # type: ignore[misc]
    keep = 8 if length > 8 else 0
    return blob[:start + keep] + b"\x00" * (length - keep) + blob[start + length:]
