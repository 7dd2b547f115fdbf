"""Geometry models the global lattice search cannot see: perspective (keystone) and the mark as an inset (issue 24).

Both defeat the autocorrelation of ``_sync``: under a perspective the tile lattice varies across the image (no
single affine lattice folds the far edges within a chip, and the autocorrelation peaks smear into streaks), and
an inset's lattice drowns in the host.  The autocorrelation of small windows does not help either: the mark is
~20 dB under the (whitened) content, so a key-independent periodicity detector only sees it over the whole image.
So both are geometry *models* (like the rotation models of ``_sync``) with few free parameters, resolved by the
keyed test itself, every candidate counted in the Bonferroni ``N``.  They run on the full search only, after the
lattice hypotheses found nothing.  Not covered: a keystone together with a mirror, rotation or crop (the scan is
upright, the model keeps the frame), an inset touching the host's border or whose sides blend into the host.

* Keystone: the picture of a rectangle seen slightly from one side -- one edge kept, the opposite edge shrunk by
  ``a`` of its length, symmetrically (4 sides x :data:`KEYSTONE_AMOUNTS`, a grid fine enough, 1 %, that the
  nearest point folds the far corners within a chip; a resize after it is the native prior's period).  Testing
  the whole grid costs too much on every unmarked image, so a coarse scan (:data:`KEYSTONE_COARSE`, every other
  amount) runs first on the central half across the shrinking direction, where a 1 % error moves the tile half
  as far, ranked by a cheap upright phase-only correlation with the pilot comb; the best candidate's neighbours
  on the fine grid (-1 %, 0, +1 %) are then tested on the whole image, upright.  Only these enter the presence
  test, and the count has every grid point in all orientations: the maximum over a subset of the candidates,
  however the subset was chosen, is at most the maximum over all of them (``N_KEYSTONE`` = 4 x 11).
* Inset: a pasted picture leaves a rectangle of straight step edges in the host. The best rectangles
  (:func:`rectangles`, a key-independent edge search; only those edged almost all round, which keeps the tests off
  most unmarked images) are cropped -- from the full-resolution image, where a small inset's chips still span pixels
  -- and tested with the prior a resize predicts (the tile period is the short side over 4, as for any resized
  copy). The short side is read to a fraction of a pixel but the content next to a side can bias it by ~1 %, more
  than a fold of 5 tiles tolerates, so :data:`INSET_SCALES` variants are ranked like the keystone's and the best is
  tested. A side that runs beside a content edge is read further off (3-5 %: the edge search picks the content's
  line), so the inset's own autocorrelation lattices (``_sync.lattices`` on the region, key-independent,
  :data:`INSET_LATTICES` of them) are tested too, for rectangles edged at least :data:`RECT_LATTICE_SCORE` (that
  search costs ~45 ms a rectangle, and facades offer several weaker ones) (``N_INSET`` = 3 rectangles x (7 variants
  + 3 lattices) counted). Candidate sides are ranked on straight runs of edge pixels (one row or column), plus a few
  that may wander by a pixel: on water or foliage the wandering runs of texture outnumbered a pasted picture's
  sides. On the tuning half of an inset bench (12 + 12 images, 5 placements, 30-50 % of the host's width) the two
  took insets from 0.87 to 0.98. The rectangles' score floor :data:`RECT_MIN_SCORE` is what keeps these tests off
  most unmarked images: at 0.78, 17 % of the clean Kodak and photo-set images (and their 2x upscales) test one
  rectangle or more, 0.46 on average.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from synthguard.marking.watermark._pattern import TILE

KEYSTONE_SIDES = ("top", "bottom", "left", "right")
KEYSTONE_AMOUNTS = tuple(round(0.02 + 0.01 * i, 2) for i in range(11))  # 2 % .. 12 %
KEYSTONE_COARSE = KEYSTONE_AMOUNTS[1::2]  # 3 %, 5 %, .. 11 %
KEYSTONE_REFINE = 1  # coarse candidates whose fine-grid neighbourhoods are tested
N_KEYSTONE = len(KEYSTONE_SIDES) * len(KEYSTONE_AMOUNTS)
N_RECTANGLES = 3
RECT_CANNY = (40, 120)
RECT_MIN_SIDE = 0.15  # of the image's short side
RECT_MIN_COVER = 0.5  # least fraction of each side that is an edge
RECT_INSET = 1  # px dropped inside the detected sides (the pasted picture's resampled border)
RECT_BORDER = 4  # sides this close to the image border are not an inset's
RECT_SEARCH = 4  # px searched across a side for its exact position
RECT_GAP = 7  # px of gap closed along a side
RECT_KEEP = 32  # candidate positions per axis (straight runs)
RECT_KEEP_WANDER = 16  # and runs that may wander by a pixel
RECT_NMS = 1  # px: one candidate position per edge
RECT_SIZE_BONUS = 0.2
RECT_MIN_SCORE = 0.78  # rectangles tested: a pasted picture's sides are edged almost everywhere (most natural
# rectangles, e.g. windows, score lower: this keeps the inset tests off most unmarked images)
INSET_SCALES = (-0.015, -0.01, -0.005, 0.0, 0.005, 0.01, 0.015)  # relative errors of the period read off a side
INSET_LATTICES = 3  # the inset's autocorrelation lattices tested beside the best variant
RECT_LATTICE_SCORE = 0.81  # rectangles edged this well (or better) pay for their own lattice search
N_INSET = N_RECTANGLES * (len(INSET_SCALES) + INSET_LATTICES)
N_LOCAL = N_KEYSTONE + N_INSET

Box = tuple[int, int, int, int]  # (y0, y1, x0, x1)
Homography = tuple[float, float, float, float, float, float, float, float, float]  # row-major 3x3, image -> tile


def keystone(shape: tuple[int, int], side: str, amount: float, period: float, box: Box | None = None) -> Homography:
    """The map from image to tile coordinates (period ``TILE``) of a keystone: ``side`` shrunk by ``amount`` of its
    length, the opposite side kept; restricted to ``box`` (its coordinates) when given."""
    h, w = shape
    d = amount * (w if side in ("top", "bottom") else h) / 2.0
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    dst = {"top": [[d, 0], [w - d, 0], [w, h], [0, h]], "bottom": [[0, 0], [w, 0], [w - d, h], [d, h]],
           "left": [[0, d], [w, 0], [w, h], [0, h - d]], "right": [[0, 0], [w, d], [w, h - d], [0, h]]}[side]
    forward = cv2.getPerspectiveTransform(src, np.array(dst, dtype=np.float32))  # original -> keystoned image
    hm = np.diag([TILE / period, TILE / period, 1.0]) @ np.linalg.inv(forward)
    if box is not None:
        hm = hm @ np.array([[1.0, 0.0, box[2]], [0.0, 1.0, box[0]], [0.0, 0.0, 1.0]])
    return tuple(float(v) for v in (hm / hm[2, 2]).reshape(-1))  # type: ignore[return-value]


def keystone_scan(shape: tuple[int, int], period: float) -> list[tuple[str, float, Box, Homography]]:
    """The coarse scan's candidates ``(side, amount, box, homography in box coordinates)``: the central half across
    the shrinking direction (where the lattice varies least with the amount)."""
    h, w = shape
    out = []
    for side in KEYSTONE_SIDES:
        box = (0, h, w // 4, w - w // 4) if side in ("top", "bottom") else (h // 4, h - h // 4, 0, w)
        for a in KEYSTONE_COARSE:
            out.append((side, a, box, keystone(shape, side, a, period, box)))
    return out


def keystone_refine(shape: tuple[int, int], period: float, ranked: list[tuple[str, float]]) -> list[Homography]:
    """Fine-grid neighbours (amount -1 %, 0, +1 %) of the best coarse candidates, without repeats."""
    seen: set[tuple[str, float]] = set()
    out = []
    for side, a in ranked[:KEYSTONE_REFINE]:
        for b in (a - 0.01, a, a + 0.01):
            b = round(b, 2)
            if b in KEYSTONE_AMOUNTS and (side, b) not in seen:
                seen.add((side, b))
                out.append(keystone(shape, side, b, period))
    return out


def rectangles(luma: np.ndarray, n: int = N_RECTANGLES, min_score: float = 0.0) -> list[tuple[Box, float, float]]:
    """Up to ``n`` rectangles whose four sides are straight step edges (a pasted picture), best first: the
    interior box of each.  Key-independent: Canny edges split into horizontal and vertical ones, long straight
    runs of them (a Hough transform restricted to the two axes) give candidate side positions, and a rectangle
    scores the least edge coverage of its four sides (1: every side fully edged).  Each side is then located to a
    fraction of a pixel (the peak of the median gradient across it), since the tile period is read from the
    rectangle's short side: ``(interior box, short side in pixels, score)``, the score at least ``min_score``."""
    h, w = luma.shape
    u8 = np.clip(luma, 0, 255).astype(np.uint8)
    edges = cv2.Canny(u8, RECT_CANNY[0], RECT_CANNY[1]) > 0
    gx = np.abs(cv2.Sobel(u8, cv2.CV_32F, 1, 0, ksize=3))
    gy = np.abs(cv2.Sobel(u8, cv2.CV_32F, 0, 1, ksize=3))
    vert_line = (edges & (gx >= gy)).astype(np.uint8)
    horz_line = (edges & (gy > gx)).astype(np.uint8)
    vert = cv2.dilate(vert_line, np.ones((1, 3), np.uint8))  # a side may wander by a pixel
    horz = cv2.dilate(horz_line, np.ones((3, 1), np.uint8))
    min_side = RECT_MIN_SIDE * min(h, w)
    # candidate sides from the undilated edges: a pasted picture's side is one straight line of pixels, while
    # texture (ripples, foliage) strings long runs together only once it may wander by a pixel
    # (and the best few of the dilated ones: a side drawn across two rows)
    xs = np.union1d(_runs(vert_line, min_side), _runs(vert, min_side, RECT_KEEP_WANDER))
    ys = np.union1d(_runs(horz_line.T, min_side), _runs(horz.T, min_side, RECT_KEEP_WANDER))
    xs, ys = xs[(xs > RECT_BORDER) & (xs < w - RECT_BORDER)], ys[(ys > RECT_BORDER) & (ys < h - RECT_BORDER)]
    if len(xs) < 2 or len(ys) < 2:
        return []
    # cv[y, x]: edge pixels in rows < y of column x, ch likewise along rows; only read at the candidate sides'
    # columns xs and rows ys, so only those are summed
    cv = np.zeros((h + 1, w), np.int32)
    cv[1:, xs] = np.cumsum(vert[:, xs], axis=0, dtype=np.int32)
    ch = np.zeros((h, w + 1), np.int32)
    ch[ys, 1:] = np.cumsum(horz[ys, :], axis=1, dtype=np.int32)
    xa, xb = np.triu_indices(len(xs), 1)
    ya, yb = np.triu_indices(len(ys), 1)
    xa, xb = xs[xa], xs[xb]  # sorted: xa < xb
    ya, yb = ys[ya], ys[yb]
    keep_x, keep_y = xb - xa >= min_side, yb - ya >= min_side
    xa, xb, ya, yb = xa[keep_x], xb[keep_x], ya[keep_y], yb[keep_y]
    if not len(xa) or not len(ya):
        return []
    # side coverages, [x pair, y pair]: the vertical sides at xa and xb over ya..yb, the horizontal ones likewise
    dy, dx = (yb - ya).astype(np.float32)[None, :], (xb - xa).astype(np.float32)[:, None]
    cover = np.stack([(cv[yb[None, :], xa[:, None]] - cv[ya[None, :], xa[:, None]]) / dy,
                      (cv[yb[None, :], xb[:, None]] - cv[ya[None, :], xb[:, None]]) / dy,
                      (ch[ya[None, :], xb[:, None]] - ch[ya[None, :], xa[:, None]]) / dx,
                      (ch[yb[None, :], xb[:, None]] - ch[yb[None, :], xa[:, None]]) / dx])
    # the mean coverage, with a bonus for size (a pasted picture's own content often closes a smaller rectangle
    # with three of its sides)
    score = np.where(cover.min(axis=0) >= RECT_MIN_COVER,
                     cover.mean(axis=0) + RECT_SIZE_BONUS * np.minimum(dx, dy) / min(h, w), 0.0)
    ix, iy = np.unravel_index(np.argsort(-score, axis=None)[: 64 * n], score.shape)
    score = score[ix, iy]
    x0, x1, y0, y1 = xa[ix], xb[ix], ya[iy], yb[iy]
    out: list[tuple[Box, float, float]] = []
    tried: list[Box] = []
    for i in range(len(score)):
        if score[i] <= max(min_score, 0.0) or len(out) == n:
            break
        rough = (int(y0[i]), int(y1[i]), int(x0[i]), int(x1[i]))
        if any(_overlap(rough, b) > 0.7 for b in tried):
            continue  # a near-duplicate of a better rectangle
        tried.append(rough)
        top, bottom = _side(gy, int(y0[i]), int(x0[i]), int(x1[i])), _side(gy, int(y1[i]), int(x0[i]), int(x1[i]))
        left, right = _side(gx.T, int(x0[i]), int(y0[i]), int(y1[i])), _side(gx.T, int(x1[i]), int(y0[i]), int(y1[i]))
        box = (math.ceil(top) + RECT_INSET, math.floor(bottom) - RECT_INSET + 1,
               math.ceil(left) + RECT_INSET, math.floor(right) - RECT_INSET + 1)
        if box[1] - box[0] < min_side or box[3] - box[2] < min_side:
            continue
        if not any(_overlap(box, b) > 0.7 for b, _, _ in out):
            out.append((box, min(bottom - top, right - left), float(score[i])))
    return out


