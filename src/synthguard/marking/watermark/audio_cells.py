"""The audio watermark's cells and what both detection stages read them with (DS-15, LM-11; design: audio.py).

The geometry (working rate, STFT, 24 bands, 32-ms slots, groups, the 450 projections of a cycle, the lattice step),
the false-positive budget the stages split (SHARE_*), the result type and the reading primitives (frames, noise
estimate, pilot terms, Hoeffding statistic) are shared by the first stage (audio.py, offsets only) and the second
(audio_scale.py, time-scale x pitch-scale).  They sit below both because audio.py calls the second stage: the two
modules imported each other, audio_scale.py inside eight functions (issue 23).  audio.py imports these names, so
``audio.WORK_RATE`` and ``audio.AudioWatermarkResult`` stay valid.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

FALSE_POSITIVE_RATE = 1e-6
WORK_RATE = 8000
N_FFT = 256
HOP = 128
SLOT = 2 * HOP  # 32 ms
BAND_EDGES = np.linspace(7, 113, 25).round().astype(int)  # bins of 31.25 Hz: 219-3531 Hz, 24 bands
N_BANDS = len(BAND_EDGES) - 1
GROUP_SLOTS = 2
N_GROUPS = 75
CYCLE_SLOTS = GROUP_SLOTS * N_GROUPS  # 150 slots = 4.8 s
PAIRS_PER_PROJECTION = 4
PROJ_PER_GROUP = N_BANDS // PAIRS_PER_PROJECTION  # 6
N_PROJECTIONS = N_GROUPS * PROJ_PER_GROUP  # 450
DELTA = 1.2  # lattice step of a projection value (sum of 4 signed pair differences of log amplitudes, nats)
FLOOR_DB = -15.0  # cell-energy floor relative to the local mean cell energy...
FLOOR_HALF_SLOTS = 48  # ...over the slots within +-1.5 s (a 5-s excerpt then sees the floor the embedder used)
NOISE_PERCENTILE = 10.0  # per-band stationary noise estimate: this percentile of the band's cells over time
# shares of FALSE_POSITIVE_RATE (weighted Bonferroni over the three ways to detect): the first stage's pilot
# statistic, its CRC (8 * 2**-24 = 0.477e-6 must fit), and the scale search (audio_scale: 4 * 2**-24 = 0.24e-6)
SHARE_CORRELATION, SHARE_CRC, SHARE_SCALE = 0.27, 0.48, 0.25
# SHARE_SCALE is the fallback readers' share: the scale search (4 * 2**-24 = 0.238e-6) and the room layer
# (audio_room.FALSE_ACCEPT = 0.0054e-6) together stay under 0.25e-6, so the three shares still bound every route
LAYER = "v2"  # the band-energy mark's name in results; the room layer is "v3-room" (audio_room.py)
_WINDOW = np.sqrt(np.hanning(N_FFT + 1)[:N_FFT]).astype(np.float64)  # periodic sqrt-Hann: COLA at hop N/2


@dataclass(frozen=True)
class AudioWatermarkResult:
    detected: bool
    payload: bytes | None
    score: float
    p_value: float
    bit_accuracy: float | None = None  # only when an expected payload was given
    offset_seconds: float | None = None  # where the cycle starts in the analysed audio
    time_scale: float = 1.0  # the copy plays this many times faster than the marked original (scale search)
    pitch_scale: float = 1.0  # its frequencies are this many times the original's
    layer: str = LAYER  # which mark was read: "v2" (band energies) or "v3-room" (audio_room.py)

    def to_dict(self) -> dict[str, Any]:
        out = {"detected": self.detected, "payload": self.payload.hex() if self.payload is not None else None,
               "score": self.score, "p_value": self.p_value}
        if (self.time_scale, self.pitch_scale) != (1.0, 1.0):
            out |= {"time_scale": self.time_scale, "pitch_scale": self.pitch_scale}
        if self.layer != LAYER:  # only the room layer says so: v2 readings keep their old form
            out["layer"] = self.layer
        return out


def _tri(x: np.ndarray) -> np.ndarray:
    """Triangle wave of period 1: +1 at integers, -1 at half-integers (soft bit "on the lattice")."""
    r = x - np.round(x)
    return 1.0 - 4.0 * np.abs(r)


def _frames(y: np.ndarray, hop: int) -> np.ndarray:
    n = (len(y) - N_FFT) // hop + 1
    if n <= 0:
        return np.zeros((0, N_FFT // 2 + 1), dtype=np.complex128)
    view = np.lib.stride_tricks.sliding_window_view(y, N_FFT)[::hop][:n]
    return np.fft.rfft(view * _WINDOW, axis=1)


def _noise(cells: np.ndarray) -> np.ndarray:
    """Per-band stationary noise estimate (NOISE_PERCENTILE of the band's cell energies over time), shape (bands,).

    Subtracted from every cell before the log: additive noise (white noise lifts quiet high bands most) would
    otherwise compress the host's band-energy differences and move every projection off its lattice."""
    return np.percentile(cells, NOISE_PERCENTILE, axis=0)


def _excess(cells: np.ndarray, noise: np.ndarray) -> np.ndarray:
    return np.maximum(cells - noise, 0.0)


_GROUP_OF = np.repeat(np.arange(N_GROUPS), PROJ_PER_GROUP)
_FOLD_FROM = 8  # offsets from which _gather computes every row's term once and folds instead of gathering


def _gather(qw: tuple[np.ndarray, np.ndarray], offs: np.ndarray, ks: np.ndarray, cols: np.ndarray,
            dense: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """For cyclic offsets ``ks`` and projections ``cols``: the weighted sum over intact instances of
    ``tri(q - offset)`` and the sum of the weights (the term's range is +- that sum).  ``q`` holds every
    projection's column (``dense``) or only those of ``cols``, in that order.

    Offset ``k`` means analysed slot 0 is cycle slot ``k``, so group ``g`` starts at analysed slots
    ``(2g - k) mod CYCLE_SLOTS + r * CYCLE_SLOTS``; ``q`` has one row per start slot that has a following slot.
    Each (row, projection) term belongs to exactly one offset, so for many offsets the terms are computed once and
    summed per cycle slot (the same sums, in the same order over ``r``)."""
    q, w = qw
    start = (GROUP_SLOTS * _GROUP_OF[cols][None, :] - ks[:, None]) % CYCLE_SLOTS  # (K, C)
    if len(ks) >= _FOLD_FROM:  # many offsets: every (row, projection) term once, folded by cycle slot
        sel = (cols if dense else np.arange(len(cols)))
        qc, wc = q[:, sel], w[:, sel]
        terms = wc * _tri(qc - offs[cols][None, :])
        pad = (-len(q)) % CYCLE_SLOTS
        fold_t = np.pad(terms, ((0, pad), (0, 0))).reshape(-1, CYCLE_SLOTS, len(cols)).sum(axis=0)
        fold_w = np.pad(wc, ((0, pad), (0, 0))).reshape(-1, CYCLE_SLOTS, len(cols)).sum(axis=0)
        at = start, np.arange(len(cols))[None, :]
        return fold_t[at], fold_w[at]
    soft = np.zeros(start.shape)
    count = np.zeros(start.shape)
    off = offs[cols][None, :]
    for r in range(len(q) // CYCLE_SLOTS + 1):
        s = start + r * CYCLE_SLOTS
        ok = s < len(q)
        if not ok.any():
            break
        at = np.minimum(s, len(q) - 1), (cols if dense else np.arange(len(cols)))[None, :]
        wt = np.where(ok, w[at], 0.0)
        soft += wt * _tri(q[at] - off)
        count += wt
    return soft, count


def _one_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with the voice extra
        return nullcontext()
    return threadpool_limits(1, user_api="blas")


def _z(soft: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Hoeffding-normalised statistic per row: each projection's term lies in [-R_j, R_j] with mean 0 under H0."""
    var = (count**2).sum(axis=1)
    return np.where(var > 0, soft.sum(axis=1) / np.sqrt(np.maximum(var, 1e-12)), 0.0)
