"""Detector side: whitening, lattice (scale/rotation) estimation from the autocorrelation, folding.

The mark is periodic with period ``TILE`` at the working resolution, so the autocorrelation of the whitened
image has peaks on the (rotated, scaled) tile lattice.  We find candidate lattices from the autocorrelation
peaks and, for images whose texture buries those peaks, from two rotation models scored on the autocorrelation
(a 1-D search over the angle, the period fixed by the model: all 12 lattice points pooled, which is far less
noisy than single peaks), refine them, then warp the image so the lattice is axis-aligned with period ``TILE``
and fold it onto one tile (pixel centres mapped, as every resize does).  On request the search also hands over its
runners-up (the reserve, :data:`N_RESERVE`: the models' next maxima, also scored on the autocorrelation's sharp
part -- texture is broad, the mark's peaks are 1-2 px --, the aspect model's further picks, a horizontal and a
vertical shear model, rotated stretches (``_affine.rotated_stretches``), the peak lattices beyond ``n``), which
the detector ranks on the pilot.  None of this uses the key: the key-dependent test happens on the folded tile
only.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from synthguard.marking.watermark import _affine
from synthguard.marking.watermark._pattern import TILE

DETECT_SHORT_SIDE = 512
ACF_MAX_SIDE = 768
ACF_CLIP = float(__import__("os").environ.get("ACF_CLIP", "1e9"))
MIN_PERIOD = 30.0
WHITEN_SIGMA_BINS = 6.0
MAX_ROTATION_DEG = 45.0
N_REFINE = 18  # square ACF-peak lattice candidates refined
PRIOR_TOL = 0.003  # a lattice found near a prior is another hypothesis unless within this of it: the prior is
# exact when it holds, and 1 % off folds 5 tiles a chip off (a resized copy cropped by a few pixels, an inset)
N_HYPOTHESES = 12  # lattices tested with the keyed correlation (Bonferroni factor, together with TILE**2 offsets)
# the reserve: runners-up of the same key-independent search, ranked on the pilot by the caller (``image``), the
# best few tested; every one of them is counted in the Bonferroni N (textured photos bury the mark's
# autocorrelation peaks under their own, but rarely push them out of the runners-up)
N_RESERVE = 24 + _affine.RS_PICKS
_MODEL_RESERVE = 2  # further maxima of each rotation/scale model
_AXIS_RESERVE = 5  # further picks of the aspect model
MAX_SHEAR = 0.3  # the shear models' range (periods of slant per period)
_SHEAR_NMS = 0.03
_MODEL_NMS = (math.radians(1.5), 0.03)  # around a model's maximum: angle (radians), relative period

_REFINE_STEPS = ((0.03, math.radians(1.5)), (0.006, math.radians(0.3)), (0.0012, math.radians(0.06)))
_REFINE_STEPS_ROTATION = ((0.006, math.radians(0.15)), (0.0012, math.radians(0.04)))
_RING1 = np.array([(1, 0), (0, 1), (1, 1), (1, -1)], dtype=np.float64)
_LATTICE_POINTS = np.array([(1, 0), (0, 1), (1, 1), (1, -1), (2, 0), (0, 2), (2, 1), (1, 2), (2, -1), (1, -2),
                            (3, 0), (0, 3)], dtype=np.float64)


def to_detect_res(y: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = y.shape
    s = min(1.0, DETECT_SHORT_SIDE / min(h, w))
    if s < 1.0:
        y = cv2.resize(y, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return y, s


def trim_border(y: np.ndarray, min_side: int, tol: float = 8.0) -> np.ndarray:
    """Strip uniform margins (screenshot/letterbox padding): leading/trailing rows and columns of one flat colour.

    The margin colour is the median of the outermost row/column; a line belongs to the margin while its mean
    absolute deviation from that colour is at most ``tol`` (which lets JPEG ringing next to the content go with
    the margin).  Nothing is trimmed if less than ``min_side`` pixels would remain.
    """
    h, w = y.shape

    def run(lines: np.ndarray) -> int:
        pad = np.float32(np.median(lines[0]))
        if float(np.abs(lines[0] - pad).mean()) > 1.0:  # the outermost line is not flat: no margin (fast path)
            return 0
        n, start, block = len(lines), 0, 8
        while start < n:  # scan outwards-in in growing blocks: margins are usually thin
            dev = np.abs(lines[start : start + block] - pad).mean(axis=1)
            margin = dev <= tol
            if not margin.all():
                return start + int(np.argmin(margin))
            start, block = start + block, block * 2
        return n

    half_h, half_w = h // 2, w // 2
    top, bottom = run(y[:half_h]), run(y[: h - half_h - 1 : -1])
    left, right = run(y[:, :half_w].T), run(y[:, : w - half_w - 1 : -1].T)
    if top + bottom + left + right == 0 or min(h - top - bottom, w - left - right) < min_side:
        return y
    return y[top : h - bottom, left : w - right]


def whiten(y: np.ndarray) -> np.ndarray:
    """High-pass residual divided by local activity, clipped: approximately white, bounded values."""
    y = y.astype(np.float32)
    r = y - cv2.GaussianBlur(y, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    sd = np.sqrt(cv2.GaussianBlur(r * r, (0, 0), 4.0, borderType=cv2.BORDER_REFLECT))
    rn = r / (sd + 1.0)
    np.clip(rn, -3.0, 3.0, out=rn)
    return rn


def _fast_len(n: int) -> int:
    """The smallest 5-smooth number >= n (scipy.fft.next_fast_len(n, real=True)); numpy's FFT (float32 in, float32
    out, like scipy's) replaces scipy.fft here because importing scipy costs the CLI ~0.3 s (issue 22)."""
    best, m2 = 2 * n, 1
    while m2 < 2 * n:
        m3 = m2
        while m3 < 2 * n:
            m5 = m3
            while m5 < n:
                m5 *= 5
            best = min(best, m5)
            m3 *= 3
        m2 *= 2
    return max(best, 1)


