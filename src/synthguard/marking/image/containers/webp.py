"""XMP in WebP: the RIFF ``XMP `` chunk of the extended (VP8X) layout, with the XMP flag set (GB-15).

A simple ``VP8 ``/``VP8L`` file is converted to VP8X (canvas size read from the bitstream header, alpha flag
from VP8L) without touching the bitstream. ICCP, EXIF, ALPH and unknown chunks are kept in order.
"""

from __future__ import annotations

import struct

from synthguard.errors import CorruptMediaError, UnsupportedMediaError
from synthguard.marking.image.containers import exif

_XMP_FLAG, _EXIF_FLAG, _ALPHA_FLAG, _ANIM_FLAG = 0x04, 0x08, 0x10, 0x02
_BEFORE_XMP = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L", b"EXIF"}


def chunks(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(fourcc, payload) for every RIFF chunk, and any bytes after the RIFF body (kept verbatim)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise CorruptMediaError("not a WebP file (bad RIFF header)")
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = 8 + riff_size
    if end > len(data):
        raise CorruptMediaError("WebP RIFF size {riff_size} exceeds the file: truncated",
                                values={"riff_size": riff_size})
    out, pos = [], 12
    while pos < end:
        if pos + 8 > end:
            raise CorruptMediaError("WebP chunk header at byte {pos} is truncated", values={"pos": pos})
        fourcc, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if pos + 8 + size > end:
            raise CorruptMediaError("WebP chunk {fourcc!r} at byte {pos} runs past the end of the file",
                                    values={"fourcc": fourcc, "pos": pos})
        out.append((fourcc, data[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out, data[end:]


def _build(parts: list[tuple[bytes, bytes]], trailer: bytes) -> bytes:
    body = b"".join(c + struct.pack("<I", len(p)) + p + (b"\x00" if len(p) & 1 else b"") for c, p in parts)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body + trailer


def _vp8x_for(fourcc: bytes, bits: bytes) -> bytes:
    """A VP8X payload for a simple file whose only image chunk is ``fourcc``."""
    flags = 0
    if fourcc == b"VP8 ":
        if len(bits) < 10 or bits[3:6] != b"\x9d\x01\x2a":
            raise CorruptMediaError("WebP VP8 bitstream header is corrupt")
        w, h = (v & 0x3FFF for v in struct.unpack("<HH", bits[6:10]))
    elif fourcc == b"VP8L":
        if len(bits) < 5 or bits[0] != 0x2F:
            raise CorruptMediaError("WebP VP8L bitstream header is corrupt")
        (v,) = struct.unpack("<I", bits[1:5])
        w, h = (v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1
        flags |= _ALPHA_FLAG if (v >> 28) & 1 else 0
    else:
        raise UnsupportedMediaError("WebP without VP8X starts with an unknown chunk {fourcc!r}",
                                    values={"fourcc": fourcc})
    return bytes((flags, 0, 0, 0)) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")


def read_xmp(data: bytes) -> list[bytes]:
    return [p for c, p in chunks(data)[0] if c == b"XMP "]


def read_wild(data: bytes) -> list[tuple[str, str]]:
    found = []
    for c, p in chunks(data)[0]:
        value = exif.read_aigc(p) if c == b"EXIF" else None
        if value is not None:
            found.append(("webp:EXIF:UserComment", value))
    return found


def write_xmp(data: bytes, packet: bytes) -> bytes:
    """Replace all ``XMP `` chunks by one; convert to VP8X if needed and set its XMP flag; blank AIGC EXIF."""
    parts, trailer = chunks(data)
    if not parts:
        raise CorruptMediaError("WebP has no chunks")
    if parts[0][0] != b"VP8X":
        parts.insert(0, (b"VP8X", _vp8x_for(*parts[0])))
    if len(parts[0][1]) < 10:
        raise CorruptMediaError("WebP VP8X chunk is truncated")
    vp8x = parts[0][1]
    parts[0] = (b"VP8X", bytes((vp8x[0] | _XMP_FLAG,)) + vp8x[1:])
    kept = [(c, exif.strip_aigc(p) if c == b"EXIF" else p) for c, p in parts if c != b"XMP "]
    at = max(i for i, (c, _) in enumerate(kept) if c in _BEFORE_XMP) + 1
    kept.insert(at, (b"XMP ", packet))
    return _build(kept, trailer)
