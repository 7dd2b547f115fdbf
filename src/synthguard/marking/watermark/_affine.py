"""Affine lattice hypotheses from the autocorrelation: independent x/y scales, shear, any rotation (issue 24).

An aspect change, a shear or a rotation applied after an aspect change turns the tile's square lattice into a
general one, ``{a v1 + b v2}``, which the square-lattice models of ``_sync`` cannot express.  Its
autocorrelation still has peaks on the lattice, so every pair of strong peaks (and their halves, when the first
ring is buried) is a candidate basis; candidates are Lagrange-Gauss reduced (the shortest basis, so lattices that
differ only by a unimodular change of basis coincide), limited to plausible geometries (condition number
<= :data:`MAX_CONDITION`, i.e. aspect 0.4-2.5 with some shear), scored on the autocorrelation at a dozen lattice
points, and the best are refined in all four coordinates.  A reduced basis of ``A Z^2`` is ``A U`` with ``U`` a
signed permutation whenever ``A``'s columns are themselves nearly orthogonal (aspect change before or after a
rotation by a multiple of 90 degrees, a rotation after it, mild shear); the orientation search (``_orient``)
then covers ``U``.  A textured photo hides the peak pairs of an aspect change followed by a rotation: the
rotated-stretch model (:func:`rotated_stretches`) searches that family directly, one axis at a period a rotation
model predicts.  Nothing here uses the key.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_CONDITION = 2.6
N_PEAKS = 14
N_AFFINE_REFINE = 10
SAME_TOL = 0.015  # relative: two lattices are the same (one spans the other) within this
_POINTS = np.array([(1, 0), (0, 1), (1, 1), (1, -1), (2, 0), (0, 2), (2, 1), (1, 2), (2, -1), (1, -2),
                    (3, 0), (0, 3)], dtype=np.float64)
_RING1 = _POINTS[:4]
_AXIS_REACH = 3  # px: a lattice point on the grid lands within 1 px of the peak (the max over 3x3 keeps its height)
_AXIS_MIN_POINTS = 6
_AXIS_NMS = 10  # grid steps (5 %) suppressed around a pick
TOPHAT = 2.0  # px: the broad part of the autocorrelation (texture) removed before the aspect grid
_AXIS_STEP = 0.005  # log-period grid of the aspect model (0.5 %: a lattice point at 3 periods moves < 1 px)
_STEPS = (1.2, 0.4, 0.13, 0.045)
_DIVISORS = ((2, 1), (1, 2), (2, 2), (3, 1), (1, 3), (3, 3))  # of (v1, v2): the x and y periods in the aspect model
FINER_RATIO = 0.8  # a finer lattice replaces a nested coarser one when it scores at least this fraction of it


def bilinear(a: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``a`` sampled at fractional (``ys``, ``xs``), bilinearly (edges clamped).  The four neighbours are taken
    from the flattened array at one clamped flat index (``take``: ~40 % faster than 2-D fancy indexing)."""
    y0, x0 = np.floor(ys), np.floor(xs)
    fy, fx = ys - y0, xs - x0
    h, w = a.shape
    i = np.clip(y0.astype(np.int64), 0, h - 2) * w + np.clip(x0.astype(np.int64), 0, w - 2)
    flat = a.reshape(-1)
    gy, gx = 1 - fy, 1 - fx
    return (gy * gx * flat.take(i) + gy * fx * flat.take(i + 1)
            + fy * gx * flat.take(i + w) + fy * fx * flat.take(i + w + 1))


def score(acf: np.ndarray, limits: tuple[float, float], v: np.ndarray, points: np.ndarray = _POINTS) -> np.ndarray:
    """Mean autocorrelation over lattice points for bases ``v`` (..., 4) = (v1x, v1y, v2x, v2y)."""
    cy, cx = acf.shape[0] // 2, acf.shape[1] // 2
    a, b = points[:, 0], points[:, 1]
    dx = v[..., 0:1] * a + v[..., 2:3] * b
    dy = v[..., 1:2] * a + v[..., 3:4] * b
    valid = (np.abs(dy) < limits[0]) & (np.abs(dx) < limits[1])
    vals = bilinear(acf, cy + dy, cx + dx)
    n = valid.sum(-1)
    return np.where(valid, vals, 0.0).sum(-1) / np.maximum(n, 1) * np.minimum(n, 4) / 4


