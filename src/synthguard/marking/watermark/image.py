"""Robust invisible image watermark: keyed, tiled spread spectrum with autocorrelation synchronisation (DS-15).

Embedding (see ``_pattern``): the luminance is resampled to a working resolution (short side 512 px); a keyed
128x128 tile carrying pilot chips and the convolutionally coded payload is repeated over it, modulated by a
perceptual mask (local activity: stronger in texture, weaker in flat areas), resampled back to the image size and
added to the luminance at a fixed energy (PSNR ~42.5 dB at ``strength=1``).  The chip pulse is tapered above
0.18 cycles/pixel, so most of the energy sits in the band that survives downscaling followed by JPEG.

Detection (see ``_sync``): strip flat margins (screenshots, letterboxing), whiten, then test lattice hypotheses
(scale, rotation): fold the image onto one tile under the hypothesis and run the keyed test.  For the payload the
decoding offset is refined with the payload chips' (sign-free) energy, the folded tile is equalised per frequency
ring with a pilot-aided estimate of the surviving mark amplitude, and the soft bits go to a CRC-aided list Viterbi
decoder.

Fast path. The first hypothesis is "no geometric change" (native scale, no rotation; the tile offset is found by the
cyclic correlation of the fold, as for every hypothesis). When its correlation alone is significant at the full
Bonferroni count (below) and the payload decodes, ``detect`` returns at once (~10 ms at 768x512: an unmodified or
re-encoded upload). Otherwise the other resize/crop priors are tested (a crop, a trimmed screenshot; no
autocorrelation needed) and the same early return applies to the maximum over the priors (~11-15 ms for a marked
crop or screenshot at 768x512). Otherwise the lattice search runs: the priors again (reused), two rotation models
scored on the autocorrelation (any angle, cropped, or "straightened": cropped to the largest same-aspect rectangle
and resized back), a scale model, an aspect model (independent x and y periods, ``_affine``) and the
autocorrelation's lattice peaks (square and affine lattices), ``N_HYPOTHESES`` in all. When none of them is
significant, the search's reserve follows (``N_RESERVE`` runners-up: the models' next maxima, also on the
autocorrelation's sharp part, the aspect model's further picks, two shear models, rotated stretches -- an aspect
change then a rotation: ``_affine.rotated_stretches`` --, the peak lattices beyond ``N_HYPOTHESES``; textured
photos bury the mark's lattice among them), ranked on the pilot in all orientations, the
best ``RESERVE_TESTS`` tested; then a fine grid around the native prior (``PRIOR_GRID``: +-3 % in 0.5 % steps,
ranked on the pilot, the best tested -- a resized copy cropped by a few pixels on a photo textured all over, whose
autocorrelation does not show the true period); then a grid of small rotations (``PRIOR_ANGLES``: +-0.125 to +-1
degree in 0.125-degree steps, cropped or straightened; every other angle ranked on the pilot, then the best one's
two neighbours, the best of the three tested -- the rotation model misses these angles on such a photo: at a 128-px
lag half a degree moves the peaks by one pixel, inside a textured autocorrelation's broad central lobes); then the
stretches (``N_STRETCHES``: a forced aspect ratio, one axis at a prior's period and the other at the picks of
``_sync.axis_periods`` -- the image folded along the kept axis, the harmonic sum of its 1-D spectrum -- and twice
them, ranked on the pilot on tiles folded from that fold, the best tested: kodim05's brickwork buries the lattice
of every stretch in the 2-D autocorrelation); then the geometry models of ``_local`` (``N_LOCAL`` more hypotheses):
a keystone (a coarse scan ranked on the pilot, then its neighbours on the fine grid of amounts) and an inset (the
rectangles of straight edges a pasted picture leaves, each with the period its short side predicts and the inset's
own autocorrelation lattices -- a side next to a content edge is read a few % off -- read from the full-resolution
luminance: a small inset in a large picture has its chips below a pixel at detection scale).

Geometry (issue 24).  Every lattice hypothesis is tested in the 8 orientations of the folded tile (``_orient``:
mirrors, quarter turns, transposes -- which the square lattice cannot tell apart), so a mirrored or quarter-turned
copy is decided on the fast path; general lattices ``{a v1 + b v2}`` cover aspect changes (0.4-2.5), shear and
rotations after them; homographies (``_local``) cover a keystone of 2-12 % (one edge shrunk, the opposite edge
kept), and a rectangle cropped out of the image covers the mark as an inset (>= 30 % of the host's width, anywhere,
all four sides visible).  Not covered: a keystone combined with a mirror, a rotation or a crop, a general
perspective, an inset touching the host's border or whose sides blend into the host.

The presence test. For a lattice hypothesis, a band profile and a cyclic offset ``o`` the statistic is ``C(o) =
sum_c s_c h(x_c + o)`` over the pilot chips, where ``h`` is the folded, matched-filtered image and ``s_c`` the keyed
+-1 chip signs. Under the null hypothesis (the image does not carry this key's mark, so the signs are independent of
the image) Hoeffding's inequality gives ``P(C(o) >= z * sqrt(V(o))) <= exp(-z^2 / 2)`` with ``V(o) = sum_c h(x_c +
o)^2`` for every fixed candidate -- whatever the image content. There are ``N = (N_HYPOTHESES + N_RESERVE +
len(PRIOR_GRID) + 2 len(PRIOR_ANGLES) + N_STRETCHES + N_LOCAL) * N_ORIENTATIONS * len(PROFILES) * 128^2``
(lattice or homography, orientation, band profile, offset) candidates that could be tried: the lattice hypotheses
and the reserve come from the key-independent search (at most ``N_RESERVE`` distinct runners-up), ``PRIOR_GRID``
and ``PRIOR_ANGLES`` count every point of their grids, ``N_STRETCHES`` every pick the axis model can give,
and ``N_LOCAL`` counts every point of ``_local``'s keystone grid, every period variant of every inset rectangle and
its ``INSET_LATTICES`` autocorrelation lattices, although a cheap ranking on the pilot chips picks only a few of the
reserve's and ``_local``'s candidates to test (the maximum over any subset, however chosen, is at most the maximum
over all ``N``). The reported p-value is always Bonferroni-corrected with that full ``N`` -- ``p = N * exp(-z_max^2
/ 2)`` -- also when the fast path stopped after the first hypothesis (or the priors), so the bound holds whichever
path ran. A second, independent piece of evidence is the payload CRC: under the null the payload chips' signs are
independent uniform signs (also of the pilot's, which alone steer the ranking above), the ML decoder is equivariant
under codeword translations, so each frame on the decoder's list is uniform and the list (``LIST_SIZE`` = 8 frames,
checked only against the CRC) passes CRC-24 with probability at most ``8 * 2**-24``. The offset used for decoding is
chosen with sign-free statistics of the payload chips, which keeps that argument intact. The final p-value is ``2 *
min(p_correlation, p_crc)`` and ``detected`` means ``p_value <= FALSE_POSITIVE_RATE`` (1e-6). The fast path (and the
priors' early return) returns only when ``2 * p_correlation <= FALSE_POSITIVE_RATE`` on its own, an event inside
"the maximum over all N candidates is significant", so a detection (on either path) needs the correlation event
(probability <= FPR / 2 under the null) or the full path's CRC event (<= 4.8e-7): the false-positive rate stays
below 1e-6. When the correlation alone proves presence but the best offset's frame fails the CRC, up to
``DECODE_TRIES`` - 1 runner-up offsets are decoded to name the payload; they earn no CRC credit (the p-value stays
the correlation's), and each wrong frame passes the CRC with probability <= 4.8e-7.

With ``expected`` given (verify mode) the correlation uses all chips (pilot and the expected payload's
chips), a stronger test of "this key's mark is present"; ``bit_accuracy`` compares the decoded bits with
``expected``.  Whether the mark carries ``expected`` is ``result.payload == expected``.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from synthguard.errors import WatermarkError
from synthguard.i18n import N_
from synthguard.marking.watermark import _local
from synthguard.marking.watermark import payload as pl
from synthguard.marking.watermark._carrier import carrier
from synthguard.marking.watermark._local import N_LOCAL, Box, Homography
from synthguard.marking.watermark._orient import N_ORIENTATIONS, back, pull, push
from synthguard.marking.watermark._pattern import CHIP, CHIPS_PER_BIT, PULSE, TILE, layout_for, tile_for
from synthguard.marking.watermark._sync import (
    AXIS_PICKS,
    MIN_PERIOD,
    N_HYPOTHESES,
    N_RESERVE,
    Lattice,
    axis_fold,
    axis_periods,
    axis_tile,
    fold,
    lattices,
    square,
    straighten_factor,
    to_detect_res,
    trim_border,
    whiten,
)

FALSE_POSITIVE_RATE = 1e-6
SEARCHES = ("full", "priors")  # detection depth: every lattice hypothesis, or the resize/crop priors only
WORK_SHORT_SIDE = 512
MIN_EMBED_SIDE = 256
MIN_DETECT_SIDE = 96
TARGET_PSNR_DB = 42.5
_LOG_TINY = math.log(1e-300)
WHITEN_BETA = 1.0
EQ_BINS = 6
N_SYNC_REFINE = 3  # lattice hypotheses whose best offsets are refined with the payload chips' energy
PRIOR_GRID = tuple(round(0.005 * k, 3) for k in range(-6, 7) if k)  # relative period offsets around the native prior
ANGLE_STEP = 0.125  # degrees
PRIOR_ANGLES = tuple(ANGLE_STEP * k for k in range(-8, 9) if k)  # small rotations, each cropped and straightened
RESERVE_TESTS = 2  # of the lattice search's reserve (``_sync.N_RESERVE``, all counted), the best ranked tested
DECODE_TRIES = 4  # decoding offsets tried when the correlation alone proves presence (only the first earns CRC credit)


def _significant(log_p_correlation: float) -> bool:
    """The correlation alone proves presence (two-sided with the CRC route: 2 p <= FALSE_POSITIVE_RATE)."""
    return math.log(2) + log_p_correlation <= math.log(FALSE_POSITIVE_RATE)


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


def _white(folded: np.ndarray) -> np.ndarray:
    """Spectrum of the folded tile, whitened with weights from the tile itself (pulse band only)."""
    spec = np.fft.fft2(folded) * (PULSE > 0)
    if WHITEN_BETA > 0:
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        # a 7x7 circular box mean (scipy.ndimage.uniform_filter mode="wrap", whose import alone costs ~0.3 s)
        smooth = cv2.blur(cv2.copyMakeBorder(power, 3, 3, 3, 3, cv2.BORDER_WRAP), (7, 7))[3:-3, 3:-3]
        smooth = smooth.astype(np.float64)
        spec = spec / (smooth + 1e-9 * smooth.mean() + 1e-30) ** (WHITEN_BETA / 2)
    return spec


def _matched(folded: np.ndarray) -> np.ndarray:
    """Band-limit the folded tile to the pulse band, whiten it spectrally and weight by the pulse (matched filter)."""
    return np.real(np.fft.ifft2(_white(folded) * PULSE))


_FREQ = np.fft.fftfreq(TILE)
_EQ_BIN = np.minimum((np.hypot(_FREQ[:, None], _FREQ[None, :]) / (0.5 / CHIP) * EQ_BINS).astype(np.int64), EQ_BINS)
_IN_BAND = PULSE > 0
_RADIUS = np.hypot(_FREQ[:, None], _FREQ[None, :])
# band profiles of the presence test (each a matched filter for one channel): the full pulse band, and its
# lower part, which is what survives downscaling followed by JPEG.  Every profile is a counted hypothesis.
PROFILE_LOWPASS = 0.2
PROFILES = (PULSE, PULSE * (_RADIUS < PROFILE_LOWPASS))
N_STRETCH_PRIORS = 4  # the most priors ``prepare`` gives, and the long side's period
N_STRETCHES = N_STRETCH_PRIORS * 2 * 2 * AXIS_PICKS  # priors x free axis x (period, double) x picks
N_CANDIDATES = ((N_HYPOTHESES + N_RESERVE + len(PRIOR_GRID) + 2 * len(PRIOR_ANGLES) + N_STRETCHES + N_LOCAL)
                * N_ORIENTATIONS * len(PROFILES) * TILE * TILE)


def _equalise(h: np.ndarray, pilot: np.ndarray) -> np.ndarray:
    """Pilot-aided channel estimate: weight each frequency ring by the mark amplitude surviving there.

    ``h`` is spectrally white, so the noise is about flat over the band, while the attack's filtering
    (downscaling, JPEG) leaves less of the mark at high frequencies.  The surviving mark amplitude per radial
    frequency ring is estimated from the cross-spectrum with the aligned pilot comb; weighting by it is
    maximal-ratio combining across the band.  Uses only the pilot (and the image), so the payload chips' signs
    stay independent of the weights (the CRC argument holds).
    """
    spec = np.fft.fft2(h)
    pspec = np.fft.fft2(pilot) * PULSE
    b = _EQ_BIN[_IN_BAND]
    cross = np.bincount(b, np.real(spec * np.conj(pspec))[_IN_BAND], EQ_BINS + 1)
    ref = np.bincount(b, (np.abs(pspec) ** 2)[_IN_BAND], EQ_BINS + 1)
    count = np.maximum(np.bincount(b, None, EQ_BINS + 1), 1)
    noise = np.bincount(b, (np.abs(spec) ** 2)[_IN_BAND], EQ_BINS + 1) / count
    gain = np.clip(cross / np.maximum(ref, 1e-30), 0.0, None) / np.maximum(noise, 1e-30)
    if not np.any(gain > 0):
        return h
    return np.real(np.fft.ifft2(spec * gain[_EQ_BIN] * PULSE))


def _chips(h: np.ndarray, off: tuple[int, int], signs: np.ndarray) -> np.ndarray:
    """Despread chip values (times the keyed signs) at cyclic offset ``off``, unit RMS."""
    c = np.roll(h, (-off[0], -off[1]), axis=(0, 1))[::CHIP, ::CHIP].reshape(-1)
    return c * signs / max(float(np.sqrt(np.mean(c * c))), 1e-12)


def _log_p_correlation(z: float, n: int = N_CANDIDATES) -> float:
    """log of the correlation's p-value, Bonferroni over ``n`` candidates (the video detector counts more)."""
    if not z > 0:
        return 0.0
    return min(0.0, math.log(n) - 0.5 * z * z)


