"""Explicit (visible) image label: LM Art. 4(1)(3), GB 45438 §5.2 (rows LM-05, LM-09, GB-03).

Text containing the AI element and the generation element, on an edge or corner, glyph
height >= 5% of the shorter side, white on a translucent dark box so it is legible on any
background. Burned into the pixels, so it survives download and export (LM-09).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from synthguard.marking.base import LabelContext, Reading
from synthguard.marking.fonts import find_font
from synthguard.marking.imageio import encode_like
from synthguard.media import Media, Modality

BOX_ALPHA = 170  # of 255: background shows through, yet white text keeps a contrast ratio above 4.5:1


@dataclass(frozen=True)
class LabelLayout:
    """Where and how big the label is; stored with the record (DS-19)."""

    text: str
    position: str
    box: tuple[int, int, int, int]  # left, top, right, bottom of the contrast box
    glyph_height: int  # measured ink height of the text in pixels
    ratio: float  # glyph_height / shorter image side (>= 0.05 required by GB-03)
    font_size: int
    lines: tuple[str, ...]

    def to_dict(self) -> dict:
        return asdict(self)


class VisibleLabelMarker:
    name = "image.visible"
    modalities = frozenset({Modality.IMAGE})

    def __init__(self, text: str = "AI生成 AI-generated", position: str = "bottom-right",
                 height_ratio: float = 0.05, font_path: Path | None = None, jpeg_quality: int = 92):
        self.text = text
        self.position = position
        self.height_ratio = max(0.05, height_ratio)
        self.font_file = str(find_font(text, font_path))
        self.jpeg_quality = jpeg_quality
        self._layouts: dict[tuple[int, int], LabelLayout] = {}

    # --- geometry ----------------------------------------------------------------------
    def layout(self, size: tuple[int, int]) -> LabelLayout:
        """Label geometry for an image size; memoised, since mark, read and the record all ask for it."""
        if size not in self._layouts:
            self._layouts[size] = self._layout(size)
        return self._layouts[size]

    def _layout(self, size: tuple[int, int]) -> LabelLayout:
        w, h = size
        target = math.ceil(self.height_ratio * min(w, h))
        margin = max(2, round(0.02 * min(w, h)))
        lines: tuple[str, ...] = (self.text,)
        font_size, ink_h, line_w = self._fit(lines, target)
        if line_w + 2 * margin > w and " " in self.text:  # too wide: one word group per line
            lines = tuple(self.text.split())
            font_size, ink_h, line_w = self._fit(lines, target)
        pad = max(2, round(0.35 * ink_h))
        line_gap = round(0.3 * ink_h)
        box_w = line_w + 2 * pad
        box_h = len(lines) * ink_h + (len(lines) - 1) * line_gap + 2 * pad
        left = {"left": margin, "right": w - margin - box_w}.get(self.position.split("-")[-1], (w - box_w) // 2)
        top = margin if self.position.startswith("top") else h - margin - box_h
        box = (max(0, left), max(0, top), min(w, left + box_w), min(h, top + box_h))
        return LabelLayout(self.text, self.position, box, ink_h, round(ink_h / min(w, h), 4), font_size, lines)

    def _fit(self, lines: tuple[str, ...], target: int) -> tuple[int, int, int]:
        """Smallest font size whose ink height (per line) reaches the target height."""
        size = max(4, target)
        while True:
            font = ImageFont.truetype(self.font_file, size)
            boxes = [font.getbbox(line) for line in lines]
            # conservative: measure without descenders, so "g" or "p" cannot inflate the height
            core = [font.getbbox(re.sub(r"[gjpqy,]", "", line) or line) for line in lines]
            ink_h = int(max(b[3] for b in core) - min(b[1] for b in core))
            if ink_h >= target or size > 4 * target + 8:
                return size, ink_h, int(max(b[2] - b[0] for b in boxes))
            size += max(1, (target - ink_h) // 2)

    # --- Marker ------------------------------------------------------------------------
    def render(self, img: Image.Image) -> tuple[Image.Image, LabelLayout]:
        lay = self.layout(img.size)
        font = ImageFont.truetype(self.font_file, lay.font_size)
        base = img.convert("RGBA") if img.mode != "RGBA" else img.copy()
        overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        draw.rectangle(lay.box, fill=(0, 0, 0, BOX_ALPHA))
        pad = max(2, round(0.35 * lay.glyph_height))
        y = lay.box[1] + pad
        for line in lay.lines:
            bbox = font.getbbox(line)
            draw.text((lay.box[0] + pad - bbox[0], y - bbox[1]), line, font=font, fill=(255, 255, 255, 255))
            y += lay.glyph_height + round(0.3 * lay.glyph_height)
        out = Image.alpha_composite(base, overlay)
        if img.mode != "RGBA":
            alpha = img.getchannel("A") if "A" in img.getbands() else None
            out = out.convert(img.mode if img.mode in ("RGB", "L") else "RGB")
            if alpha is not None:
                out.putalpha(alpha)
        return out, lay

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        media.require_image()
        img = media.image()
        out, _ = self.render(img)
        return media.replace(encode_like(out, media, quality=self.jpeg_quality))

    def read(self, media: Media) -> Reading:
        """Find our label by correlating a freshly rendered label with the expected corner."""
        media.require_image()
        img = media.image().convert("L")
        lay = self.layout(img.size)
        blank = Image.new("L", img.size, 128)
        ref, _ = self.render(blank.convert("RGB"))
        a = np.asarray(img.crop(lay.box), dtype=np.float32)
        e = np.asarray(ref.convert("L").crop(lay.box), dtype=np.float32)
        a, e = a - a.mean(), e - e.mean()
        denom = float(np.sqrt((a * a).sum() * (e * e).sum())) or 1.0
        corr = float((a * e).sum() / denom)
        found = corr > 0.6
        data: dict[str, object] = {"correlation": round(corr, 4)}
        if found:
            data |= {"text": lay.text, "position": lay.position, "ratio": lay.ratio, "box": list(lay.box)}
        return Reading(marker=self.name, found=found, data=data,
                       valid=(lay.ratio >= 0.05) if found else None)