def reduce(v: np.ndarray) -> np.ndarray:
    """Lagrange-Gauss reduction of the basis (v1x, v1y, v2x, v2y): the shortest equivalent basis."""
    a, b = np.array(v[:2], dtype=np.float64), np.array(v[2:], dtype=np.float64)
    for _ in range(32):
        if a @ a > b @ b:
            a, b = b, a
        mu = round(float(a @ b) / max(float(a @ a), 1e-12))
        if mu == 0:
            break
        b = b - mu * a
    return np.concatenate([a, b])


def _reduce_many(v: np.ndarray) -> np.ndarray:
    """:func:`reduce` of each row of ``v`` (k, 4), vectorised (the same steps, row by row)."""
    a, b = v[:, :2].copy(), v[:, 2:].copy()
    for _ in range(32):
        swap = (a * a).sum(1) > (b * b).sum(1)
        a[swap], b[swap] = b[swap], a[swap].copy()
        mu = np.round((a * b).sum(1) / np.maximum((a * a).sum(1), 1e-12))
        if not mu.any():
            break
        b -= mu[:, None] * a
    return np.concatenate([a, b], axis=1)


def condition(v: np.ndarray) -> float:
    s = np.linalg.svd(np.array([[v[0], v[2]], [v[1], v[3]]]), compute_uv=False)
    return float(s[0] / max(s[1], 1e-12))


def candidates(sm: np.ndarray, peaks: np.ndarray, limits: tuple[float, float], min_period: float,
               max_period: float, n: int = N_AFFINE_REFINE) -> list[tuple[float, np.ndarray]]:
    """Refined affine bases ``(first-ring score, (v1x, v1y, v2x, v2y))``, best first, from peak vectors (k, 2)."""
    vecs = np.concatenate([peaks, peaks / 2]).astype(np.float64)
    i, j = np.triu_indices(len(vecs), 1)  # every pair, as (v1x, v1y, v2x, v2y)
    v = np.concatenate([vecs[i], vecs[j]], axis=1)
    v = _reduce_many(v[np.abs(v[:, 0] * v[:, 3] - v[:, 1] * v[:, 2]) >= min_period**2])
    la, lb = np.hypot(v[:, 0], v[:, 1]), np.hypot(v[:, 2], v[:, 3])
    bases = v[(np.minimum(la, lb) >= min_period) & (np.maximum(la, lb) <= max_period)]
    bases = bases[np.array([condition(r) <= MAX_CONDITION for r in bases], dtype=bool)]
    if not len(bases):
        return []
    arr = np.unique(np.round(bases, 1), axis=0)
    sc = score(sm, limits, arr)
    keep: list[np.ndarray] = []
    for i in np.argsort(-sc):
        if len(keep) >= n:
            break
        if not any(same(arr[i], k) for k in keep):
            keep.append(arr[i])
    if not keep:
        return []
    x = refine(sm, limits, np.array(keep))
    out = [(float(score(sm, limits, xi, _RING1)), xi) for xi in x]
    return sorted(out, key=lambda t: -t[0])


def refine(sm: np.ndarray, limits: tuple[float, float], x: np.ndarray) -> np.ndarray:
    """Coordinate ascent of the lattice score in all four coordinates, all bases ``x`` (k, 4) at once."""
    for step in _STEPS:
        for c in range(4):
            d = np.linspace(-4 * step, 4 * step, 9)
            trial = np.repeat(x[:, None, :], len(d), axis=1)
            trial[:, :, c] += d
            s = score(sm, limits, trial)
            x = trial[np.arange(len(x)), np.argmax(s, axis=1)]
    return x