def _side(grad: np.ndarray, at: int, lo: int, hi: int) -> float:
    """The row of ``grad`` (an edge along rows ``lo``..``hi``, near row ``at``) where the median gradient peaks, to a
    fraction of a pixel (parabola through the peak); a step between rows k - 1 and k peaks at k - 0.5."""
    margin = (hi - lo) // 10
    rows = np.arange(at - RECT_SEARCH, at + RECT_SEARCH + 1)
    rows = rows[(rows >= 0) & (rows < grad.shape[0])]
    prof = np.median(grad[rows, lo + margin : hi - margin], axis=1)
    k = int(np.argmax(prof))
    if 0 < k < len(prof) - 1:
        den = prof[k - 1] - 2 * prof[k] + prof[k + 1]
        frac = 0.5 * (prof[k - 1] - prof[k + 1]) / den if den < 0 else 0.0
        return float(rows[k]) + float(np.clip(frac, -0.5, 0.5))
    return float(rows[k])


def _runs(edge: np.ndarray, min_len: float, keep: int = RECT_KEEP) -> np.ndarray:
    """Columns of ``edge`` holding a long straight run of edge pixels (gaps of a few pixels closed), the ``keep``
    with the longest runs that are the longest within ``RECT_NMS`` columns."""
    closed = cv2.morphologyEx(edge, cv2.MORPH_CLOSE, np.ones((RECT_GAP, 1), np.uint8))
    count = _longest_runs(closed)
    local_max = cv2.dilate(count[None, :], np.ones((1, 2 * RECT_NMS + 1), np.uint8))[0]
    peak = (count >= min_len * RECT_MIN_COVER) & (count >= local_max)
    cols = np.nonzero(peak)[0]
    return np.sort(cols[np.argsort(-count[cols])][:keep])


def _longest_runs(binary: np.ndarray) -> np.ndarray:
    """The longest run of ones in each column of a 0/1 array, from the run boundaries (edges are sparse: far
    cheaper than a running count over the whole image)."""
    step = np.diff(np.ascontiguousarray(binary.T, dtype=np.int8), axis=1, prepend=0, append=0)  # (column, row)
    at = np.flatnonzero(step)  # run starts (+1) and ends (-1), alternating within each column
    starts, ends = at[step.flat[at] > 0], at[step.flat[at] < 0]
    count = np.zeros(binary.shape[1], np.float64)
    np.maximum.at(count, starts // step.shape[1], (ends - starts).astype(np.float64))
    return count


def _overlap(a: Box, b: Box) -> float:
    iy = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    ix = max(0, min(a[3], b[3]) - max(a[2], b[2]))
    union = (a[1] - a[0]) * (a[3] - a[2]) + (b[1] - b[0]) * (b[3] - b[2]) - iy * ix
    return iy * ix / max(union, 1)
