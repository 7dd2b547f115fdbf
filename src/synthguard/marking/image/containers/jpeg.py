"""XMP in JPEG: the APP1 segment starting ``http://ns.adobe.com/xap/1.0/\\0`` (GB-15).

Segments before SOS are walked and copied verbatim (EXIF, ICC, Adobe, extended XMP ...); the entropy-coded
data after SOS is never touched, so pixels cannot change.
"""

from __future__ import annotations

import struct

from synthguard.errors import CorruptMediaError, MetadataError
from synthguard.marking.image.containers import exif

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_HEADER = b"Exif\x00\x00"
APP1 = 0xE1
SOS = 0xDA
MAX_PAYLOAD = 0xFFFF - 2  # segment length field counts itself


def segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """(marker, payload) for every segment before SOS, and the rest of the file from SOS on."""
    if not data.startswith(b"\xff\xd8"):
        raise CorruptMediaError("not a JPEG (no SOI marker)")
    out: list[tuple[int, bytes]] = []
    pos = 2
    while True:
        while pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise CorruptMediaError("JPEG marker expected at byte {pos}: file is truncated or corrupt",
                                    values={"pos": pos})
        marker = data[pos + 1]
        if marker == SOS or marker == 0xD9:
            return out, data[pos:]
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append((marker, b""))
            pos += 2
            continue
        if pos + 4 > len(data):
            raise CorruptMediaError("JPEG segment header is truncated")
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise CorruptMediaError("JPEG segment 0x{marker:02X} at byte {pos} runs past the end of the file",
                                    values={"marker": marker, "pos": pos})
        out.append((marker, data[pos + 4:pos + 2 + length]))
        pos += 2 + length


def _join(segs: list[tuple[int, bytes]], rest: bytes) -> bytes:
    parts = [b"\xff\xd8"]
    for marker, payload in segs:
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            parts.append(bytes((0xFF, marker)))
        else:
            parts.append(bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload)
    return b"".join(parts) + rest


def read_xmp(data: bytes) -> list[bytes]:
    segs, _ = segments(data)
    return [p[len(XMP_HEADER):] for m, p in segs if m == APP1 and p.startswith(XMP_HEADER)]


def read_wild(data: bytes) -> list[tuple[str, str]]:
    segs, _ = segments(data)
    found = []
    for m, p in segs:
        if m == APP1 and p.startswith(EXIF_HEADER):
            value = exif.read_aigc(p)
            if value is not None:
                found.append(("jpeg:exif:UserComment", value))
    return found


def write_xmp(data: bytes, packet: bytes) -> bytes:
    """Replace every standard XMP segment by one holding ``packet``; blank AIGC EXIF comments (GB-08)."""
    payload = XMP_HEADER + packet
    if len(payload) > MAX_PAYLOAD:
        raise MetadataError(
            "XMP packet of {packet_count:,} bytes exceeds the 64 KB JPEG APP1 limit",
            values={"packet_count": len(packet)},
            hint="Shrink the existing XMP (extended XMP is not supported for the AIGC packet).",
        )
    segs, rest = segments(data)
    kept: list[tuple[int, bytes]] = []
    insert_at = None
    for m, p in segs:
        if m == APP1 and p.startswith(XMP_HEADER):
            insert_at = len(kept) if insert_at is None else insert_at
            continue
        if m == APP1 and p.startswith(EXIF_HEADER):
            p = exif.strip_aigc(p)
        kept.append((m, p))
    if insert_at is None:  # after the leading JFIF/EXIF run, where readers expect it
        insert_at = 0
        while insert_at < len(kept) and kept[insert_at][0] in (0xE0, APP1):
            insert_at += 1
    kept.insert(insert_at, (APP1, payload))
    return _join(kept, rest)
