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

from synthguard.codecs.image import encode_like
from synthguard.marking.base import LabelContext, Reading
from synthguard.marking.fonts import find_font
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
        base = img.convert("RGBA") if img.mode != "RGBA" else img.copy()
        out = Image.alpha_composite(base, self._overlay(lay, base.size, (0, 0)))
        if img.mode != "RGBA":
            alpha = img.getchannel("A") if "A" in img.getbands() else None
            out = out.convert(img.mode if img.mode in ("RGB", "L") else "RGB")
            if alpha is not None:
                out.putalpha(alpha)
        return out, lay

    def _overlay(self, lay: LabelLayout, size: tuple[int, int], origin: tuple[int, int]) -> Image.Image:
        """The label (translucent box, white text) on a transparent layer of ``size`` whose top-left corner is
        ``origin`` in image coordinates: the whole image for ``render``, only the box for the reader's template."""
        font = ImageFont.truetype(self.font_file, lay.font_size)
        overlay = Image.new("RGBA", size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        ox, oy = origin
        draw.rectangle((lay.box[0] - ox, lay.box[1] - oy, lay.box[2] - ox, lay.box[3] - oy), fill=(0, 0, 0, BOX_ALPHA))
        pad = max(2, round(0.35 * lay.glyph_height))
        y = lay.box[1] + pad
        for line in lay.lines:
            bbox = font.getbbox(line)
            draw.text((lay.box[0] + pad - bbox[0] - ox, y - bbox[1] - oy), line, font=font, fill=(255, 255, 255, 255))
            y += lay.glyph_height + round(0.3 * lay.glyph_height)
        return overlay

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        media.require_image()
        img = media.image()
        out, _ = self.render(img)
        return media.replace(encode_like(out, media, quality=self.jpeg_quality))

    def read(self, media: Media) -> Reading:
        """Find our label after resizes, crops and re-encoding (issue 22): multi-scale normalised cross-correlation
        of the label as this reader would draw it, over the region the label's corner can have moved to.

        Three outcomes: found (>= FOUND), uncertain (a weaker match: ``found`` is False and ``certain`` is False,
        so a report says what was checked instead of "not found"), and not found."""
        media.require_image()
        img = media.image().convert("L")
        hit = self._search(img)
        score = hit[0]
        data: dict[str, object] = {"correlation": round(score, 4), "certain": not FOUND > score >= UNSURE,
                                   "checked": self._checked(img.size)}
        found = score >= FOUND
        if found:
            lay = self.layout(img.size)
            data |= {"text": lay.text, "position": lay.position, "scale": round(hit[1], 3), "box": list(hit[2]),
                     "ratio": round(hit[3] / min(img.size), 4)}
        return Reading(marker=self.name, found=found, data=data,
                       valid=(data["ratio"] >= 0.05 - 0.005) if found else None)  # type: ignore[operator]

    def _checked(self, size: tuple[int, int]) -> str:
        return (f"this service's label \"{self.text}\" looked for near the {self.position} corner, up to "
                f"{SLACK:.0%} of the image away from where it is drawn and at {SCALES[0]:.2f}-{SCALES[-1]:.2f}x its "
                "size (resized, re-encoded or slightly cropped copies); other label designs are not recognized")

    def _template(self, size: tuple[int, int]) -> tuple[np.ndarray, LabelLayout]:
        """The label as drawn on mid-grey for an image of ``size``, cut to its box plus PAD (float32 grey)."""
        lay = self.layout(size)
        x0, y0, x1, y1 = lay.box
        dims = (x1 - x0 + 2 * PAD, y1 - y0 + 2 * PAD)
        grey = Image.new("RGBA", dims, (128, 128, 128, 255))
        ref = Image.alpha_composite(grey, self._overlay(lay, dims, (x0 - PAD, y0 - PAD))).convert("L")
        return np.asarray(ref, dtype=np.float32), lay

    def _search(self, img: Image.Image) -> tuple[float, float, tuple[int, int, int, int], int]:
        """(best correlation, scale, box in image pixels, glyph height in pixels) near the expected box.

        A resize keeps the label where the layout puts it (both scale with the image); a crop of a few percent
        moves it by as much and changes its relative size.  So the search is local: the expected box widened by
        SLACK of the image on each side, scales 1/(1+SLACK)..1+SLACK, at ~SEARCH_GLYPH px glyphs.  A local search
        keeps unlabeled photos far below FOUND, where a search of the whole image would not."""
        import cv2

        ref, lay = self._template(img.size)
        f = min(1.0, SEARCH_GLYPH / max(lay.glyph_height, 1))
        small = np.asarray(img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))),
                                      Image.Resampling.BOX if f < 1 else Image.Resampling.BICUBIC), dtype=np.float32)
        sh, sw = small.shape
        mx, my = round(SLACK * sw) + 2, round(SLACK * sh) + 2
        th, tw = round(ref.shape[0] * f * (1 + SLACK)), round(ref.shape[1] * f * (1 + SLACK))
        # the label may be cut by the image's edge: pad (replicated) so what remains of it can still be placed
        padded = cv2.copyMakeBorder(small, th, th, tw, tw, cv2.BORDER_REPLICATE)
        x0, y0 = round(lay.box[0] * f) - mx + tw, round(lay.box[1] * f) - my + th
        x1, y1 = round(lay.box[2] * f) + mx + tw + tw, round(lay.box[3] * f) + my + th + th
        region = padded[max(0, y0): y1, max(0, x0): x1]
        ox, oy = max(0, x0) - tw, max(0, y0) - th
        best = (-1.0, 1.0, lay.box, lay.glyph_height)
        sums = cv2.integral2(region, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
        for scale in SCALES:
            k = f * scale
            tmpl = cv2.resize(ref, (max(1, round(ref.shape[1] * k)), max(1, round(ref.shape[0] * k))),
                              interpolation=cv2.INTER_AREA)
            if tmpl.shape[0] > region.shape[0] or tmpl.shape[1] > region.shape[1] or tmpl.shape[1] < 8:
                continue
            _, score, _, (x, y) = cv2.minMaxLoc(_ncc(region, tmpl, sums))
            if score > best[0]:
                left, top = (x + ox) / f, (y + oy) / f
                bw, bh = (lay.box[2] - lay.box[0]) * scale, (lay.box[3] - lay.box[1]) * scale
                box = (max(0, round(left)), max(0, round(top)), round(min(img.width, left + bw)),
                       round(min(img.height, top + bh)))
                best = (float(score), scale, box, round(lay.glyph_height * scale))
        return best


FOUND = 0.6  # normalised correlation with the label: unlabeled photos stay far below (tests/test_visible_label.py)
UNSURE = 0.35  # between the two: possibly a damaged label; the reader is not sure and says so
SLACK = 0.08  # how far (fraction of the image) and how much (scale) a crop may have moved the label
MIN_STD = 24.0  # grey levels: white text on the dark box deviates far more than this
SEARCH_GLYPH = 24  # glyph height in search pixels
PAD = 0  # margin around the template's box (the box edge is the pattern's edge: outside it is unknown content)
SCALES = tuple(round((1 + SLACK) ** (i / 3), 4) for i in range(-3, 4))  # 1/(1+SLACK) .. 1+SLACK, 7 steps


def _ncc(region: np.ndarray, part: np.ndarray, sums: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Normalised cross-correlation whose window deviation is floored at MIN_STD grey levels: in a flat window
    (sky, a padded edge) plain NCC divides by almost nothing and "matches" anything; our label never is flat.

    The windows' sums and sums of squares come from the region's integral images (``sums``: ``cv2.integral2`` of
    ``region``, computed once for every scale of the search), not from two more template matches."""
    import cv2

    t = part - part.mean()
    n = t.size
    cc = cv2.matchTemplate(region, t, cv2.TM_CCORR)
    ph, pw = part.shape
    s, sq = sums
    s1 = s[ph:, pw:] - s[:-ph, pw:] - s[ph:, :-pw] + s[:-ph, :-pw]
    s2 = sq[ph:, pw:] - sq[:-ph, pw:] - sq[ph:, :-pw] + sq[:-ph, :-pw]
    var = np.maximum(s2 - s1 * s1 / n, n * MIN_STD**2)
    return cc / (float(np.sqrt((t * t).sum())) * np.sqrt(var) + 1e-9)  # type: ignore[no-any-return]
