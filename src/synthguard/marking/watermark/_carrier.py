"""Pixel modes: extract a luminance carrier (0..255 scale, float32) and put a luminance change back.

Supported: RGB, RGBA/LA (alpha untouched), L, I;16 (16-bit grey; the change is scaled by 257), YCbCr (Y plane)
and CMYK (luminance of Pillow's CMYK->RGB conversion; the change is applied to the C, M and Y inks with the
opposite sign, K untouched, which moves Pillow's RGB rendering by exactly the change where nothing clips).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from synthguard.errors import WatermarkError

SUPPORTED_MODES = ("RGB", "RGBA", "L", "LA", "I;16", "YCbCr", "CMYK")
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

Apply = Callable[[np.ndarray], Image.Image]


def _rgb_luma(rgb: np.ndarray, rows: int = 64) -> np.ndarray:
    """Float32 luma, block by block of rows: the same products as one ``astype(float32) @ _LUMA`` (bit for bit),
    without a float copy of the whole image (100 MB for a 12-megapixel photo; a third of a 1080p detection's time
    went to faulting in its pages)."""
    h, w = rgb.shape[:2]
    out = np.empty((h, w), dtype=np.float32)
    for r in range(0, h, rows):
        np.matmul(rgb[r:r + rows, :, :3].astype(np.float32), _LUMA, out=out[r:r + rows])
    return out


def _add(arr: np.ndarray, delta: np.ndarray, hi: int, dtype: type) -> np.ndarray:
    out = arr.astype(np.float32) + (delta if arr.ndim == 2 else delta[..., None])
    np.clip(np.rint(out, out=out), 0, hi, out=out)
    return out.astype(dtype)


def carrier(image: Image.Image) -> tuple[np.ndarray, Apply]:
    """Return ``(luma, apply)``; ``apply(delta)`` builds the marked image (same mode and size)."""
    if not isinstance(image, Image.Image):
        raise WatermarkError("expected a PIL image, got {image_type}",
                             values={"image_type": type(image).__name__})
    mode = image.mode
    if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
        raise WatermarkError("animated images are not supported by the image watermark",
                             hint="Watermark each frame with the video watermark instead.")
    if mode in ("RGB", "RGBA"):
        arr = np.asarray(image)
        luma = _rgb_luma(arr)

        def apply(delta: np.ndarray) -> Image.Image:
            out = arr.copy()
            out[..., :3] = _add(arr[..., :3], delta, 255, np.uint8)
            return Image.fromarray(out, mode)

        return luma, apply
    if mode in ("L", "LA"):
        arr = np.asarray(image)
        luma = (arr if mode == "L" else arr[..., 0]).astype(np.float32)

        def apply(delta: np.ndarray) -> Image.Image:
            if mode == "L":
                return Image.fromarray(_add(arr, delta, 255, np.uint8), "L")
            out = arr.copy()
            out[..., 0] = _add(arr[..., 0], delta, 255, np.uint8)
            return Image.fromarray(out, "LA")

        return luma, apply
    if mode == "I;16":
        arr = np.asarray(image).astype(np.uint16)
        luma = arr.astype(np.float32) / 257.0

        def apply(delta: np.ndarray) -> Image.Image:
            out = _add(arr, delta * 257.0, 65535, np.uint16)
            return Image.frombytes("I;16", image.size, out.astype("<u2").tobytes())

        return luma, apply
    if mode == "YCbCr":
        arr = np.asarray(image)
        luma = arr[..., 0].astype(np.float32)

        def apply(delta: np.ndarray) -> Image.Image:
            out = arr.copy()
            out[..., 0] = _add(arr[..., 0], delta, 255, np.uint8)
            return Image.fromarray(out, "YCbCr")

        return luma, apply
    if mode == "CMYK":
        arr = np.asarray(image)
        luma = _rgb_luma(np.asarray(image.convert("RGB")))

        def apply(delta: np.ndarray) -> Image.Image:
            out = arr.copy()
            out[..., :3] = _add(arr[..., :3], -delta, 255, np.uint8)
            return Image.fromarray(out, "CMYK")

        return luma, apply
    raise WatermarkError(
        "image mode {mode!r} is not supported by the image watermark (supported: {supported_modes})",
        hint="Convert the image first, e.g. image.convert('RGB') for palette (P), bilevel (1) or float images.",
        values={"mode": mode, "supported_modes": ", ".join(SUPPORTED_MODES)})