def axis_model(sm: np.ndarray, limits: tuple[float, float], min_period: float, max_period: float,
               n: int = 3) -> np.ndarray:
    """Aspect model (no rotation, independent x and y periods, e.g. a forced aspect ratio): an exhaustive search
    over the (x period, y period) grid scored at all lattice points -- one remap of the autocorrelation per
    point -- the ``n`` best distinct maxima (strong texture can outscore the mark), refined in all four
    coordinates, each replaced by its finest well-scoring divisor; of nested picks only one is kept
    (:func:`keep_finest`): (k, 4)."""
    ps = (min_period * np.exp(np.arange(0.0, np.log(max_period / min_period), _AXIS_STEP))).astype(np.float32)
    cy, cx = sm.shape[0] // 2, sm.shape[1] // 2
    # the grid misses sharp peaks by up to 1 px: take the local maximum, not a blur (which flattens the mark's
    # one-pixel peaks below a textured photo's broad ones: kodim08's facades), of the autocorrelation's sharp part
    # (minus its blur: kodim13's mountains and kodim05's brickwork have broad peaks of their own)
    coarse = cv2.dilate(sm - cv2.GaussianBlur(sm, (0, 0), TOPHAT), np.ones((_AXIS_REACH, _AXIS_REACH), np.uint8))
    total = np.zeros((len(ps), len(ps)), np.float32)  # [y period, x period]
    count = np.zeros_like(total)
    size = (len(ps), len(ps))
    for a, b in _POINTS:  # the point (a, b) of every grid lattice: x = a * px, y = b * py; valid is separable
        vy, vx = (np.abs(b * ps) < limits[0]).astype(np.float32), (np.abs(a * ps) < limits[1]).astype(np.float32)
        # on an axis (a or b zero) the samples repeat along the other axis: remap one line and broadcast it
        ny, nx = (1 if b == 0 else size[0]), (1 if a == 0 else size[1])
        map_x = np.broadcast_to((cx + a * ps[:nx]).astype(np.float32), (ny, nx))
        map_y = np.broadcast_to((cy + b * ps[:ny]).astype(np.float32)[:, None], (ny, nx))
        val = np.empty(size, np.float32)
        val[...] = cv2.remap(coarse, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y), cv2.INTER_LINEAR)
        val *= vy[:, None]
        val *= vx[None, :]
        total += val
        count += vy[:, None] * vx[None, :]
    sc = total / np.maximum(count, 1) * np.minimum(count, 4) / 4
    ratio = np.log(ps)[:, None] - np.log(ps)[None, :]
    sc[(np.abs(ratio) > np.log(MAX_CONDITION)) | (count < _AXIS_MIN_POINTS)] = -np.inf  # few points: texture wins
    maxima = []
    for _ in range(4 * n):  # the best maxima, each suppressed with its neighbourhood before the next
        j, i = np.unravel_index(int(np.argmax(sc)), sc.shape)
        if not np.isfinite(sc[j, i]):
            break
        sc[max(j - _AXIS_NMS, 0) : j + _AXIS_NMS + 1, max(i - _AXIS_NMS, 0) : i + _AXIS_NMS + 1] = -np.inf
        maxima.append(np.array([float(ps[i]), 0.0, 0.0, float(ps[j])]))
    picks: list[tuple[float, np.ndarray]] = []
    for sv, v in _finest_divisors(sm, limits, min_period, maxima):  # in the maxima's order
        keep_finest(picks, sv, v)
        if len(picks) == n:
            break
    return np.array([v for _, v in picks]) if picks else np.zeros((0, 4))


RS_THETAS = 5  # rotated stretches: angles kept per known axis, model and autocorrelation part
RS_PICKS = 6  # rotated stretches handed to the reserve (counted: ``_sync.N_RESERVE``)
_RS_RANGE = (0.5, 2.0)  # the stretched axis's period relative to the known one (aspect 0.5-2)
_RS_LOG_STEP = 0.004  # the nearest step is within 0.8 px of a point 3 periods of 128 px out (refined after)
_RS_NMS = np.radians(1.0)
DIVISOR_RATIO = 0.7  # :func:`finest_divisor`: a divisor of a 1-D model's period scoring this fraction of it
_KNOWN_POINTS = {1: _POINTS[[1, 5, 11]], 0: _POINTS[[0, 4, 10]]}  # (0, 1), (0, 2), (0, 3); (1, 0), (2, 0), (3, 0)


