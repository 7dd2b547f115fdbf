"""Where the XMP packet lives in each image container (GB-15): read it, replace it, and read the
in-the-wild AIGC forms (PNG ``AIGC`` text chunks, EXIF UserComment JSON). Byte-level only: no re-encoding,
so pixels never change. Writers keep exactly one AIGC carrier (GB-08).
"""

from __future__ import annotations

from types import ModuleType

from synthguard.errors import UnsupportedMediaError
from synthguard.marking.image.containers import jpeg, png, webp

_BY_FORMAT: dict[str, ModuleType] = {"jpeg": jpeg, "png": png, "webp": webp}
FORMATS = tuple(_BY_FORMAT)


def _module(fmt: str) -> ModuleType:
    try:
        return _BY_FORMAT[fmt]
    except KeyError:
        raise UnsupportedMediaError("metadata labels are supported for JPEG, PNG and WebP, not {fmt}",
                                    values={"fmt": fmt}) from None


def read_xmp(data: bytes, fmt: str) -> list[bytes]:
    """Every standard XMP packet in the file (one expected). Raises CorruptMediaError/MetadataError."""
    return _module(fmt).read_xmp(data)


def write_xmp(data: bytes, fmt: str, packet: bytes) -> bytes:
    """The file with its XMP replaced by ``packet`` and in-the-wild AIGC blocks removed."""
    return _module(fmt).write_xmp(data, packet)


def read_wild_aigc(data: bytes, fmt: str) -> list[tuple[str, str]]:
    """(location, JSON text) for each AIGC block outside XMP (PNG text chunks, EXIF UserComment)."""
    return _module(fmt).read_wild(data)


__all__ = ["FORMATS", "read_wild_aigc", "read_xmp", "write_xmp"]