Test = Callable[..., tuple[float, np.ndarray, tuple[int, int]]]
_REFERENCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # layout -> blind-mode reference spectra


def _references(layout: Any, coded: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The conjugate spectra of the chip comb and of its magnitude in the 8 orientations (read-only); the blind
    mode's (``coded`` None) are cached per layout, since they cost ~2 ms of every detection."""
    if coded is None and layout in _REFERENCES:
        return _REFERENCES[layout]
    comb = layout.comb(layout.chip_values(coded))
    refs = np.stack([np.conj(np.fft.rfft2(push(comb, k))) for k in range(N_ORIENTATIONS)]).astype(np.complex64)
    refs_abs = np.stack([np.conj(np.fft.rfft2(push(np.abs(comb), k)))
                         for k in range(N_ORIENTATIONS)]).astype(np.complex64)
    refs.setflags(write=False)
    refs_abs.setflags(write=False)
    if coded is None:
        _REFERENCES[layout] = (refs, refs_abs)
    return refs, refs_abs


def keyed_test(rn: np.ndarray, layout: Any, coded: np.ndarray | None) -> Test:
    """The keyed correlation of one lattice hypothesis ``(period, angle)`` over all TILE**2 cyclic offsets, every
    band profile and every orientation (``_orient``: mirrors, quarter turns), on a whitened residual ``rn``:
    ``(z_max, full-band matched tile in the canonical orientation, offset)``. Shared by the image and the video
    detector (which passes frames summed over time)."""
    refs, refs_abs = _references(layout, coded)
    half = TILE // 2 + 1
    last: list = [None, None]  # (lattice, box) and the whitened fold of the previous call

    def test(lattice: Lattice | Homography, orientations: int = N_ORIENTATIONS, box: Box | None = None,
             region: np.ndarray | None = None,
             folded: np.ndarray | None = None) -> tuple[float, np.ndarray, tuple[int, int]]:
        """``orientations=1``: the identity only (a subset of the counted candidates, for the fast path); ``box``:
        fold only that window of the image; ``region``: fold this whitened image instead (an inset, ``_local``);
        ``folded``: that fold, when the caller has it already (:func:`pilot_rank` kept it)."""
        if region is not None:
            white = _white(fold(region, lattice) if folded is None else folded)
        else:
            if last[0] != (lattice, box):  # the fast path tests the same lattice upright, then in all 8 orientations
                src = rn if box is None else rn[box[0] : box[1], box[2] : box[3]]
                last[:] = [(lattice, box), _white(fold(src, lattice) if folded is None else folded)]
            white = last[1]
        best: tuple[float, int, tuple[int, int]] | None = None
        h_full = None
        for prof in PROFILES:
            spec = (white[:, :half] * prof[:, :half]).astype(np.complex64)
            h = np.fft.irfft2(spec, s=(TILE, TILE))
            h_full = h if h_full is None else h_full
            corr = np.fft.irfft2(spec[None] * refs[:orientations], s=(TILE, TILE))
            var = np.fft.irfft2(np.fft.rfft2(h * h)[None] * refs_abs[:orientations], s=(TILE, TILE))
            z = corr / np.sqrt(np.maximum(var, 1e-12))
            z[var <= 1e-9] = 0.0
            i = int(np.argmax(z))
            if best is None or z.flat[i] > best[0]:
                ko, oy, ox = np.unravel_index(i, z.shape)
                best = (float(z.flat[i]), int(ko), (int(oy), int(ox)))
        assert best is not None and h_full is not None  # PROFILES is never empty
        z_max, k, off = best
        return z_max, pull(h_full, k).astype(np.float64), back(off, k)

    return test


def pilot_rank(rn: np.ndarray, layout: Any, orientations: int = 1,
               keep: dict | None = None) -> Callable[..., float]:
    """A cheap ranking score for a geometry candidate (``_local``'s keystone scan, the lattice search's reserve):
    the phase-only correlation of the folded tile with the pilot comb (upright, or its best of the first
    ``orientations``), its maximum over the cyclic offsets in units of its spread.  Not a presence test: it only
    chooses which counted hypotheses to test (on the pilot's signs, never the payload's, so the CRC argument
    holds).  ``keep``, when given, receives each fold by ``(lattice, box)``: the caller tests the best ranked
    without folding them again."""
    ref = _rank_refs(layout, orientations)
    ref_power = _rank_ref_power(ref)
    n = TILE // CHIP

    def rank(lattice: Lattice | Homography, box: Box | None = None, folded: np.ndarray | None = None) -> float:
        """``folded``: the lattice's fold when the caller has one (``stretches``); not kept."""
        region = rn if box is None else rn[box[0] : box[1], box[2] : box[3]]
        if folded is not None:
            spec = np.fft.rfft2(folded.astype(np.float32))
        elif len(lattice) == 4 and _fine(lattice):
            # folded at one sample per chip (a quarter of the warp: CHIP x CHIP periods of the lattice scaled by
            # CHIP, folded onto one), correlated on the tile's grid of offsets (the spectrum zero-padded)
            folded = fold(region, tuple(CHIP * v for v in lattice)).reshape(CHIP, n, CHIP, n).sum(axis=(0, 2))
            low = np.fft.rfft2(folded.astype(np.float32))
            spec = np.zeros((TILE, TILE // 2 + 1), low.dtype)
            spec[: n // 2, : n // 2 + 1] = low[: n // 2]
            spec[TILE - n // 2 :, : n // 2 + 1] = low[n // 2 :]
        else:
            folded = fold(region, lattice)
            if keep is not None:
                keep[lattice, box] = folded
            spec = np.fft.rfft2(folded.astype(np.float32))
        mag = np.abs(spec)
        phase = spec / (mag + 1e-9)
        corr = np.fft.irfft2(phase[None] * ref, s=(TILE, TILE))
        # the spread over the offsets by Parseval (the same value as corr.std, without its pass over 8 x TILE^2):
        # sum(corr^2) = sum over the full spectrum of |phase ref|^2 / TILE^2; the mean is the DC term / TILE^2
        gain = (mag / (mag + 1e-9)) ** 2
        power = np.tensordot(ref_power, gain, axes=([1, 2], [0, 1])) / TILE**2
        mean = np.real(phase[0, 0] * ref[:, 0, 0]) / TILE**2
        spread = np.sqrt(np.maximum(power / TILE**2 - mean * mean, 0.0))
        return float((corr.max(axis=(1, 2)) / np.maximum(spread, 1e-12)).max())

    return rank


FINE_RANK_PERIOD = TILE / CHIP  # lattices finer than this (every direction) are ranked on a fold at chip resolution


def _fine(lattice: Lattice) -> bool:
    """The image samples the lattice's tile more coarsely than its chips (the lattice's largest stretch is at most
    ``FINE_RANK_PERIOD`` px per tile), so the tile-resolution fold's band above the chip Nyquist frequency holds
    only interpolation images, while its warp is ~4x the pixels of a fold at one sample per chip."""
    a, b, c, d = (float(v) for v in lattice)
    frob, det = a * a + b * b + c * c + d * d, a * d - b * c  # the 2x2 spectral norm in closed form (numpy's SVD
    largest = math.sqrt(0.5 * (frob + math.sqrt(max(frob * frob - 4 * det * det, 0.0))))  # costs ~0.1 ms a call)
    return largest <= FINE_RANK_PERIOD


_RANK_REFS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # layout -> {orientations: reference}


def _rank_ref_power(ref: np.ndarray) -> np.ndarray:
    """``|ref|^2`` weighted as the full spectrum counts each half-spectrum column (the columns other than 0 and
    TILE / 2 stand for two): Parseval's sum for :func:`pilot_rank`'s spread."""
    weight = np.full(TILE // 2 + 1, 2.0, np.float32)
    weight[0] = weight[-1] = 1.0
    return (np.abs(ref) ** 2 * weight).astype(np.float32)


def _rank_refs(layout: Any, orientations: int) -> np.ndarray:
    """:func:`pilot_rank`'s reference (cached per layout): the band-limited pilot comb's conjugate half spectrum in
    the first ``orientations`` orientations."""
    cache = _RANK_REFS.setdefault(layout, {})
    if orientations not in cache:
        comb = layout.pilot_comb()
        ref = np.stack([np.conj(np.fft.rfft2(push(comb, k))) * PULSE[:, : TILE // 2 + 1]
                        for k in range(orientations)]).astype(np.complex64)
        ref.setflags(write=False)
        cache[orientations] = ref
    return cache[orientations]


def geometry_models(rn: np.ndarray, luma: np.ndarray | None, periods: Sequence[float], layout: Any, test: Test,
                    reserve: Sequence[Lattice] = (), full: np.ndarray | None = None, scale: float = 1.0) -> list:
    """The full search's last hypotheses (``N_RESERVE`` + ``len(PRIOR_GRID)`` + ``2 len(PRIOR_ANGLES)`` +
    ``N_STRETCHES`` + ``N_LOCAL`` counted): the lattice search's ``reserve`` ranked on the pilot in all
    orientations, the best :data:`RESERVE_TESTS` tested; the fine grid around the native prior (``periods[0]``),
    the small rotations and the stretches of every prior in ``periods`` likewise, the best of each tested; a
    keystone -- the coarse scan
    ranked on the pilot, then the best candidate's fine-grid neighbours -- and the inset rectangles of ``luma``
    (none without it), each with the best of its period variants; upright, as ranked (the count has all 8
    orientations).  An inset is read from ``full`` (the luminance before the detection downscaling, which leaves a
    small inset's chips below a pixel) when given.  Shared by the image and the federated detector."""
    period = periods[0]
    found = []
    folds: dict = {}  # the rankings' folds, reused by the tests of the best ranked
    rank_all = pilot_rank(rn, layout, N_ORIENTATIONS, folds)
    found += _test_best(rank_all, list(reserve), RESERVE_TESTS, test, folds)
    # a resize then a crop of a few pixels: the native prior's period a little off (the autocorrelation of a
    # textured photo may not show the true one): a fine grid around it
    found += _test_best(rank_all, [square(period * (1 + d), 0.0) for d in PRIOR_GRID], 1, test, folds)
    found += _test_small_rotation(rank_all, rn.shape, period, test, folds)
    aspect = stretches(rn, periods)
    if aspect:  # ranked on their cheap folds, the best tested on its own (the test folds it exactly)
        best = int(np.argmax([rank_all(lattice, None, tile) for lattice, tile in aspect]))
        found.append(test(aspect[best][0]))
    rank = pilot_rank(rn, layout)
    scan = [(rank(hom, box), side, a) for side, a, box, hom in _local.keystone_scan(rn.shape, period)]
    scan.sort(key=lambda t: -t[0])
    found += [test(hom, 1) for hom in _local.keystone_refine(rn.shape, period, [(side, a) for _, side, a in scan])]
    rects = [] if luma is None else _local.rectangles(luma, min_score=_local.RECT_MIN_SCORE)
    for box, short, edged in rects:  # an inset: a resized copy's prior, on the inset alone
        region, short, region_scale = _inset(rn, box, short, luma, full, scale)
        sizes = [square(TILE * short * (1 + d) / WORK_SHORT_SIDE, 0.0) for d in _local.INSET_SCALES]
        found += _test_best(pilot_rank(region, layout, 1, folds), sizes, 1, test, folds, 1, region)
        # the period read off the sides is off by more than the variants span when a side sits next to content
        # that looks like an edge: the inset's own autocorrelation lattices (key-independent picks), upright
        prior = (TILE * short / WORK_SHORT_SIDE, 0.0)
        if prior[0] < MIN_PERIOD or edged < _local.RECT_LATTICE_SCORE:  # a period the autocorrelation does not
            continue  # look at; a rectangle too weakly edged to pay for a lattice search (windows in facades)
        for lat in lattices(region, region_scale, 1 + _local.INSET_LATTICES, (prior,), n_models=1)[1:]:
            found.append(test(lat, 1, region=region))
    return found


def stretches(rn: np.ndarray, periods: Sequence[float]) -> list[tuple[Lattice, np.ndarray]]:
    """Aspect lattices with one axis at a known period, the other at each of ``_sync.axis_periods``' picks and
    twice it (the harmonic sum may prefer half the period), each with its tile folded from the known axis's fold
    (for ranking).  The known periods: the priors (``periods``, at most three) and the long side's -- the short
    side stretched past the long one, which then predicts the stretched axis (:data:`N_STRETCH_PRIORS` in all)."""
    out: list[tuple[Lattice, np.ndarray]] = []
    known = [*periods[: N_STRETCH_PRIORS - 1], TILE * max(rn.shape) / WORK_SHORT_SIDE]
    for p in dict.fromkeys(round(2 * q) / 2 for q in known):  # to 0.5 px (distinct priors differ by more)
        for axis in (1, 0):
            folded = axis_fold(rn, p, axis)
            if folded is None:
                continue
            for q in axis_periods(folded, p):
                for f in (q, 2 * q):
                    tile = axis_tile(folded, f)
                    out.append(((f, 0.0, 0.0, p), tile) if axis == 1 else ((p, 0.0, 0.0, f), tile.T))
    return out


def small_rotation(shape: tuple[int, ...], period: float, deg: float, straightened: bool) -> Lattice:
    """The lattice of an image of ``shape`` (native period ``period``) rotated by ``deg`` degrees and cropped (the
    period kept) or straightened (the largest same-aspect rectangle resized back: the period grows by the crop's
    factor, as in ``_sync``'s rotation model)."""
    t = math.radians(deg)
    return square(period / float(straighten_factor(shape, t)) if straightened else period, t)


def _test_small_rotation(rank: Callable, shape: tuple[int, ...], period: float, test: Test, folds: dict) -> list:
    """Coarse to fine over the :data:`PRIOR_ANGLES` grid (all ``2 len(PRIOR_ANGLES)`` points counted): every other
    angle ranked, both models, then the best one's two neighbours; the best of those three tested (none when the
    grid is empty: ``bench/watermark_image_sweep.py --edit rotation --without``)."""
    def ranked(deg: float, straightened: bool) -> tuple[float, Lattice]:
        lattice = small_rotation(shape, period, deg, straightened)
        return rank(lattice, None), lattice

    coarse = [(ranked(d, st), d, st) for d in PRIOR_ANGLES if round(d / ANGLE_STEP) % 2 == 0
              for st in (False, True)]
    if not coarse:
        return []
    (score, lattice), deg, st = max(coarse, key=lambda c: c[0][0])
    for d in (deg - ANGLE_STEP, deg + ANGLE_STEP):
        if any(abs(d - a) < 1e-9 for a in PRIOR_ANGLES):
            score, lattice = max((score, lattice), ranked(d, st), key=lambda r: r[0])
    out = test(lattice, folded=folds.get((lattice, None)))
    folds.clear()
    return [out]


def _test_best(rank: Callable, candidates: list, k: int, test: Test, folds: dict,
               orientations: int = N_ORIENTATIONS, region: np.ndarray | None = None) -> list:
    """Test the ``k`` candidates ``rank`` (a :func:`pilot_rank` keeping its folds in ``folds``) scores best, on
    the folds it kept; all of them are in the count whichever are tested."""
    ranks = [rank(c, None) for c in candidates]
    out = [test(candidates[i], orientations, region=region, folded=folds.get((candidates[i], None)))
           for i in np.argsort(ranks)[::-1][:k]]
    folds.clear()
    return out


def _inset(rn: np.ndarray, box: Box, short: float, luma: np.ndarray | None,
           full: np.ndarray | None, scale: float) -> tuple[np.ndarray, float, float]:
    """The whitened inset ``box`` (detection coordinates), its short side in its own pixels and its detection
    scale: cut from the full-resolution luminance (and brought to detection resolution on its own) when the image
    was downscaled."""
    if full is None or luma is None or full.shape == luma.shape:
        return rn[box[0] : box[1], box[2] : box[3]], short, scale
    sy, sx = full.shape[0] / luma.shape[0], full.shape[1] / luma.shape[1]
    crop = full[math.ceil(box[0] * sy) : math.floor(box[1] * sy), math.ceil(box[2] * sx) : math.floor(box[3] * sx)]
    cd, s = to_detect_res(crop)
    return whiten(cd), short * min(sy, sx) * s, s


def prepare(image: Image.Image) -> tuple[np.ndarray, float, list[tuple[float, float]]]:
    """The key-independent half of detection: ``(whitened residual at detection scale, scale, lattice priors)``."""
    rn, scale, priors, _, _ = prepare_with_luma(image)
    return rn, scale, priors


def prepare_with_luma(image: Image.Image) -> tuple[np.ndarray, float, list[tuple[float, float]], np.ndarray,
                                                   np.ndarray]:
    """:func:`prepare`, the luminance at detection scale (for ``_local.rectangles``) and at full resolution, margins
    trimmed (an inset is read from it).

    Priors: lattice periods if the image was not resized (the first one: native scale, no rotation, the fast
    path's hypothesis; margins trimmed or not), if the trimmed image was resized, or if it was only cropped."""
    luma, _ = carrier(image)
    if min(luma.shape) < MIN_DETECT_SIDE:
        raise WatermarkError("image is {w}x{h}; watermark detection needs at least {min_side} px on the short side",
                             values={"w": luma.shape[1], "h": luma.shape[0], "min_side": MIN_DETECT_SIDE})
    full_short = min(luma.shape)
    luma = trim_border(luma, MIN_DETECT_SIDE)  # screenshot / letterbox margins carry no mark
    yd, scale = to_detect_res(luma)
    rn = whiten(yd)
    priors: list[tuple[float, float]] = []
    for period in (TILE * full_short * scale / WORK_SHORT_SIDE, TILE * min(yd.shape) / WORK_SHORT_SIDE,
                   float(TILE)):
        if all(abs(period - q) >= 0.5 for q, _ in priors):
            priors.append((period, 0.0))
    return rn, scale, priors, yd, luma


class ImageWatermarker:
    """Embed / detect SynthGuard's invisible image watermark with a scheme key (the spreading sequence's seed)."""

    def __init__(self, key: bytes, strength: float = 1.0):
        self._key, self.strength = pl.check_scheme(key, strength)

    # ------------------------------------------------------------------------------------------ embed
    def embed(self, image: Image.Image, payload: bytes) -> Image.Image:
        payload = pl.check_payload(payload)
        luma, apply = carrier(image)
        h, w = luma.shape
        if min(h, w) < MIN_EMBED_SIDE:
            raise WatermarkError("image is {w}x{h}; the watermark needs at least {min_side} px on the short side",
                                 values={"w": w, "h": h, "min_side": MIN_EMBED_SIDE},
                                 hint="Watermark a larger image (upscale small outputs before marking).")
        s = WORK_SHORT_SIDE / min(h, w)
        hw, ww = max(1, round(h * s)), max(1, round(w * s))
        yw = luma if (hw, ww) == (h, w) else cv2.resize(luma, (ww, hw), interpolation=cv2.INTER_AREA)
        tile = self._tile(payload)
        pat = np.tile(tile, (-(-hw // TILE), -(-ww // TILE)))[:hw, :ww] * _mask(yw)
        if (hw, ww) != (h, w):
            pat = cv2.resize(pat, (w, h), interpolation=cv2.INTER_LINEAR)
        rms = float(np.sqrt(np.mean(pat * pat, dtype=np.float64)))
        target = self.strength * 255.0 * 10 ** (-TARGET_PSNR_DB / 20)
        return apply(pat * np.float32(target / max(rms, 1e-9)))

    def _tile(self, payload: bytes) -> np.ndarray:
        """The unit-RMS tile carrying ``payload`` (the federated scheme, ``federated.py``, overrides it)."""
        return tile_for(self._key, payload)

    # ------------------------------------------------------------------------------------------ detect
    def detect(self, image: Image.Image, expected: bytes | None = None, search: str = "full") -> WatermarkResult:
        """``search="priors"`` stops after the geometries a plain re-encode, resize, crop or screenshot predicts
        (no autocorrelation lattice search: ~5x cheaper on unmarked images); rotated or cropped-and-rescaled copies
        need ``"full"``. The p-value is Bonferroni-corrected over all candidates either way."""
        if search not in SEARCHES:
            raise WatermarkError("unknown watermark search {search!r}", hint=N_("Use one of: {searches}."),
                                 values={"search": search, "searches": ", ".join(SEARCHES)})
        if expected is not None:
            expected = pl.check_payload(expected)
        rn, scale, priors, luma, full = prepare_with_luma(image)
        layout = layout_for(self._key)
        coded = None if expected is None else pl.encode(expected)
        test = keyed_test(rn, layout, coded)

        # fast path: an unmodified or merely re-encoded image.  Returns only when the correlation test alone
        # (Bonferroni over all N_CANDIDATES) is significant and the payload decodes.
        for orientations in (1, N_ORIENTATIONS):  # upright first (an unmodified or re-encoded upload), then all 8
            fast = test(square(*priors[0]), orientations)
            log_p_fast = _log_p_correlation(fast[0])
            if _significant(log_p_fast):
                decoded = self._decode(layout, coded, [fast])
                if decoded.ok:
                    return self._result(fast[0], log_p_fast, decoded, expected)
        found = [fast]  # (z, matched folded tile, best offset) per lattice hypothesis
        # the other priors next (a crop or a trimmed screenshot; no autocorrelation needed): the same early return
        # as the fast path -- significant correlation alone and a decoded payload
        for prior in priors[1:]:
            found.append(test(square(*prior)))
        z_pri = max(f[0] for f in found)
        log_p_pri = _log_p_correlation(z_pri)
        if len(priors) > 1 and _significant(log_p_pri):
            decoded = self._decode(layout, coded, found)
            if decoded.ok:
                return self._result(z_pri, log_p_pri, decoded, expected)
        if search == "priors":  # the correlation was not significant at the priors (else we returned above):
            # no decoding -- the CRC route to a weak mark is the deferred full search's job, which the caller runs
            z_pri = max(f[0] for f in found)
            log_p = _log_p_correlation(z_pri)
            if not _significant(log_p) and expected is None:
                return self._result(z_pri, log_p, None, expected)
            shallow, credit = self._read(layout, coded, found, _significant(log_p))
            return self._result(z_pri, log_p, shallow, expected, crc_credit=credit)
        # lattices() keeps the priors first, unchanged
        reserve: list[Lattice] = []
        for lattice in lattices(rn, scale, N_HYPOTHESES, tuple(priors), reserve=reserve)[len(priors):N_HYPOTHESES]:
            found.append(test(lattice))
        # geometry models the lattice search cannot see (``_local``): only when it found nothing, or a lattice that
        # only partly fits (significant, e.g. with the expected payload's chips, but the payload does not decode;
        # the payload's signs steer nothing the CRC credit depends on: a significant correlation needs no credit)
        if (not _significant(_log_p_correlation(max(f[0] for f in found)))
                or not self._decode(layout, coded, found).ok):
            found += geometry_models(rn, luma, [p for p, _ in priors], layout, test, reserve, full, scale)
        return self._conclude(layout, coded, found, expected)

    @staticmethod
    def _conclude(layout, coded: np.ndarray | None, found: list, expected: bytes | None,
                  n: int = N_CANDIDATES) -> WatermarkResult:
        """The full search's answer: presence from the best candidate (Bonferroni over ``n``), the payload from the
        best decoding offset (or a runner-up when the correlation alone proves presence but the best offset fails
        the CRC)."""
        z_max = max(f[0] for f in found)
        log_p = _log_p_correlation(z_max, n)
        decoded, credit = ImageWatermarker._read(layout, coded, found, _significant(log_p))
        return ImageWatermarker._result(z_max, log_p, decoded, expected, crc_credit=credit)

    @staticmethod
    def _decode(layout, coded: np.ndarray | None, found: list) -> pl.Decoded:
        """Decode the payload at the best decoding offset (:meth:`_offsets`); the CRC argument of the module
        docstring covers exactly this one attempt."""
        _, h, off = ImageWatermarker._offsets(layout, coded, found)[0]
        return ImageWatermarker._decode_at(layout, h, off)

    @staticmethod
    def _offsets(layout, coded: np.ndarray | None, found: list) -> list[tuple[float, Any, Any]]:
        """Decoding offsets, best first: the best hypotheses' peaks and their neighbours ranked by pilot
        correlation plus payload-chip energy (sign-free per coded bit, so the decoded frame stays uniform under
        the null).  The presence test is unaffected: it is the maximum over all candidates."""
        pay = ~layout.pilot
        ranked: list[tuple[float, Any, Any]] = []
        for _z, h, off in sorted(found, key=lambda f: -f[0])[:N_SYNC_REFINE]:
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    o = ((off[0] + dy) % TILE, (off[1] + dx) % TILE)
                    c = _chips(h, o, layout.signs)
                    known = c[layout.pilot] if coded is None else c * (2.0 * coded[np.maximum(layout.role, 0)] - 1.0)
                    z_known = float(known.sum()) / math.sqrt(known.size)
                    soft = np.bincount(layout.role[pay], weights=c[pay], minlength=pl.CODED_BITS)
                    energy = float(np.sum(soft * soft)) / CHIPS_PER_BIT - pl.CODED_BITS
                    ranked.append((z_known * abs(z_known) + energy, h, o))
        return sorted(ranked, key=lambda r: -r[0])

    @staticmethod
    def _decode_at(layout, h: np.ndarray, off: Any) -> pl.Decoded:
        pay = ~layout.pilot
        h = _equalise(h, np.roll(layout.pilot_comb(), off, axis=(0, 1)))
        chips = _chips(h, off, layout.signs)
        soft = np.bincount(layout.role[pay], weights=chips[pay], minlength=pl.CODED_BITS)
        return pl.decode(soft / max(float(np.sqrt(np.mean(soft * soft))), 1e-12))

    @staticmethod
    def _read(layout, coded: np.ndarray | None, found: list, present: bool) -> tuple[pl.Decoded, bool]:
        """(payload frame, whether it earns CRC credit).  The best offset first (the CRC argument covers exactly
        that attempt); when it fails the CRC but the correlation alone proves presence (``present``), the
        runner-up offsets, up to ``DECODE_TRIES`` in all (~1 in 300 copies resized to 0.6 and re-encoded at JPEG
        75 need one), with no CRC credit: they only name the payload."""
        ranked = ImageWatermarker._offsets(layout, coded, found)
        first = ImageWatermarker._decode_at(layout, ranked[0][1], ranked[0][2])
        if first.ok or not present:
            return first, True
        for _, h, off in ranked[1:DECODE_TRIES]:
            decoded = ImageWatermarker._decode_at(layout, h, off)
            if decoded.ok:
                return decoded, False
        return first, True

    @staticmethod
    def _result(z: float, log_p_corr: float, decoded: pl.Decoded | None, expected: bytes | None,
                crc_credit: bool = True) -> WatermarkResult:
        # the CRC argument needs the offset chosen without the expected payload, i.e. blind mode
        crc_ok = crc_credit and expected is None and decoded is not None and decoded.ok
        log_p_crc = math.log(pl.CRC_FALSE_ACCEPT) if crc_ok else 0.0
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
