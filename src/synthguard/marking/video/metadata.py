"""Where the GB 45438 AIGC label lives in video containers (TC260-PG-20257A, GB-16), read without FFmpeg's help.

- MP4/MOV: key ``AIGC`` in ``moov/udta/meta/keys`` (handler ``mdta``) with the JSON in ``ilst`` (a ``data`` atom of
  type 1, UTF-8) -- what ``ffmpeg -metadata AIGC=... -movflags use_metadata_tags`` writes.  :func:`mp4_aigc_blocks`
  walks the boxes itself, so it counts every AIGC key in every ``meta`` (GB-08: exactly one), which a
  dictionary from FFmpeg (one value per key) could not.  The iTunes free-form item ``----:com.apple.iTunes:AIGC``
  in ``ilst``, which other implementations write (mutagen, exiftool, audio taggers), is read as well (issue 20).
- Matroska/WebM: ``Segment/Tags/Tag/SimpleTag`` with ``TagName=AIGC`` (FFmpeg's global tags); read through PyAV.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from synthguard.codecs.video import open_input
from synthguard.media import Media

_CONTAINERS = {b"moov", b"udta", b"trak", b"mdia", b"minf"}
_MAX_DEPTH = 8


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in ``data[start:end]``; stops at the first malformed one."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= end:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _meta_children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """ISO ``meta`` is a full box (4 bytes version/flags before the children); QuickTime's is not."""
    if data[start + 4:start + 8] == b"hdlr":  # QuickTime layout: the first child (hdlr) starts right away
        return _boxes(data, start, end)
    return _boxes(data, start + 4, end)


def _keys_and_items(data: bytes, start: int, end: int, where: str) -> list[tuple[str, str]]:
    keys: list[bytes] = []
    items: dict[int, str] = {}
    freeform: list[tuple[str, str]] = []
    for kind, s, e in _meta_children(data, start, end):
        if kind == b"keys" and s + 8 <= e:
            count, pos = struct.unpack_from(">I", data, s + 4)[0], s + 8
            for _ in range(count):
                if pos + 8 > e:
                    break
                size = struct.unpack_from(">I", data, pos)[0]
                if size < 8 or pos + size > e:
                    break
                keys.append(data[pos + 8:pos + size])  # after size and namespace ('mdta')
                pos += size
        elif kind == b"ilst":
            for item, is_, ie in _boxes(data, s, e):
                if item == b"----":
                    freeform += _freeform(data, is_, ie, where)
                    continue
                index = struct.unpack(">I", item)[0]
                for dkind, ds, de in _boxes(data, is_, ie):
                    if dkind == b"data" and de - ds >= 8:
                        items[index] = data[ds + 8:de].decode("utf-8", "replace")
    return [(f"{where}/keys", items.get(i + 1, "")) for i, k in enumerate(keys) if k.upper() == b"AIGC"] + freeform


def _freeform(data: bytes, start: int, end: int, where: str) -> list[tuple[str, str]]:
    """An iTunes free-form item (``----`` with ``mean``, ``name`` and ``data`` children, each after 4 bytes of
    version/flags): ``----:com.apple.iTunes:AIGC`` is where mutagen, exiftool and audio taggers put the label."""
    mean = name = b""
    values = []
    for kind, s, e in _boxes(data, start, end):
        if kind == b"mean":
            mean = data[s + 4:e]
        elif kind == b"name":
            name = data[s + 4:e]
        elif kind == b"data" and e - s >= 8:
            values.append(data[s + 8:e].decode("utf-8", "replace"))
    if name.upper() != b"AIGC":
        return []
    key = f"----:{mean.decode('latin-1')}:{name.decode('latin-1')}"
    return [(f"{where}/ilst/{key}", v) for v in values]


def mp4_aigc_blocks(data: bytes) -> list[tuple[str, str]]:
    """Every (location, JSON) AIGC entry in the ``meta`` boxes under ``moov`` (any depth), in file order."""
    found: list[tuple[str, str]] = []

    def walk(start: int, end: int, path: str, depth: int) -> None:
        for kind, s, e in _boxes(data, start, end):
            name = kind.decode("latin-1")
            if kind == b"meta":
                found.extend(_keys_and_items(data, s, e, f"{path}/meta"))
            elif (kind in _CONTAINERS or (depth == 0 and kind == b"moov")) and depth < _MAX_DEPTH:
                walk(s, e, f"{path}/{name}", depth + 1)

    for kind, s, e in _boxes(data, 0, len(data)):
        if kind == b"moov":
            walk(s, e, "moov", 1)
    return found


def matroska_aigc_blocks(media: Media) -> list[tuple[str, str]]:
    """AIGC tags of a Matroska/WebM file (global and per stream), via FFmpeg's tag reader."""
    container = open_input(media)
    try:
        found = [("Tags/SimpleTag", v) for k, v in container.metadata.items() if k.upper() == "AIGC"]
        for stream in container.streams:
            found += [(f"Tags/SimpleTag(stream {stream.index})", v) for k, v in stream.metadata.items()
                      if k.upper() == "AIGC"]
        return found
    finally:
        container.close()


def aigc_blocks(media: Media) -> list[tuple[str, str]]:
    if media.format in ("mp4", "mov"):
        return mp4_aigc_blocks(media.data)
    return matroska_aigc_blocks(media)


__all__ = ["aigc_blocks", "matroska_aigc_blocks", "mp4_aigc_blocks"]
