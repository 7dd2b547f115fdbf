"""Explicit video label: the image label burned into the opening frames (LM-06, LM-09, GB-05).

GB 45438 §5.4: a text prompt with the AI and generation elements in the opening frames for at least 2 s at normal
speed, glyph height >= 5% of the frame's shorter side; optionally during the whole video (``persistent``).  The
label is laid out and rendered once per video by the image label (:class:`VisibleLabelMarker`: same fonts, CJK,
contrast box, geometry), turned into per-plane YUV values and an alpha mask, and blended into each frame's planes
(:class:`LabelOverlay`), so no frame is converted to RGB and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from synthguard.marking.image.visible import LabelLayout, VisibleLabelMarker

MIN_SECONDS = 2.0  # GB-05
_BT601 = np.array([[0.257, 0.504, 0.098], [-0.148, -0.291, 0.439], [0.439, -0.368, -0.071]], np.float32)
_OFFSET = np.array([16.0, 128.0, 128.0], np.float32)


def _yuv(rgb: np.ndarray) -> np.ndarray:
    """Full-range RGB -> limited-range BT.601 YUV (what x264's yuv420p input means by default)."""
    return rgb.astype(np.float32) @ _BT601.T + _OFFSET


@dataclass(frozen=True)
class LabelOverlay:
    """One frame size's label as planes: values and alpha for Y (full size) and U, V (half size) in the box."""

    layout: LabelLayout
    box: tuple[int, int, int, int]  # even-aligned left, top, right, bottom
    y: np.ndarray
    y_alpha: np.ndarray
    uv: np.ndarray  # (2, h/2, w/2)
    uv_alpha: np.ndarray

    @classmethod
    def render(cls, label: VisibleLabelMarker, width: int, height: int, rotation: int = 0) -> LabelOverlay:
        """Render the label over black and over white: the two results give the overlay's colour and alpha.

        ``rotation`` (the display matrix's, counterclockwise) lays the label out upright *as displayed*: it is
        rendered at the display size and turned back into the stored frame's orientation."""
        k = (rotation // 90) % 4
        display = (height, width) if k % 2 else (width, height)
        lay = label.layout(display)
        on_black = np.asarray(label.render(Image.new("RGB", display, (0, 0, 0)))[0], np.float32)
        on_white = np.asarray(label.render(Image.new("RGB", display, (255, 255, 255)))[0], np.float32)
        if k:  # displayed = rot90(stored, k) (numpy turns counterclockwise), so stored = rot90(displayed, -k)
            on_black, on_white = np.rot90(on_black, -k), np.rot90(on_white, -k)
        ys, xs = np.nonzero((on_white - on_black).max(axis=2) < 254.5)  # pixels the label covers
        l0, t0, r0, b0 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
        box = (l0 - l0 % 2, t0 - t0 % 2, min(width, r0 + r0 % 2), min(height, b0 + b0 % 2))
        sl = (slice(box[1], box[3]), slice(box[0], box[2]))
        black, white = on_black[sl], on_white[sl]
        alpha = np.clip(1.0 - (white - black).mean(axis=2) / 255.0, 0.0, 1.0)  # per pixel, same for R, G, B
        colour = np.where(alpha[..., None] > 1e-3, black / np.maximum(alpha[..., None], 1e-3), 0.0)
        yuv = _yuv(np.clip(colour, 0, 255))
        a2 = (alpha[0::2, 0::2] + alpha[1::2, 0::2] + alpha[0::2, 1::2] + alpha[1::2, 1::2]) / 4
        uv = np.stack([(yuv[..., c] * alpha).reshape(a2.shape[0], 2, a2.shape[1], 2).mean(axis=(1, 3))
                       / np.maximum(a2, 1e-3) for c in (1, 2)])
        return cls(lay, box, yuv[..., 0], alpha, uv, a2)

    def apply(self, yuv420: np.ndarray, width: int, height: int) -> None:
        """Blend into one yuv420p frame array (h*3/2, w) in place."""
        left, top, right, bottom = self.box
        y = yuv420[:height]
        roi = y[top:bottom, left:right].astype(np.float32)
        y[top:bottom, left:right] = np.rint(roi + (self.y - roi) * self.y_alpha).clip(0, 255).astype(np.uint8)
        quarter = (height // 2) * (width // 2)
        chroma = yuv420[height:].reshape(-1)
        for c in range(2):
            plane = chroma[c * quarter:(c + 1) * quarter].reshape(height // 2, width // 2)
            roi = plane[top // 2:bottom // 2, left // 2:right // 2].astype(np.float32)
            plane[top // 2:bottom // 2, left // 2:right // 2] = np.rint(
                roi + (self.uv[c] - roi) * self.uv_alpha).clip(0, 255).astype(np.uint8)

    def correlation(self, rgb: np.ndarray) -> float:
        """How well a decoded frame's luminance in the box matches the label's expected luminance pattern."""
        left, top, right, bottom = self.box
        got = _yuv(rgb[top:bottom, left:right])[..., 0]
        expected = 128.0 + (self.y - 128.0) * self.y_alpha  # the label over mid grey, as the image reader does
        a, e = got - got.mean(), expected - expected.mean()
        denom = float(np.sqrt((a * a).sum() * (e * e).sum())) or 1.0
        return float((a * e).sum() / denom)


class FrameLabeller:
    """A frame operation: blend the label into frames before ``until`` seconds (every frame when persistent)."""

    def __init__(self, overlay: LabelOverlay, width: int, height: int, until: float):
        self.overlay, self.width, self.height, self.until = overlay, width, height, until

    def __call__(self, index: int, t: float, yuv420: np.ndarray) -> None:
        if t < self.until:
            self.overlay.apply(yuv420, self.width, self.height)


__all__ = ["MIN_SECONDS", "FrameLabeller", "LabelOverlay"]
