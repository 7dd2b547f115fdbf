"""Images: decoding under our pixel limit (Pillow's decompression-bomb guard set to it) and re-encoding edited
pixels in the input's format, keeping its colour profile and EXIF.

Pillow is imported inside the functions, so importing the codec layer (``media`` does) stays cheap.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

from synthguard.codecs.formats import IMAGE_WRITE_FORMATS
from synthguard.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError

if TYPE_CHECKING:
    from PIL import Image

    from synthguard.media import Media


def check_pixels(size: tuple[int, int], max_pixels: int, name: str) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise CorruptMediaError("image has impossible size {w}x{h}", path=name, values={"w": w, "h": h})
    if w * h > max_pixels:
        raise MediaTooLargeError(
            "image is {w}x{h} = {pixels:,} pixels, over the limit of {max_pixels:,} (decompression-bomb guard)",
            path=name, values={"w": w, "h": h, "pixels": w * h, "max_pixels": max_pixels},
        )


def decode_image(data: bytes, name: str, max_pixels: int) -> Image.Image:
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise MediaTooLargeError(str(exc), path=name) from exc
    except Exception as exc:
        raise CorruptMediaError("cannot decode image: {exc}", path=name, values={"exc": exc}) from exc
    check_pixels(img.size, max_pixels, name)
    frames = int(getattr(img, "n_frames", 1))
    if frames > 1:
        raise UnsupportedMediaError(
            "animated image with {frames} frames", path=name,
            hint="Label animated images as video, or pass a single still frame.", values={"frames": frames},
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise CorruptMediaError("image data is truncated or corrupt: {exc}", path=name, values={"exc": exc}) from exc
    return img


def encode_like(img: Image.Image, like: Media, *, quality: int = 92) -> bytes:
    """Encode ``img`` as ``like``'s format; ICC profile and EXIF carried over from ``like``."""
    from PIL import Image

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