def finest_divisor(x: np.ndarray, sc: np.ndarray, k: int, floor: float) -> int:
    """The index of the finest divisor of ``x[k]`` (a period on the increasing grid ``x``) that still scores: over 2,
    then over 3, the best of ``sc`` within 3 steps of it while that scores :data:`DIVISOR_RATIO` of the current
    pick and stays >= ``floor`` (a multiple of the mark's period has its lattice points on the peaks too).  Shared
    by ``_sync``'s scale model and :func:`rotated_stretches`' stretch."""
    for div in (2, 3):
        j = int(np.argmin(np.abs(x - x[k] / div)))
        lo = max(j - 3, 0)
        if x[k] / div >= floor and sc[lo : j + 4].max() >= DIVISOR_RATIO * sc[k]:
            k = lo + int(np.argmax(sc[lo : j + 4]))
    return k


def rotated_stretches(sm: np.ndarray, sharp: np.ndarray, limits: tuple[float, float], th: np.ndarray,
                      known: list[np.ndarray], min_period: float, max_period: float,
                      n: int = RS_PICKS) -> list[np.ndarray]:
    """Aspect change, then a rotation (a photo stretched to a format, then straightened): a rectangular lattice
    turned by ``th``, one axis at a period a rotation model predicts (each array of ``known``, per angle: the
    native period, or the period the straightening crop gives), the other stretched.  The peak pairs of
    :func:`candidates` miss it on textured photos and the axis model has no angle; a full (angle, stretch) grid on
    the autocorrelation (0.25 degrees x 1 %) cost 0.6-0.8 s here.  Two 1-D searches instead: the angle from the
    known axis's three points alone (they do not depend on the stretch), the :data:`RS_THETAS` best per known
    axis, model and part of the autocorrelation (``sm``, its ``sharp`` part); then the stretch over all points at
    each, and its :func:`finest_divisor` as well (the pilot ranking tells a multiple from the mark's period).  The
    ``n`` best by score after :func:`refine`, distinct (``(k, 4)`` bases)."""
    rs = np.exp(np.arange(np.log(_RS_RANGE[0]), np.log(_RS_RANGE[1]), _RS_LOG_STEP))
    c, s = np.cos(th), np.sin(th)
    starts: list[np.ndarray] = []
    for pk in known:
        sq = np.stack([pk * c, pk * s, -pk * s, pk * c], -1)
        for axis in (1, 0):  # 1: y kept, x stretched (v1 scaled); 0: x kept
            picked: set[int] = set()
            for src in (sm, sharp):
                sc = score(src, limits, sq, _KNOWN_POINTS[axis])
                for _ in range(RS_THETAS):
                    k = int(np.argmax(sc))
                    if not np.isfinite(sc[k]):
                        break
                    picked.add(k)
                    sc[np.abs(th - th[k]) < _RS_NMS] = -np.inf
            for k in sorted(picked):
                free = rs[(rs * pk[k] >= min_period) & (rs * pk[k] <= max_period)]
                if not len(free):
                    continue
                v = np.repeat(sq[k][None], len(free), axis=0)
                v[:, 2 * (1 - axis) : 2 * (1 - axis) + 2] *= free[:, None]
                sv = score(sm, limits, v)
                j = int(np.argmax(sv))
                finest = finest_divisor(free, sv, j, free[0])
                starts += [v[j]] if finest == j else [v[j], v[finest]]
    if not starts:
        return []
    x = refine(sm, limits, np.array(starts))
    sx = score(sm, limits, x)
    picks: list[np.ndarray] = []
    for i in np.argsort(-sx):
        if len(picks) == n:
            break
        if not any(same(x[i], q) and same(q, x[i]) for q in picks):
            picks.append(x[i])
    return picks