def _notch_for(ph: int, pw: int, pw2: int, grid: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """JPEG block-grid lines (k / ``grid`` cycles per pixel; k = 0 also covers border/DC lines) of a half spectrum
    (``ph`` x ``pw2``): ``(rows, columns, normalised-convolution weight)``; image-independent, so cached (the
    1080p frames of a stream all share one)."""
    rows: set[int] = set()
    cols: set[int] = set()
    for k in range(0, 5):
        f = k / grid
        if f > 0.5:
            break
        cy, cx = int(round(f * ph)), int(round(f * pw))
        for b in range(-2, 3):
            rows.update(((cy + b) % ph, (-cy + b) % ph))
            if 0 <= cx + b < pw2:
                cols.add(cx + b)
    r, c = np.array(sorted(rows), dtype=np.int64), np.array(sorted(cols), dtype=np.int64)
    ones = np.ones((ph, pw2), np.float32)
    ones[r, :] = 0.0
    ones[:, c] = 0.0
    keep: np.ndarray = cv2.GaussianBlur(ones, (0, 0), WHITEN_SIGMA_BINS, borderType=cv2.BORDER_REFLECT)
    np.maximum(keep, 1e-3, out=keep)
    for a in (r, c, keep):
        a.setflags(write=False)
    return r, c, keep


_notch_cached = lru_cache(maxsize=8)(_notch_for)


def _acf(rn: np.ndarray, scale: float) -> np.ndarray:
    """Linear autocorrelation (lags centred), JPEG-grid frequencies notched out, normalised to 1 at lag 0.

    The transforms are OpenCV's (float32, ~2.5x faster than numpy's pocketfft at this size); the inverse of the
    real half spectrum is the forward transform of its even full-plane extension (what ``irfft2`` computes)."""
    h, w = rn.shape
    ch, cw = min(h, ACF_MAX_SIDE), min(w, ACF_MAX_SIDE)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    win = rn[y0 : y0 + ch, x0 : x0 + cw]
    lag = int(0.75 * min(ch, cw)) + 8  # largest lag we look at; padding by it makes the correlation linear
    ph, pw = _fast_len(ch + lag), _fast_len(cw + lag)
    pw2 = pw // 2 + 1
    padded = np.zeros((ph, pw), np.float32)
    np.subtract(win, win.mean(), out=padded[:ch, :cw])
    spec = cv2.dft(padded, flags=cv2.DFT_COMPLEX_OUTPUT, nonzeroRows=ch)[:, :pw2]
    power: np.ndarray = spec[..., 0] * spec[..., 0] + spec[..., 1] * spec[..., 1]
    # JPEG block-grid lines are excluded and filled with the whitened mean, so they add nothing structured to the
    # autocorrelation
    rows, cols, keep = _notch_cached(ph, pw, pw2, 8.0 * scale)  # JPEG block period in detection px
    power[rows, :] = 0.0
    power[:, cols] = 0.0
    # spectral whitening (normalised convolution): the periodic mark is a set of sharp lines, the host smooth
    smooth: np.ndarray = cv2.GaussianBlur(power, (0, 0), WHITEN_SIGMA_BINS, borderType=cv2.BORDER_REFLECT)
    smooth /= keep
    power /= smooth + 1e-6 * float(smooth.mean()) + 1e-20
    np.minimum(power, ACF_CLIP, out=power)  # a few strong texture lines must not outweigh the mark's many weak ones
    power[rows, :] = 1.0
    power[:, cols] = 1.0
    # the even extension: full[i, pw - j] = power[-i, j]; the self-paired columns (0, and pw / 2 for even pw)
    # symmetrised, as irfft2 does by dropping their imaginary parts
    flip = np.roll(power[::-1], 1, axis=0)  # power[-i mod ph]
    full = np.empty((ph, pw), np.float32)
    full[:, :pw2] = power
    full[:, pw2:] = flip[:, pw - pw2 : 0 : -1]
    full[:, 0] = 0.5 * (power[:, 0] + flip[:, 0])
    if pw % 2 == 0:
        full[:, pw2 - 1] = 0.5 * (power[:, pw2 - 1] + flip[:, pw2 - 1])
    acf = cv2.dft(full, flags=cv2.DFT_COMPLEX_OUTPUT)[..., 0]
    idx_y, idx_x = (np.arange(2 * lag + 1) - lag) % ph, (np.arange(2 * lag + 1) - lag) % pw
    acf = acf[idx_y[:, None], idx_x[None, :]]  # lags -lag..lag, zero at centre
    return (acf / max(float(acf[lag, lag]), 1e-12)).astype(np.float32)


def _score(acf: np.ndarray, limits: tuple[float, float], p: np.ndarray, th: np.ndarray,
           points: np.ndarray = _LATTICE_POINTS) -> np.ndarray:
    """Mean autocorrelation over lattice points for lattices (period p, angle th) (arrays, same shape)."""
    cy, cx = acf.shape[0] // 2, acf.shape[1] // 2
    c, s = np.cos(th)[..., None], np.sin(th)[..., None]
    a, b = points[:, 0], points[:, 1]
    dx = p[..., None] * (a * c - b * s)
    dy = p[..., None] * (a * s + b * c)
    valid = (np.abs(dy) < limits[0]) & (np.abs(dx) < limits[1])
    vals = _affine.bilinear(acf, cy + dy, cx + dx)
    return np.where(valid, vals, 0.0).sum(-1) / np.maximum(valid.sum(-1), 1) * np.minimum(valid.sum(-1), 4) / 4


Lattice = tuple[float, float, float, float]  # (v1x, v1y, v2x, v2y): where the tile's x and y periods land
NATIVE: Lattice = (float(TILE), 0.0, 0.0, float(TILE))


def square(period: float, angle: float) -> Lattice:
    """The lattice of a scaled rotation: both periods ``period`` px, the x axis turned by ``angle`` radians."""
    c, s = period * math.cos(angle), period * math.sin(angle)
    return (c, s, -s, c)


def straighten_factor(shape: tuple[int, ...], angle: Any) -> Any:
    """The scale of the largest same-aspect rectangle inside an image of ``shape`` rotated by ``angle`` radians (a
    number or an array): straightened (that rectangle resized back to ``shape``), the period is divided by it."""
    ih, iw = shape[:2]
    a = np.abs(angle)
    return np.minimum(iw / (iw * np.cos(a) + ih * np.sin(a)), ih / (iw * np.sin(a) + ih * np.cos(a)))


def lattices(rn: np.ndarray, scale: float, n: int = N_HYPOTHESES,
             priors: tuple[tuple[float, float], ...] = (), n_models: int = 3,
             reserve: list[Lattice] | None = None) -> list[Lattice]:
    """Up to ``n`` candidate lattices in detection pixels, best first.

    ``priors`` (``(period, angle)`` of lattices expected after a pure resize or a pure crop) are always kept
    first, then the rotation/scale models, then the autocorrelation peaks' affine lattices (``_affine``).
    ``reserve``, when given, receives up to :data:`N_RESERVE` runners-up, none a duplicate: the next maxima of
    the rotation and scale models (refined), the shear models, the rotated stretches, the aspect model's further
    picks and the peak lattices beyond ``n``.
    """
    acf = _acf(rn, scale)
    h, w = acf.shape
    cy, cx = h // 2, w // 2
    ch, cw = min(rn.shape[0], ACF_MAX_SIDE), min(rn.shape[1], ACF_MAX_SIDE)
    limits = (min(0.7 * ch, cy - 2.0), min(0.7 * cw, cx - 2.0))  # stay inside the computed lags
    rmax = min(limits) * 0.95
    sm = cv2.GaussianBlur(acf, (0, 0), 0.8)
    yy, xx = np.ogrid[-cy : h - cy, -cx : w - cx]
    rr = np.sqrt(yy * yy + xx * xx)
    region = (rr >= MIN_PERIOD) & (rr <= rmax) & ((yy > 0) | ((yy == 0) & (xx > 0)))
    peaks = (sm == cv2.dilate(sm, np.ones((5, 5), np.uint8))) & region
    py, px = np.nonzero(peaks)
    order = np.argsort(-sm[py, px])[: _affine.N_PEAKS]

    def refine(p0: np.ndarray, t0: np.ndarray, steps: tuple = _REFINE_STEPS) -> list[tuple[float, float]]:
        """Grid ascent in (period, angle) of each start ``(p0[i], t0[i])``, all at once (each on its own grid)."""
        p0, t0 = np.asarray(p0, dtype=np.float64), np.asarray(t0, dtype=np.float64)
        rows = np.arange(len(p0))
        for dp, dt in steps:
            ps = p0[:, None] * (1 + np.linspace(-dp, dp, 11))
            ts = t0[:, None] + np.linspace(-dt, dt, 11)
            pg = np.broadcast_to(ps[:, :, None], (len(p0), 11, 11)).reshape(len(p0), -1)  # [i, j]: ps[j // 11]
            tg = np.broadcast_to(ts[:, None, :], (len(p0), 11, 11)).reshape(len(p0), -1)  # ts[j % 11]
            k = np.argmax(_score(sm, limits, pg, tg), axis=1)
            p0, t0 = pg[rows, k], tg[rows, k]
        return [(float(p), float(t)) for p, t in zip(p0, t0, strict=True)]

    chosen: list[tuple[float, np.ndarray]] = [(np.inf, np.array(square(q, u))) for q, u in priors]
    spare: list[np.ndarray] = []  # runners-up for ``reserve``
    n_spare = 0 if reserve is None else _MODEL_RESERVE

    def covered(v: np.ndarray) -> bool:
        """``v`` is a lattice we have, or a multiple of one we have that the autocorrelation supports as well: a
        multiple of a poorly supported finer lattice (the scale model's period dividing an aspect change's two
        periods, a square lattice ~sqrt(5) finer than a rotation by ~27 degrees) is still tested."""
        sv = None
        for i, (_, q) in enumerate(chosen):
            tol = PRIOR_TOL if i < len(priors) else _affine.SAME_TOL
            if _affine.same(v, q, tol):  # scores only for the rare nested pair: this runs thousands of times
                if _affine.same(q, v, tol):
                    return True
                sv = float(_affine.score(sm, limits, v)) if sv is None else sv
                if float(_affine.score(sm, limits, q)) >= _affine.FINER_RATIO * sv:
                    return True
        return False
    # geometry models (key-independent): a rotation by a small angle, either cropped (native period) or
    # "straightened" (the largest same-aspect rectangle cropped and resized back to the original size); the
    # best angle of each model by the lattice score, refined, is a hypothesis after the priors
    if priors and n_models > 0:
        p_native = priors[0][0]
        th = np.radians(np.arange(-MAX_ROTATION_DEG, MAX_ROTATION_DEG + 1e-9, 0.1))
        th = th[np.abs(th) >= math.radians(0.25)]
        fill = straighten_factor(rn.shape, th)
        # the reserve has the models' maxima on the autocorrelation's sharp part as well (texture is broad; the
        # mark's peaks are 1-2 px)
        sharp = sm - cv2.GaussianBlur(sm, (0, 0), _affine.TOPHAT)
        models = []
        starts: list[tuple[float, float]] = []  # the reserve's runners-up, refined together below
        rotation_periods = [np.full_like(th, p_native), p_native / fill]  # cropped, straightened: per angle
        for pm in rotation_periods:
            sc_m = _score(sm, limits, pm, th)
            k = int(np.argmax(sc_m))
            models.append((float(sc_m[k]), float(pm[k]), float(th[k])))
            starts += [(float(pm[j]), float(th[j]))
                       for j in _next_maxima(sc_m, th, k, _MODEL_NMS[0], n_spare, _score(sharp, limits, pm, th))]
        # scale model: resized and/or cropped, no rotation (a crop of an image whose short side was not 512 px
        # keeps a period no prior predicts, a cropped video frame is upscaled to 320 px: periods up to rmax);
        # the fundamental period, not a multiple of it
        ps = MIN_PERIOD * np.exp(np.arange(0.0, math.log(rmax / MIN_PERIOD), 0.0015))
        sc_p = _score(sm, limits, ps, np.zeros_like(ps))
        k = _affine.finest_divisor(ps, sc_p, int(np.argmax(sc_p)), MIN_PERIOD)
        models.append((float(sc_p[k]), float(ps[k]), 0.0))
        starts += [(float(ps[j]), 0.0) for j in _next_maxima(sc_p, np.log(ps), k, _MODEL_NMS[1], n_spare,
                                                              _score(sharp, limits, ps, np.zeros_like(ps)))]
        if starts:
            spare += [np.array(square(*pt)) for pt in refine(np.array([st[0] for st in starts]),
                                                               np.array([st[1] for st in starts]),
                                                               _REFINE_STEPS_ROTATION)]
        best = sorted(models, reverse=True)[:n_models]
        for pt in refine(np.array([m[1] for m in best]), np.array([m[2] for m in best]), _REFINE_STEPS_ROTATION):
            v = np.array(square(*pt))
            if not any(_affine.same(v, q) for _, q in chosen):
                chosen.append((np.inf, v))
        if reserve is not None:  # shear models (reserve only): one axis slanted by k periods per period
            ks = np.arange(-MAX_SHEAR, MAX_SHEAR + 1e-9, 0.002)
            ks = ks[np.abs(ks) >= 0.01]
            for axis in (2, 1):  # horizontal shear (v2 slanted along x), vertical (v1 slanted along y)
                vs = np.tile(np.array(square(p_native, 0.0)), (len(ks), 1))
                vs[:, axis] = ks * p_native
                sc_s = _affine.score(sm, limits, vs)
                k = int(np.argmax(sc_s))
                idx = [k, *_next_maxima(sc_s, ks, k, _SHEAR_NMS, 1, _affine.score(sharp, limits, vs))]
                spare.extend(_affine.refine(sm, limits, vs[idx]))
            # an aspect change then a rotation: one axis at either rotation model's period (reserve only)
            spare.extend(_affine.rotated_stretches(sm, sharp, limits, th, rotation_periods, MIN_PERIOD, rmax))
        n_axis = 3 + (0 if reserve is None else _AXIS_RESERVE)
        picks = _affine.axis_model(sm, limits, MIN_PERIOD, rmax / 1.2, n_axis)
        for v in picks[:3]:
            if not covered(v):
                chosen.append((np.inf, v))
        spare[:0] = list(picks[3:])
    if not len(order):
        return _split(chosen, spare, n, reserve)
    # peak candidates: square lattices (a peak as a first-ring, second-ring or diagonal point) refined in
    # (period, angle), and affine ones (pairs of peaks) refined in four coordinates, ranked together
    cands = []
    for i in order:
        dy, dx = float(py[i] - cy), float(px[i] - cx)
        r, ang = math.hypot(dy, dx), math.atan2(dy, dx)
        for p, t in ((r, ang), (r / 2, ang), (r / math.sqrt(2), ang - math.pi / 4)):
            if p >= MIN_PERIOD:
                cands.append((p, (t + math.pi / 4) % (math.pi / 2) - math.pi / 4))
    refined: list[tuple[float, np.ndarray]] = []
    if cands:
        cands_a = np.array(cands)
        sc = _score(sm, limits, cands_a[:, 0], cands_a[:, 1])
        top = cands_a[np.argsort(-sc)[:N_REFINE]]
        vs = np.array([square(*pt) for pt in refine(top[:, 0], top[:, 1])])
        refined += [(float(s1), v) for s1, v in zip(_affine.score(sm, limits, vs, _RING1), vs, strict=True)]
    vecs = np.stack([px[order] - cx, py[order] - cy], axis=1).astype(np.float64)
    refined += _affine.candidates(sm, vecs, limits, MIN_PERIOD, rmax)
    refined.sort(key=lambda t: -t[0])
    for sc_, v in refined:
        if covered(v):
            continue  # a coarser version (or duplicate) of a lattice we already have
        finer = [i for i, (sq, q) in enumerate(chosen) if _affine.same(q, v) and sc_ >= 0.8 * sq]
        if finer:  # a finer lattice explaining the peaks of one we have (not a prior) replaces it
            chosen[finer[0]] = (sc_, v)
            continue
        chosen.append((sc_, v))
    return _split(chosen, spare, n, reserve)


AXIS_PICKS = 3  # periods :func:`axis_periods` returns per known axis (each also doubled: a counted hypothesis each)
_AXIS_RANGE = (0.4, 2.5)  # the free axis's period relative to the known one
_AXIS_LOG_STEP = 0.001
_AXIS_HARMONICS = 24  # the tile's spectrum ends near harmonic 0.18 * TILE = 23 (the chip pulse's band)
_AXIS_WHITEN_BINS = 8.0
_AXIS_MAX_FREQ = 0.25  # cycles per px: the chips' band (CHIP = 2 px)
_AXIS_NMS = 0.02  # relative period suppressed around a pick


def axis_fold(rn: np.ndarray, period: float, axis: int) -> np.ndarray | None:
    """The image folded along its known axis (period ``period``): rows resampled so that period becomes TILE and
    summed modulo TILE, ``(TILE, free axis length)``; the mark adds up coherently, texture much less.  ``axis`` 1:
    the x period is the free one (the rows fold along y), 0: the y period (the image transposed).  None when the
    image is too small for a tile of the known axis or two periods of the free one."""
    a = rn if axis == 1 else rn.T
    h, w = a.shape
    rows = int(round(h * TILE / period))
    if rows < TILE or w < 2 * MIN_PERIOD:
        return None
    lines = cv2.resize(a, (w, rows), interpolation=cv2.INTER_LINEAR)
    padded = np.zeros((-(-rows // TILE) * TILE, w), np.float32)
    padded[:rows] = lines
    return padded.reshape(-1, TILE, w).sum(axis=0)


def axis_periods(folded: np.ndarray, period: float, n: int = AXIS_PICKS) -> list[float]:
    """Key-independent candidates for the free axis's period of :func:`axis_fold`'s ``folded`` (one axis keeps
    ``period``: a forced aspect ratio, one side stretched, of a photo whose 2-D autocorrelation buries the mark's
    lattice -- kodim05's brickwork).  The fold's 1-D power spectrum along the free axis, summed over the TILE lines
    and whitened, has the mark's lines at multiples of 1 / (its period): the ``n`` best harmonic sums (mean over
    the harmonics in the chips' band), distinct by :data:`_AXIS_NMS`."""
    w = folded.shape[1]
    size = _fast_len(2 * w)  # zero-padded twice: the lines fall between bins less
    padded = np.zeros((TILE, size), np.float32)
    np.subtract(folded, folded.mean(axis=1, keepdims=True), out=padded[:, :w])
    spec = cv2.dft(padded, flags=cv2.DFT_ROWS | cv2.DFT_COMPLEX_OUTPUT)[:, : size // 2 + 1]  # ~2.5x numpy's
    line = (spec[..., 0] * spec[..., 0] + spec[..., 1] * spec[..., 1]).sum(axis=0)
    smooth = cv2.GaussianBlur(line[None], (0, 0), _AXIS_WHITEN_BINS)[0]
    white = line / (smooth + 1e-9 * float(smooth.mean()) + 1e-30)
    ps = period * np.exp(np.arange(math.log(_AXIS_RANGE[0]), math.log(_AXIS_RANGE[1]), _AXIS_LOG_STEP))
    ps = ps[(ps >= MIN_PERIOD) & (ps <= 0.9 * w)]
    if not len(ps):
        return []
    freq = np.arange(1, _AXIS_HARMONICS + 1)[None, :] / ps[:, None]
    valid = (freq <= _AXIS_MAX_FREQ) & (freq >= 2.0 / w)
    # read between the bins (linear interpolation): the picks' precision is what lets a 6-period fold add up
    vals = np.where(valid, np.interp(freq * size, np.arange(len(white), dtype=np.float64), white), 0.0)
    score = vals.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
    picks: list[float] = []
    for _ in range(n):
        j = int(np.argmax(score))
        if not np.isfinite(score[j]):
            break
        picks.append(float(ps[j]))
        score[np.abs(np.log(ps / ps[j])) < _AXIS_NMS] = -np.inf
    return picks


def axis_tile(folded: np.ndarray, period: float) -> np.ndarray:
    """:func:`axis_fold`'s ``folded`` folded along its free axis too (period ``period``): the TILE x TILE fold of
    the aspect lattice, in the fold's orientation (transpose it for ``axis`` 0), for ranking (0.5 ms against 1.3 ms
    for :func:`fold`'s warp of a 768x512 image)."""
    w = folded.shape[1]
    cols = max(1, int(round(w * TILE / period)))
    padded = np.zeros((TILE, -(-cols // TILE) * TILE), np.float32)
    padded[:, :cols] = cv2.resize(folded, (cols, TILE), interpolation=cv2.INTER_LINEAR)
    return padded.reshape(TILE, -1, TILE).sum(axis=1, dtype=np.float64)


def _next_maxima(sc: np.ndarray, x: np.ndarray, k: int, nms: float, n: int = _MODEL_RESERVE,
                 sharp: np.ndarray | None = None) -> list[int]:
    """Indices of the ``n`` best maxima of the 1-D score ``sc`` over ``x`` after ``k``, then of ``sharp`` (the
    score on the autocorrelation's sharp part), each at least ``nms`` from every one picked before."""
    taken = np.abs(x - x[k]) < nms
    out = []
    for score in (sc, sharp):
        if score is None:
            continue
        for _ in range(n):
            cand = np.where(taken, -np.inf, score)
            j = int(np.argmax(cand))
            if not np.isfinite(cand[j]):
                break
            out.append(j)
            taken |= np.abs(x - x[j]) < nms
    return out


def _split(chosen: list[tuple[float, np.ndarray]], spare: list[np.ndarray], n: int,
           reserve: list[Lattice] | None) -> list[Lattice]:
    """The first ``n`` lattices; the runners-up (``spare``, then the lattices beyond ``n``) go to ``reserve``."""
    if reserve is not None:
        kept = [v for _, v in chosen[:n]]
        for v in spare + [v for _, v in chosen[n:]]:
            if len(reserve) == N_RESERVE:
                break
            if not any(_affine.same(v, q) and _affine.same(q, v) for q in kept):
                kept.append(v)
                reserve.append(_as_lattice(v))
    return [_as_lattice(v) for _, v in chosen[:n]]


def _as_lattice(v: np.ndarray) -> Lattice:
    return (float(v[0]), float(v[1]), float(v[2]), float(v[3]))


MAX_FOLD_AREA = 16  # a homography's rectified image may grow at most this much (a degenerate fit is dropped)


def fold(rn: np.ndarray, lattice: Lattice | tuple[float, ...]) -> np.ndarray:
    """Warp so the lattice becomes axis-aligned with period TILE, then sum all tiles.  A 9-tuple is a homography
    (row-major 3x3) from image to tile coordinates (``_local``: perspective)."""
    h, w = rn.shape
    if len(lattice) == 9:
        return _fold_homography(rn, np.array(lattice, dtype=np.float64).reshape(3, 3))
    if all(abs(a - b) < 1e-9 for a, b in zip(lattice, NATIVE, strict=True)):
        # native scale, no rotation: zero-pad to whole tiles, sum (= the warp)
        padded = np.zeros((-(-h // TILE) * TILE, -(-w // TILE) * TILE), dtype=np.float32)
        padded[:h, :w] = rn
        return _sum_tiles(padded)
    m = np.array([[lattice[0], lattice[2]], [lattice[1], lattice[3]]], dtype=np.float64) / TILE
    # pixel centres (i + 0.5) follow the lattice map, as they do under every (centre-aligned) resize
    inv = np.linalg.inv(m)
    corners = inv @ np.array([[0, w, 0, w], [0, 0, h, h]], dtype=np.float64)
    lo = corners.min(axis=1)
    size = np.ceil((corners.max(axis=1) - lo) / TILE).astype(int) * TILE
    a = np.hstack([m, (m @ lo + m @ np.array([0.5, 0.5]) - 0.5)[:, None]]).astype(np.float64)
    # warped one row of tiles at a time into a buffer that stays in cache, and added up in float32 (as
    # _sum_tiles does): a lattice finer than the tile can make the whole warp 10-20x the image (~25 % faster)
    width = int(size[0])
    strip, acc = np.empty((TILE, width), np.float32), np.zeros((TILE, width), np.float32)
    for i in range(int(size[1]) // TILE):
        ai = a.copy()
        ai[:, 2] += a[:, 1] * (TILE * i)  # the strip's rows are the warp's rows TILE * i ..
        cv2.warpAffine(rn, ai, (width, TILE), dst=strip, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        cv2.add(acc, strip, dst=acc)
    return acc.reshape(TILE, width // TILE, TILE).sum(axis=1, dtype=np.float64)


def _sum_tiles(a: np.ndarray) -> np.ndarray:
    """The sum of the TILE x TILE tiles of ``a`` (float32, whole tiles), float64: the rows of tiles are added in
    float32 (contiguous, a third faster than one float64 reduction; at most ~40 terms of |value| <= 3), the
    columns of tiles in float64."""
    rows = np.add.reduce(a.reshape(a.shape[0] // TILE, TILE, a.shape[1]), axis=0)
    return rows.reshape(TILE, a.shape[1] // TILE, TILE).sum(axis=1, dtype=np.float64)


def _fold_homography(rn: np.ndarray, hm: np.ndarray) -> np.ndarray:
    h, w = rn.shape
    corners = np.array([[0, w, 0, w], [0, 0, h, h], [1, 1, 1, 1]], dtype=np.float64)
    mapped = hm @ corners
    if np.any(mapped[2] <= 1e-6):
        return np.zeros((TILE, TILE))
    uv = mapped[:2] / mapped[2]
    lo = uv.min(axis=1)
    size = np.ceil((uv.max(axis=1) - lo) / TILE).astype(int) * TILE
    if size[0] * size[1] > MAX_FOLD_AREA * max(h * w, TILE * TILE):
        return np.zeros((TILE, TILE))
    shift = np.array([[1.0, 0.0, -lo[0]], [0.0, 1.0, -lo[1]], [0.0, 0.0, 1.0]])
    warped = cv2.warpPerspective(rn, shift @ hm, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return _sum_tiles(warped)
