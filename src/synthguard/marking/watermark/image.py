"""Robust invisible image watermark: keyed, tiled spread spectrum with autocorrelation synchronisation (DS-15).

Embedding (see ``_pattern``): the luminance is resampled to a working resolution (short side 512 px); a keyed
128x128 tile carrying pilot chips and the convolutionally coded payload is repeated over it, modulated by a
perceptual mask (local activity: stronger in texture, weaker in flat areas), resampled back to the image size and
added to the luminance at a fixed energy (PSNR ~42.5 dB at ``strength=1``).

Detection (see ``_sync``): whiten, estimate the tile lattice (scale, rotation) from the autocorrelation, warp
and fold onto one tile, then the keyed test.

The presence test.  For a lattice hypothesis and a cyclic offset ``o`` the statistic is
``C(o) = sum_c s_c h(x_c + o)`` over the pilot chips, where ``h`` is the folded, matched-filtered image and
``s_c`` the keyed +-1 chip signs.  Under the null hypothesis (the image does not carry this key's mark, so
the signs are independent of the image) Hoeffding's inequality gives ``P(C(o) >= z * sqrt(V(o))) <=
exp(-z^2 / 2)`` with ``V(o) = sum_c h(x_c + o)^2`` -- whatever the image content.  We search
``N_HYPOTHESES * 128^2`` (lattice, offset) candidates, so the reported p-value is Bonferroni-corrected:
``p = N * exp(-z_max^2 / 2)``.  A second, independent piece of evidence is the payload CRC: under the null the
payload chips' signs are independent uniform signs, the ML decoder is equivariant under codeword translations,
so the decoded frame is uniform and passes CRC-24 with probability exactly 2**-24.  The final p-value is
``2 * min(p_correlation, p_crc)`` and ``detected`` means ``p_value <= FALSE_POSITIVE_RATE`` (1e-6).

With ``expected`` given (verify mode) the correlation uses all chips (pilot and the expected payload's
chips), a stronger test of "this key's mark is present"; ``bit_accuracy`` compares the decoded bits with
``expected``.  Whether the mark carries ``expected`` is ``result.payload == expected``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter

from synthguard.errors import WatermarkError
from synthguard.marking.watermark import payload as pl
from synthguard.marking.watermark._carrier import carrier
from synthguard.marking.watermark._pattern import CHIP, PULSE, TILE, layout_for, tile_for
from synthguard.marking.watermark._sync import N_HYPOTHESES, fold, lattices, to_detect_res, trim_border, whiten

FALSE_POSITIVE_RATE = 1e-6
WORK_SHORT_SIDE = 512
MIN_EMBED_SIDE = 256
MIN_DETECT_SIDE = 96
TARGET_PSNR_DB = 42.5
N_CANDIDATES = N_HYPOTHESES * TILE * TILE
_LOG_TINY = math.log(1e-300)
WHITEN_BETA = 1.0


@dataclass(frozen=True)
class WatermarkResult:
    detected: bool
    payload: bytes | None
    score: float
    p_value: float
    bit_accuracy: float | None = None  # only when an expected payload was given

    def to_dict(self) -> dict:
        return {"detected": self.detected, "payload": self.payload.hex() if self.payload is not None else None,
                "score": self.score, "p_value": self.p_value}


def _mask(y: np.ndarray) -> np.ndarray:
    """Perceptual gain: grows with local activity (texture hides the mark), floor in flat areas."""
    r = y - cv2.GaussianBlur(y, (0, 0), 1.5, borderType=cv2.BORDER_REFLECT)
    act = np.sqrt(cv2.GaussianBlur(r * r, (0, 0), 3.0, borderType=cv2.BORDER_REFLECT))
    return (act + 1.5) ** 0.75


def _matched(folded: np.ndarray) -> np.ndarray:
    """Band-limit the folded tile to the pulse band and whiten it spectrally (weights from the tile itself)."""
    spec = np.fft.fft2(folded) * PULSE
    if WHITEN_BETA > 0:
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        smooth = uniform_filter(power, 7, mode="wrap").astype(np.float64)
        spec = spec / (smooth + 1e-9 * smooth.mean() + 1e-30) ** (WHITEN_BETA / 2)
    return np.real(np.fft.ifft2(spec))


def _log_p_correlation(z: float) -> float:
    if not z > 0:
        return 0.0
    return min(0.0, math.log(N_CANDIDATES) - 0.5 * z * z)


class ImageWatermarker:
    """Embed / detect SynthGuard's invisible image watermark with a scheme key (the spreading sequence's seed)."""

    def __init__(self, key: bytes, strength: float = 1.0):
        if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
            raise WatermarkError("the watermark key must be at least 16 bytes (32 recommended)",
                                 hint="Configure a random 32-byte watermark scheme key.")
        if not (isinstance(strength, (int, float)) and 0 < strength <= 10 and math.isfinite(strength)):
            raise WatermarkError(f"watermark strength must be in (0, 10], got {strength!r}")
        self._key = bytes(key)
        self.strength = float(strength)

    # ------------------------------------------------------------------------------------------ embed
    def embed(self, image: Image.Image, payload: bytes) -> Image.Image:
        payload = pl.check_payload(payload)
        luma, apply = carrier(image)
        h, w = luma.shape
        if min(h, w) < MIN_EMBED_SIDE:
            raise WatermarkError(f"image is {w}x{h}; the watermark needs at least {MIN_EMBED_SIDE} px on the short "
                                 "side", hint="Watermark a larger image (upscale small outputs before marking).")
        s = WORK_SHORT_SIDE / min(h, w)
        hw, ww = max(1, round(h * s)), max(1, round(w * s))
        yw = luma if (hw, ww) == (h, w) else cv2.resize(luma, (ww, hw), interpolation=cv2.INTER_AREA)
        tile = tile_for(self._key, payload)
        pat = np.tile(tile, (-(-hw // TILE), -(-ww // TILE)))[:hw, :ww] * _mask(yw)
        if (hw, ww) != (h, w):
            pat = cv2.resize(pat, (w, h), interpolation=cv2.INTER_LINEAR)
        rms = float(np.sqrt(np.mean(pat * pat, dtype=np.float64)))
        target = self.strength * 255.0 * 10 ** (-TARGET_PSNR_DB / 20)
        return apply(pat * np.float32(target / max(rms, 1e-9)))

    # ------------------------------------------------------------------------------------------ detect
    def detect(self, image: Image.Image, expected: bytes | None = None) -> WatermarkResult:
        if expected is not None:
            expected = pl.check_payload(expected)
        luma, _ = carrier(image)
        if min(luma.shape) < MIN_DETECT_SIDE:
            raise WatermarkError(f"image is {luma.shape[1]}x{luma.shape[0]}; watermark detection needs at least "
                                 f"{MIN_DETECT_SIDE} px on the short side")
        full_short = min(luma.shape)
        luma = trim_border(luma, MIN_DETECT_SIDE)  # screenshot / letterbox margins carry no mark
        yd, scale = to_detect_res(luma)
        rn = whiten(yd)
        layout = layout_for(self._key)
        coded = None if expected is None else pl.encode(expected)
        comb = layout.comb(layout.chip_values(coded))
        ref = np.conj(np.fft.fft2(comb))
        ref_abs = np.conj(np.fft.fft2(np.abs(comb)))
        # lattice periods if the (trimmed, or untrimmed) image was only resized, or only cropped
        priors: list[tuple[float, float]] = []
        for period in (TILE * min(yd.shape) / WORK_SHORT_SIDE, TILE * full_short * scale / WORK_SHORT_SIDE,
                       float(TILE)):
            if all(abs(period - q) >= 0.5 for q, _ in priors):
                priors.append((period, 0.0))
        best = (-np.inf, None, None)
        for period, angle in lattices(rn, scale, N_HYPOTHESES, tuple(priors))[:N_HYPOTHESES]:
            folded = fold(rn, period, angle)
            h = _matched(folded)
            corr = np.real(np.fft.ifft2(np.fft.fft2(h) * ref))
            var = np.real(np.fft.ifft2(np.fft.fft2(h * h) * ref_abs))
            z = corr / np.sqrt(np.maximum(var, 1e-12))
            z[var <= 1e-9] = 0.0
            k = int(np.argmax(z))
            if z.flat[k] > best[0]:
                best = (float(z.flat[k]), h, np.unravel_index(k, z.shape))
        z_max, h, off = best
        if h is None:
            return self._result(0.0, 0.0, None, expected)
        chips = np.roll(h, (-int(off[0]), -int(off[1])), axis=(0, 1))[::CHIP, ::CHIP].reshape(-1) * layout.signs
        pay = ~layout.pilot
        soft = np.bincount(layout.role[pay], weights=chips[pay], minlength=pl.CODED_BITS)
        decoded = pl.decode(soft / max(float(np.sqrt(np.mean(chips[pay] ** 2))), 1e-12))
        return self._result(z_max, _log_p_correlation(z_max), decoded, expected)

    @staticmethod
    def _result(z: float, log_p_corr: float, decoded: pl.Decoded | None, expected: bytes | None) -> WatermarkResult:
        # the CRC argument needs the offset chosen by the pilot alone, i.e. blind mode
        crc_ok = expected is None and decoded is not None and decoded.ok
        log_p_crc = -pl.CRC_BITS * math.log(2) if crc_ok else 0.0
        log_p = min(0.0, math.log(2) + min(log_p_corr, log_p_crc))
        p_value = math.exp(max(log_p, _LOG_TINY))
        acc = None
        if expected is not None:
            acc = 0.0 if decoded is None else float(np.mean(decoded.bits == pl.payload_bits(expected)))
        return WatermarkResult(
            detected=bool(p_value <= FALSE_POSITIVE_RATE),
            payload=decoded.payload if decoded is not None else None,
            score=float(max(z, 0.0)),
            p_value=p_value,
            bit_accuracy=acc,
        )
