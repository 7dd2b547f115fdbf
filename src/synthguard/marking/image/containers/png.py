"""XMP in PNG: an ``iTXt`` chunk with keyword ``XML:com.adobe.xmp``, placed before IDAT (GB-15).

Chunks are copied verbatim (iCCP, eXIf, text, IDAT ...) with CRCs checked on read and computed on write.
Also reads the in-the-wild ``tEXt``/``iTXt``/``zTXt`` chunks with keyword ``AIGC`` and the eXIf UserComment.
"""

from __future__ import annotations

import struct
import zlib

from synthguard.errors import CorruptMediaError, MetadataError
from synthguard.marking.image.containers import exif

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = b"XML:com.adobe.xmp"
_TEXT_TYPES = (b"tEXt", b"iTXt", b"zTXt")
_MAX_INFLATE = 16 * 1024 * 1024


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) for every chunk up to and including IEND; CRCs verified."""
    if not data.startswith(SIGNATURE):
        raise CorruptMediaError("not a PNG (bad signature)")
    out, pos = [], len(SIGNATURE)
    while True:
        if pos + 8 > len(data):
            raise CorruptMediaError("PNG is truncated (no IEND chunk)")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise CorruptMediaError("PNG chunk {ctype!r} at byte {pos} runs past the end of the file",
                                    values={"ctype": ctype, "pos": pos})
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(ctype + body) != crc:
            raise CorruptMediaError("PNG chunk {ctype!r} at byte {pos} has a bad CRC",
                                    values={"ctype": ctype, "pos": pos})
        out.append((ctype, body))
        pos = end
        if ctype == b"IEND":
            return out


def _build(parts: list[tuple[bytes, bytes]]) -> bytes:
    out = [SIGNATURE]
    for ctype, body in parts:
        out.append(struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body)))
    return b"".join(out)


def _inflate(raw: bytes) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(raw, _MAX_INFLATE)
    except zlib.error as exc:
        raise MetadataError("compressed PNG text chunk is corrupt: {exc}", values={"exc": exc}) from exc
    if d.unconsumed_tail:
        raise MetadataError("compressed PNG text chunk inflates beyond 16 MB")
    return out


def text_chunk(ctype: bytes, body: bytes) -> tuple[bytes, bytes]:
    """(keyword, text bytes) of a tEXt/zTXt/iTXt chunk."""
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        raise MetadataError("PNG {decode} chunk has no keyword terminator", values={"decode": ctype.decode()})
    if ctype == b"tEXt":
        return keyword, rest
    if ctype == b"zTXt":
        return keyword, _inflate(rest[1:])
    if len(rest) < 2:
        raise MetadataError("PNG iTXt chunk is truncated")
    compressed, rest = rest[0], rest[2:]
    _lang, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    return keyword, _inflate(text) if compressed else text


def _keyword(ctype: bytes, body: bytes) -> bytes | None:
    return body.partition(b"\x00")[0] if ctype in _TEXT_TYPES else None


def read_xmp(data: bytes) -> list[bytes]:
    return [text_chunk(t, b)[1] for t, b in chunks(data) if t == b"iTXt" and _keyword(t, b) == XMP_KEYWORD]


def read_wild(data: bytes) -> list[tuple[str, str]]:
    found = []
    for ctype, body in chunks(data):
        if _keyword(ctype, body) == b"AIGC":
            found.append((f"png:{ctype.decode()}:AIGC", text_chunk(ctype, body)[1].decode("utf-8", "replace")))
        elif ctype == b"eXIf":
            value = exif.read_aigc(body)
            if value is not None:
                found.append(("png:eXIf:UserComment", value))
    return found


def write_xmp(data: bytes, packet: bytes) -> bytes:
    """One uncompressed XMP iTXt before the first IDAT; old XMP and AIGC text chunks dropped (GB-08)."""
    xmp = (b"iTXt", XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet)
    out: list[tuple[bytes, bytes]] = []
    placed = False
    for ctype, body in chunks(data):
        if _keyword(ctype, body) in (XMP_KEYWORD, b"AIGC"):
            continue
        if ctype == b"eXIf":
            body = exif.strip_aigc(body)
        if ctype == b"IDAT" and not placed:
            out.append(xmp)
            placed = True
        out.append((ctype, body))
    if not placed:
        raise CorruptMediaError("PNG has no IDAT chunk")
    return _build(out)
