"""Robust invisible video watermark: the image watermark's keyed tile on every frame, aggregated over time (LM-11).

Embedding.  Every frame's luminance gets the image watermark's pattern (``_pattern``: pilot chips plus the coded
64-bit payload in a keyed 128x128 tile, see ``image.py``), modulated by the frame's own perceptual mask, at a fixed
energy per frame (:data:`TARGET_PSNR_DB`, 38 dB at strength 1: 4.5 dB above the image watermark, because H.264's
dead-zone quantiser removes a weaker mark at CRF 28).  The tiled pattern at the working resolution is computed once
per video (:class:`FrameEmbedder`); per frame only the mask is (at the working resolution), the product is resized
to the frame and added with saturation in place (about 5 ms of one core for a 720p frame).  The working resolution
is coarser than the image watermark's (short side :data:`WORK_SHORT_SIDE`), so the chips are larger on screen: the
mark's energy sits lower in the spectrum, where H.264 at CRF 28 and a downscale to 480p leave it.
The pattern is the same on every frame, so cutting, dropping or duplicating frames (a frame-rate change) and
re-timing do not desynchronise it: any frame carries the whole mark.

Detection (:class:`FrameAccumulator`).  Sampled frames are brought to the working resolution (where the tile period
is exactly 128 px, whatever the copy's resolution, since downscales keep the aspect) and whitened (key-independent,
as for images) and the whitened residuals are *summed*: the mark adds up coherently while moving content and coding
noise do not.  The sum is then tested like one image: the lattice priors (native scale; a crop), and when they are
not significant the autocorrelation lattice search, each folded onto one tile and correlated with the keyed pilot
over every cyclic offset and band profile.  Nothing before the keyed test depends on the key, so the image
watermark's bound carries over: Hoeffding per candidate, Bonferroni over all ``N_VIDEO_CANDIDATES`` (the image
detector's ``N_CANDIDATES`` -- lattice hypothesis, orientation, profile, offset -- plus the large periods below)
-- also when the priors' early return stopped the search -- and the CRC-24 list-decoding bound; ``detected``
means ``p_value <= 1e-6``.  Frames are sampled evenly over the whole video (at most :data:`MAX_FRAMES`); the number
tested is reported, and a clip too short or too degraded to carry the mark reads as "not detected" with its honest
p-value.

Limits: frames under :data:`MIN_EMBED_SIDE` are refused; below ~320 px on the short side the chips are under 2 px
on screen and CRF 28 removes most of the mark (same-size re-encodes still read back).  The pattern is static, so an
attacker who averages many frames of many marked videos can estimate it.  Geometry as for images (issue 24):
mirrors and quarter turns (the orientation search), aspect changes (affine lattices), frames under 320 px (upscaled
to the working resolution), crops down to ~1.6 tiles across the short side (the scale model's reach), and tighter
crops -- a 9:16 crop of a 16:9 video, a crop to 25 % of the area, 0.9-1.7 tiles across, resized or not, mirrored or
not -- by a keyed scan of large periods (:data:`LARGE_PERIODS`, counted in :data:`N_VIDEO_CANDIDATES`).  Not
covered: a tight crop combined with an aspect change or a rotation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from synthguard.errors import WatermarkError
from synthguard.marking.watermark import payload as pl
from synthguard.marking.watermark._orient import N_ORIENTATIONS
from synthguard.marking.watermark._pattern import TILE, layout_for, tile_for
from synthguard.marking.watermark._sync import N_HYPOTHESES, lattices, square, whiten
from synthguard.marking.watermark.image import (
    N_CANDIDATES,
    PROFILES,
    ImageWatermarker,
    WatermarkResult,
    _log_p_correlation,
    _mask,
    _significant,
    keyed_test,
    pilot_rank,
)

WORK_SHORT_SIDE = 320  # working resolution of the pattern (image watermark: 512): larger chips survive H.264
# Energy per frame at strength 1 (image watermark: 42.5 dB).  H.264's dead-zone quantiser removes a weaker mark
# almost entirely at CRF 28 (tuning on Kodak 720p pans: z fell from 22 to 7 at 42.5 dB; >= 10 here, see bench).
TARGET_PSNR_DB = 38.0
MIN_EMBED_SIDE = 144
MIN_DETECT_SIDE = 96
MAX_FRAMES = 64  # frames summed at detection: the gain flattens once coding noise dominates
# Tight crops (issue 24): a 9:16 crop of a 16:9 frame keeps 1.4 tiles across its short side, a crop to 25 % of the
# area 1.25; the autocorrelation cannot see a period that does not repeat twice, so a grid of large periods (tiles
# across the short side, at the working resolution) is scanned with the key: ranked on the pilot in all 8
# orientations, the best few tested.  The sum of many frames tolerates a period error of ~1 % (z falls by ~10 %).
LARGE_TILES = (0.9, 1.7)
LARGE_STEP = 0.015  # relative step of the period grid: every period within 0.75 % of a grid point
LARGE_PERIODS = tuple(float(WORK_SHORT_SIDE / LARGE_TILES[1] * (1 + LARGE_STEP) ** i) for i in range(
    int(math.log(LARGE_TILES[1] / LARGE_TILES[0]) / math.log(1 + LARGE_STEP)) + 1))
LARGE_TESTED = 3  # grid points tested with the keyed correlation (all of them are counted)
# Bonferroni count: the image detector's candidates (the video tests a subset of its lattice hypotheses and none
# of its keystone/inset models) plus every large period in every orientation, band profile and offset
N_VIDEO_CANDIDATES = N_CANDIDATES + len(LARGE_PERIODS) * N_ORIENTATIONS * len(PROFILES) * TILE * TILE


@dataclass(frozen=True)
class VideoWatermarkResult:
    """The image watermark's result plus how much video it rests on."""

    result: WatermarkResult
    frames_tested: int

    @property
    def detected(self) -> bool:
        return self.result.detected

    def to_dict(self) -> dict:
        return self.result.to_dict() | {"frames_tested": self.frames_tested}


