"""Re-encode edited pixels in the input's format, keeping its colour profile and EXIF."""

from __future__ import annotations

import io

from PIL import Image

from synthguard.errors import UnsupportedMediaError
from synthguard.media import IMAGE_WRITE_FORMATS, Media


def encode_like(img: Image.Image, like: Media, *, quality: int = 92) -> bytes:
    """Encode ``img`` as ``like``'s format; ICC profile and EXIF carried over from ``like``."""
    if like.format not in IMAGE_WRITE_FORMATS:
        raise UnsupportedMediaError(
            "cannot write {mime}",
            values={"mime": like.mime}, path=like.name, hint="Convert the image to PNG, JPEG or WebP first."
        )
    src = Image.open(io.BytesIO(like.data))
    params: dict = {}
    if icc := src.info.get("icc_profile"):
        params["icc_profile"] = icc
    if exif := src.info.get("exif"):
        params["exif"] = exif
    buf = io.BytesIO()
    if like.format == "jpeg":
        if img.mode not in ("RGB", "L", "CMYK"):
            img = img.convert("RGB")
        subsampling = 0 if quality >= 90 else 2
        img.save(buf, "JPEG", quality=quality, subsampling=subsampling, optimize=False, **params)
    elif like.format == "png":
        img.save(buf, "PNG", compress_level=3, **params)
    else:
        lossless = bool(getattr(src, "info", {}).get("lossless")) or _webp_is_lossless(like.data)
        img.save(buf, "WEBP", quality=quality if not lossless else 100, lossless=lossless, method=3, **params)
    return buf.getvalue()


def _webp_is_lossless(data: bytes) -> bool:
    return b"VP8L" in data[12:64] and b"VP8 " not in data[12:64]