def _finest_divisors(sm: np.ndarray, limits: tuple[float, float], min_period: float,
                     v0s: list[np.ndarray]) -> list[tuple[float, np.ndarray]]:
    """``(score, basis)`` per basis ``v0`` of ``v0s``: ``v0`` refined, or the finest of its divisors (a basis vector
    over 2 or 3) that still spans it and scores at least :data:`FINER_RATIO` of it -- the grid's maximum can be a
    multiple of the mark's lattice.  All trials are refined in one batch: the refinement and the score treat each
    basis on its own, and one batch saves ~10 ms of numpy calls per image."""
    if not v0s:
        return []
    d = np.repeat(np.array(((1, 1), *_DIVISORS), dtype=np.float64), 2, axis=1)
    trials = [_divisor_trials(v0, d, min_period) for v0 in v0s]
    bounds = np.cumsum([0] + [len(t) for t in trials])
    x = refine(sm, limits, np.concatenate(trials))
    sx = score(sm, limits, x)
    return [_finest_of(x[a:b], sx[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _divisor_trials(v0: np.ndarray, d: np.ndarray, min_period: float) -> np.ndarray:
    trial = v0[None, :] / d  # each basis vector over its divisor: superlattices of v0
    short = np.minimum(np.hypot(trial[:, 0], trial[:, 1]), np.hypot(trial[:, 2], trial[:, 3]))
    return trial[short >= min_period]


def _finest_of(trial: np.ndarray, st: np.ndarray) -> tuple[float, np.ndarray]:
    """The choice among ``v0``'s refined divisor trials (``trial[0]``: ``v0`` itself), finest first."""
    v, sv = trial[0], float(st[0])
    for k in 1 + np.argsort(np.abs(trial[1:, 0] * trial[1:, 3] - trial[1:, 1] * trial[1:, 2])):  # finest first
        if st[k] >= FINER_RATIO * sv and same(v, trial[k]) and not same(trial[k], v):
            return float(st[k]), trial[k]
    return sv, v


def keep_finest(picks: list[tuple[float, np.ndarray]], sv: float, v: np.ndarray) -> None:
    """Add the scored basis ``v`` to ``picks`` unless it duplicates one; of two nested lattices (one a multiple of
    the other) only one is kept: the finer while it scores at least :data:`FINER_RATIO` of the coarser (a multiple
    of the mark's lattice has its points on the mark's peaks too, and picked first it would hide the lattice that
    decodes), else the coarser (a finer lattice half of whose points miss the peaks)."""
    for k, (sq, q) in enumerate(picks):
        coarser, finer = same(v, q), same(q, v)
        if coarser and finer:
            return  # the same lattice
        if finer:
            if sv >= FINER_RATIO * sq:
                picks[k] = (sv, v)
            return
        if coarser:
            if sq < FINER_RATIO * sv:
                picks[k] = (sv, v)
            return
    picks.append((sv, v))


def same(a: np.ndarray, b: np.ndarray, tol: float = SAME_TOL) -> bool:
    """True when basis ``a`` spans a sublattice of ``b``'s lattice (a = b U, U integer, not singular)."""
    b0, b1, b2, b3 = float(b[0]), float(b[1]), float(b[2]), float(b[3])
    det = b0 * b3 - b2 * b1  # b as the matrix [[b0, b2], [b1, b3]]; 2x2 by hand: this runs thousands of times
    if abs(det) < 1e-9:
        return False
    u = ((b3 * a[0] - b2 * a[1]) / det, (-b1 * a[0] + b0 * a[1]) / det,
         (b3 * a[2] - b2 * a[3]) / det, (-b1 * a[2] + b0 * a[3]) / det)
    r = [round(float(x)) for x in u]
    return all(abs(x - y) < tol for x, y in zip(u, r, strict=True)) and r[0] * r[3] - r[2] * r[1] != 0