def to_work_res(y: np.ndarray) -> np.ndarray:
    """Detection runs at the embedding's working resolution, where the tile period is exactly ``TILE``."""
    h, w = y.shape
    s = WORK_SHORT_SIDE / min(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(y, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)


class FrameEmbedder:
    """Adds the mark to frames of one size; the tiled pattern is built once (the per-video part of the work)."""

    def __init__(self, tile: np.ndarray, width: int, height: int, strength: float):
        if min(width, height) < MIN_EMBED_SIDE:
            raise WatermarkError("video frames are {width}x{height}; the watermark needs at least {MIN_EMBED_SIDE} "
                                 "px on the short side", hint="Watermark a larger video (upscale before marking).",
                                 values={"width": width, "height": height, "MIN_EMBED_SIDE": MIN_EMBED_SIDE})
        self.size = (width, height)
        s = WORK_SHORT_SIDE / min(width, height)
        self.work = (max(1, round(width * s)), max(1, round(height * s)))
        ww, hw = self.work
        self.pattern = np.tile(tile, (-(-hw // TILE), -(-ww // TILE)))[:hw, :ww].astype(np.float32)
        self.target = np.float32(strength * 255.0 * 10 ** (-TARGET_PSNR_DB / 20))

    def __call__(self, luma: np.ndarray) -> None:
        """Mark one frame's luminance plane (uint8, h x w) in place."""
        yw = cv2.resize(luma, self.work, interpolation=cv2.INTER_AREA).astype(np.float32)
        pat = cv2.resize(self.pattern * _mask(yw), self.size, interpolation=cv2.INTER_LINEAR)
        rms = cv2.norm(pat) / math.sqrt(pat.size)
        pat *= np.float32(self.target / max(rms, 1e-9))
        cv2.add(luma, pat, dst=luma, dtype=cv2.CV_8U)  # rounds and saturates, in place


class FrameAccumulator:
    """Sums whitened luminance residuals of sampled frames, then runs the keyed presence test once."""

    def __init__(self, watermarker: VideoWatermarker):
        self._wm = watermarker
        self.total: np.ndarray | None = None
        self.scale = 1.0
        self.frames = 0

    def push(self, luma: np.ndarray) -> None:
        if min(luma.shape) < MIN_DETECT_SIDE:
            raise WatermarkError("video frames are {width}x{height}; watermark detection needs at least "
                                 "{MIN_DETECT_SIDE} px on the short side",
                                 values={"width": luma.shape[1], "height": luma.shape[0],
                                         "MIN_DETECT_SIDE": MIN_DETECT_SIDE})
        rn = whiten(to_work_res(luma.astype(np.float32)))
        self.scale = WORK_SHORT_SIDE / min(luma.shape)
        if self.total is None:
            self.total = rn.astype(np.float64)
        elif self.total.shape != rn.shape:
            raise WatermarkError("video frames change size mid-stream", hint="Detect on a re-exported copy.")
        else:
            self.total += rn
        self.frames += 1

    def result(self, expected: bytes | None = None) -> VideoWatermarkResult:
        if self.total is None:
            raise WatermarkError("no video frame to test")
        return VideoWatermarkResult(self._wm.test(self.total.astype(np.float32), self.scale, expected), self.frames)


class VideoWatermarker:
    """Embed / detect the video watermark with the image watermark's scheme key (same payload format)."""

    def __init__(self, key: bytes, strength: float = 1.0):
        self._image = ImageWatermarker(key, strength)  # validates key and strength
        self._key = bytes(key)
        self.strength = float(strength)

    def embedder(self, payload: bytes, width: int, height: int) -> FrameEmbedder:
        return FrameEmbedder(tile_for(self._key, pl.check_payload(payload)), width, height, self.strength)

    def accumulator(self) -> FrameAccumulator:
        return FrameAccumulator(self)

    def detect_frames(self, lumas: Iterable[np.ndarray], expected: bytes | None = None) -> VideoWatermarkResult:
        acc = self.accumulator()
        for luma in lumas:
            acc.push(luma)
        return acc.result(expected)

    def test(self, rn: np.ndarray, scale: float, expected: bytes | None = None) -> WatermarkResult:
        """The image watermark's keyed test (see image.py) on a summed, whitened residual at detection scale."""
        if expected is not None:
            expected = pl.check_payload(expected)
        layout = layout_for(self._key)
        coded = None if expected is None else pl.encode(expected)
        test = keyed_test(rn, layout, coded)

        priors: list[tuple[float, float]] = []
        for period in (TILE * min(rn.shape) / WORK_SHORT_SIDE, float(TILE)):
            if all(abs(period - q) >= 0.5 for q, _ in priors):
                priors.append((period, 0.0))
        found = [test(square(*p)) for p in priors]
        z_pri = max(f[0] for f in found)
        log_p = _log_p_correlation(z_pri, N_VIDEO_CANDIDATES)
        if _significant(log_p):  # early return: the correlation alone is significant
            decoded = ImageWatermarker._decode(layout, coded, found)
            if decoded.ok:
                return ImageWatermarker._result(z_pri, log_p, decoded, expected)
        for lattice in lattices(rn, scale, N_HYPOTHESES, tuple(priors))[len(priors):N_HYPOTHESES]:
            found.append(test(lattice))
        if (not _significant(_log_p_correlation(max(f[0] for f in found), N_VIDEO_CANDIDATES))
                or not ImageWatermarker._decode(layout, coded, found).ok):
            found += [test(square(p, 0.0)) for p in _large_periods(rn, layout)[:LARGE_TESTED]]
        return ImageWatermarker._conclude(layout, coded, found, expected, N_VIDEO_CANDIDATES)


def _large_periods(rn: np.ndarray, layout) -> list[float]:
    """:data:`LARGE_PERIODS`, best first by the pilot-only ranking score in the 8 orientations (``pilot_rank``):
    it only chooses which counted candidates to test."""
    rank = pilot_rank(rn, layout, N_ORIENTATIONS)
    scores = [rank(square(p, 0.0), None) for p in LARGE_PERIODS]
    return [LARGE_PERIODS[i] for i in np.argsort(scores)[::-1]]


__all__ = ["MAX_FRAMES", "FrameAccumulator", "FrameEmbedder", "VideoWatermarkResult", "VideoWatermarker"]
