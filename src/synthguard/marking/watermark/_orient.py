"""The eight orientations of the folded tile: mirrors and quarter turns (issue 24).

A mirrored, transposed or quarter-turned copy folds onto the tile under the same square lattice as the original
(the autocorrelation of a square lattice cannot tell them apart), so the orientation is searched on the folded
tile itself: each of the 8 elements ``g`` of the dihedral group D4 -- signed 2x2 permutation matrices acting on
cyclic tile coordinates ``(y, x) mod TILE`` -- is one more keyed hypothesis (8x the Bonferroni count, +0.3 on the
z threshold).  The correlation for ``g`` is computed against the reference comb moved by ``g`` (the image is not
resampled): ``sum_c s_c h(g x_c + o')``; the matching tile in the canonical orientation is ``h_g(y) = h(g y)`` at
offset ``g^-1 o'``, so decoding is unchanged.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from synthguard.marking.watermark._pattern import TILE

# identity first: the fast path's most likely orientation
ORIENTATIONS = tuple(np.array(m, dtype=np.int64) for m in (
    ((1, 0), (0, 1)), ((1, 0), (0, -1)), ((-1, 0), (0, 1)), ((-1, 0), (0, -1)),
    ((0, 1), (1, 0)), ((0, 1), (-1, 0)), ((0, -1), (1, 0)), ((0, -1), (-1, 0)),
))
N_ORIENTATIONS = len(ORIENTATIONS)


@cache
def _index(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays ``(iy, ix)`` with ``a[iy, ix](y) = a(g y mod TILE)`` for orientation ``k``."""
    g = ORIENTATIONS[k]
    yy, xx = np.meshgrid(np.arange(TILE), np.arange(TILE), indexing="ij")
    iy = (g[0, 0] * yy + g[0, 1] * xx) % TILE
    ix = (g[1, 0] * yy + g[1, 1] * xx) % TILE
    iy.setflags(write=False)
    ix.setflags(write=False)
    return iy, ix


def pull(a: np.ndarray, k: int) -> np.ndarray:
    """``a(g y)``: the tile seen in orientation ``k`` (also maps a spectrum: g is orthogonal, so g^-T = g)."""
    iy, ix = _index(k)
    return a[iy, ix]


def push(a: np.ndarray, k: int) -> np.ndarray:
    """``a(g^-1 y)``: the tile moved by orientation ``k`` (the inverse of :func:`pull`)."""
    out = np.empty_like(a)
    iy, ix = _index(k)
    out[iy, ix] = a
    return out


def back(off: tuple[int, int], k: int) -> tuple[int, int]:
    """The offset ``g^-1 o`` (g^-1 = g^T for a signed permutation)."""
    g = ORIENTATIONS[k]
    return (int(g[0, 0] * off[0] + g[1, 0] * off[1]) % TILE, int(g[0, 1] * off[0] + g[1, 1] * off[1]) % TILE)
