"""Robust inaudible audio watermark: keyed spread-transform dither modulation of STFT band energies (DS-15, LM-11).

Why this design.  At the required 30 dB signal-to-watermark ratio an additive spread-spectrum mark is drowned by
its own host (a 5-s clip gives a correlation z of about 6, not enough for 288 coded bits), so the payload is
embedded with *informed* quantisation, which the host does not interfere with, on features that the attacks we
care about leave alone:

- Work at 8 kHz mono (everything above 4 kHz is left untouched), in 24 bands from 220 to 3500 Hz, so resampling to
  16 or 8 kHz keeps the mark.  A *cell* is one band over one 32-ms slot (two STFT frames, n_fft 256, hop 128).
- A cell's feature is its log amplitude ``L = 0.5 ln(max(E - N_b, 0) + F)``.  ``N_b`` is a per-band estimate of
  stationary noise (the band's 10th-percentile cell over the excerpt): additive noise (20 dB white noise drowns the
  high bands of speech) would otherwise compress the host's band-energy differences and push every projection off
  its lattice.  ``F`` is a per-slot floor 15 dB under the mean cell energy of the slots within +-1.5 s (local, so a
  5-s excerpt of a loud passage reads the floor the embedder used), so pauses and quiet cells neither carry nor
  break the mark (codecs zero masked bands).  Detection weights each projection by its cells' share
  ``max(E - N_b, 0) / (max(E - N_b, 0) + F)``.
- Slots come in groups of two; a *pair* is one band in the two slots of a group, valued ``L(first) - L(second)``:
  a volume change or a spectral tilt (EQ, codecs' band gains, resampling filters) cancels in it.
- A *projection* sums four keyed, signed pairs of one group.  Each of the 450 projections of a 4.8-s cycle (75
  groups x 6) carries a coded bit (288: the convolutionally coded payload of ``payload.py``) or a pilot (162, value
  0) with spread-transform dither modulation: its value is moved to the nearest point of the lattice
  ``(d_j + b/2 + Z) * DELTA`` with a keyed dither ``d_j``; the change is split over the 8 cells at the least mark
  energy (a feature change ``dL`` of a cell costs about ``dL^2 (E + F)^2 / E``, so cell ``i`` takes a share
  ``E_i / (E_i + F)^2``: cells near the floor move most, loud cells little, each within +-MAX_LOG_GAIN) and
  realised by per-cell STFT gains in five closed-loop passes (each re-analyses the marked audio with the
  detector's own floor and noise estimate).  If the full moves would exceed the signal-to-watermark budget (31 dB
  at strength 1), the moves are rationed after the third pass (``_ration``): cheap projections still reach their
  lattice point, only the few that would take most of the energy move part of the way (scaling every move down
  alike left most projections short of the lattice, and stereo AAC at 32 kbit/s per channel then broke ~20% of
  the coded bits).  The difference signal is resampled to the input rate and, if still over budget, scaled down.
- The cycle repeats over the whole file; a cycle is 4.8 s, so every 5-s excerpt holds each group intact once.

Detection: resample to 8 kHz (at most the most energetic 30 s), one STFT with hop 16, and for each of the 16 slot
phases and 150 cyclic slot offsets the pilot statistic ``S = sum_j sum_r w_jr tri(Q_jr / DELTA - d_j)`` over every
intact instance ``r`` of every pilot projection ``j``; ``tri`` is the triangle wave in [-1, 1] (+1 on the
lattice) and ``w`` in [0, 1] the share of the instance's cell energy above the floor (from the audio alone).  The
best coarse candidates are then refined in 2-sample steps (``N_CANDIDATES`` = 2424 candidates in all; every one is
still tested, but each (slot, projection) term is computed once, see docs/audio-watermark.md "Detection speed").
The noise estimate, floor and weights are functions of the audio alone.
Under the null hypothesis (the audio does not carry this key's mark) the dithers are uniform and independent of
the audio, so each projection's term has mean zero and range ``2 R_j``, and Hoeffding's inequality gives
``P(S >= z sqrt(V)) <= exp(-z^2 / 2)`` with ``V = sum_j R_j^2`` (``R_j`` = the sum of the weights),
whatever the audio.  The reported p-value is
Bonferroni-corrected over all candidates.  The payload is decoded (once) at the refined candidate with the largest
pilot statistic plus the payload projections' sign-free energy, averaged with its neighbouring shifts (so under
the null each coded bit's sign stays symmetric: shifting a dither by 1/2 flips the sign at every shift), with
the CRC-aided list Viterbi decoder; a CRC pass is a second, independent piece of evidence
(false-accept <= ``8 * 2**-24``).  ``p = min(p_correlation / 0.27, p_crc / 0.48, p_scale / 0.25)`` (weighted
Bonferroni, SHARE_*) and ``detected`` means ``p <= 1e-6``: the false-positive rate per excerpt is at most 1e-6.

Room layer (issue 25, audio_room.py, "v3-room"): audio of at least one room-layer cycle (9.7 s) also carries the
same payload in 1.024-s x 3.9-Hz cells, which survive rooms and speaker-to-microphone paths at the critical
distance.  ``embed`` writes v2 with V2_SHARE of the mark power budget, then v3 on the v2-marked audio with what v2
left, and scales v3 so that both together keep the SNR floor (``_fit``).  ``detect`` reads v2 first and, when it
finds nothing, the room layer; the result's ``layer`` says which mark was read.

Second stage (issue 25, audio_scale.py): when both find nothing, a search over time-scale x pitch-scale 0.85-1.15
undoes speed, tempo and pitch changes.  Its CRC-checked decodes (0.238e-6) and the room layer's gated decode
(audio_room.FALSE_ACCEPT, 0.0054e-6) share the 0.25 share SHARE_SCALE.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import math
from dataclasses import dataclass
from functools import lru_cache
from math import gcd
from typing import Any

import numpy as np
from scipy import fft as sp_fft
from scipy.signal import resample_poly

from synthguard.errors import WatermarkError
from synthguard.marking.watermark import audio_cells, audio_room, audio_scale
from synthguard.marking.watermark import payload as pl
from synthguard.marking.watermark.audio_cells import (
    _WINDOW,
    BAND_EDGES,
    CYCLE_SLOTS,
    DELTA,
    FALSE_POSITIVE_RATE,
    FLOOR_DB,
    FLOOR_HALF_SLOTS,
    GROUP_SLOTS,
    HOP,
    N_BANDS,
    N_FFT,
    N_GROUPS,
    N_PROJECTIONS,
    NOISE_PERCENTILE,
    PAIRS_PER_PROJECTION,
    PROJ_PER_GROUP,
    SHARE_CORRELATION,
    SHARE_CRC,
    SHARE_SCALE,  # noqa: F401 - re-exported beside the other two shares
    SLOT,
    WORK_RATE,
    AudioWatermarkResult,
    _excess,
    _frames,
    _noise,
    _one_thread,
    _tri,
    _z,
)
from synthguard.marking.watermark.audio_room import ration as _ration  # v2 and v3 ration moves alike

FINE_HOP = 16  # coarse detection STFT hop: slot phases are searched in steps of 2 ms...
PHASES = SLOT // FINE_HOP
REFINE_TOP = 3  # ...then the best coarse candidates are refined in steps of REFINE_STEP samples
REFINE_STEP = 2
MAX_DETECT_SECONDS = 30.0  # longer audio: the most energetic 30-s window is analysed (6 cycles)
N_PILOTS = N_PROJECTIONS - pl.CODED_BITS  # 162
MAX_LOG_GAIN = 0.5  # per-cell amplitude gain limit (nats): quiet cells cannot be pushed far
EMBED_PASSES = 5  # closed-loop passes, each re-analysing the marked audio as the detector will
RATION_PASS = 3  # after this many passes the moves are rationed to the SNR budget (_ration)
TARGET_SNR_DB = 31.0  # signal-to-watermark ratio at strength 1 (>= 30 dB required)
N_CANDIDATES = PHASES * CYCLE_SLOTS + REFINE_TOP * FINE_HOP // REFINE_STEP
V2_SHARE = 0.7  # of the mark power budget, when the room layer is embedded too (audio >= audio_room.MIN_SECONDS)
MIN_SAMPLES = CYCLE_SLOTS * SLOT + HOP  # at the working rate
MIN_SECONDS = MIN_SAMPLES / WORK_RATE
_LOG_TINY = math.log(1e-300)


@dataclass(frozen=True)
class _Layout:
    """The keyed structure of one cycle: per projection its group, bands, signs, role and dither."""

    group: np.ndarray  # (P,) group index 0..N_GROUPS-1
    bands: np.ndarray  # (P, 4) band of each pair
    signs: np.ndarray  # (P, 4) +-1
    role: np.ndarray  # (P,) coded-bit index, -1 for a pilot
    dither: np.ndarray  # (P,) in [0, 1): lattice offset in units of DELTA
    matrix: np.ndarray  # (N_BANDS, P): pair differences of one group -> projection values

    @property
    def pilot(self) -> np.ndarray:
        return self.role < 0


@lru_cache(maxsize=8)
def _layout(key: bytes) -> _Layout:
    # v2: DELTA 1.2 (v1: 1.0) with rationed moves; a v1 mark does not read on the v2 lattice, so the layout is new
    seed = int.from_bytes(hmac.new(key, b"synthguard.audio-wm.v2", hashlib.sha256).digest(), "big")
    rng = np.random.default_rng(seed)
    bands = np.concatenate([rng.permutation(N_BANDS).reshape(PROJ_PER_GROUP, PAIRS_PER_PROJECTION)
                            for _ in range(N_GROUPS)])
    group = np.repeat(np.arange(N_GROUPS), PROJ_PER_GROUP)
    signs = rng.choice(np.array([-1.0, 1.0]), size=bands.shape)
    role = np.full(N_PROJECTIONS, -1, dtype=np.int64)
    role[rng.permutation(N_PROJECTIONS)[: pl.CODED_BITS]] = np.arange(pl.CODED_BITS)
    dither = rng.random(N_PROJECTIONS)
    matrix = np.zeros((N_BANDS, N_PROJECTIONS))
    for j in range(N_PROJECTIONS):
        matrix[bands[j], j] = signs[j]
    return _Layout(group, bands, signs, role, dither, matrix)


def to_mono_work(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono (channel mean) at the working rate, float64."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.ndim != 1:
        raise WatermarkError("audio samples must have shape (n,) or (n, channels), got {shape}",
                             values={"shape": np.shape(samples)})
    if rate == WORK_RATE:
        return x
    g = gcd(int(rate), WORK_RATE)
    return resample_poly(x, WORK_RATE // g, int(rate) // g)


_BAND_SUM = ((np.arange(BAND_EDGES[0], BAND_EDGES[-1])[:, None] >= BAND_EDGES[None, :-1]) & (
    np.arange(BAND_EDGES[0], BAND_EDGES[-1])[:, None] < BAND_EDGES[None, 1:])).astype(np.float64)  # bins -> band


_BAND_POWER = np.zeros((2 * (N_FFT // 2 + 1), N_BANDS))  # squared (real, imaginary) parts of every bin -> band
_BAND_POWER[2 * BAND_EDGES[0]: 2 * BAND_EDGES[-1]] = np.repeat(_BAND_SUM, 2, axis=0)
_BAND_POWER32 = _BAND_POWER.astype(np.float32)
_WINDOW32 = _WINDOW.astype(np.float32)
_CHUNK = 512  # frames per FFT block when reading many: the block's arrays stay in cache


def _band_energy(spec: np.ndarray) -> np.ndarray:
    """Per frame the power of each band's bins (one product over the spectrum's (real, imaginary) pairs)."""
    x = np.ascontiguousarray(spec).view(np.float64)
    return (x * x) @ _BAND_POWER


def _band_frames(y: np.ndarray, runs: list[tuple[int, int, int]]) -> np.ndarray:
    """Band energies of the N_FFT-sample frames of ``y`` at ``start + hop * i``, ``i < n``, for every run
    ``(start, hop, n)``, rows in that order, in cache-sized blocks.

    Detection only: single precision (twice as fast; a relative error of about 1e-6 in a band energy moves a
    projection by about 1e-6 DELTA), on ``y`` scaled to unit peak (every feature is scale-free), so quiet audio
    does not underflow."""
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    y32 = (y / peak if peak > 0 else y).astype(np.float32)
    view = np.lib.stride_tricks.sliding_window_view(y32, N_FFT)
    out = np.empty((sum(n for _s, _h, n in runs), N_BANDS))
    row = 0
    for start, hop, n in runs:
        frames = view[start:: hop][:n]
        for i in range(0, n, _CHUNK):
            spec = sp_fft.rfft(frames[i: i + _CHUNK] * _WINDOW32, axis=1, overwrite_x=True).view(np.float32)
            out[row + i: row + i + len(spec)] = (spec * spec) @ _BAND_POWER32
        row += n
    return out


def _floor(cells: np.ndarray) -> np.ndarray | None:
    """Per-slot cell-energy floor, shape (slots, 1): FLOOR_DB under the mean cell energy of the slots within
    +-FLOOR_HALF_SLOTS (scales with the volume, follows the loudness); None for silence.

    Local, not a percentile of the whole excerpt: a 5-s excerpt of a louder passage would otherwise read every
    cell against a floor up to 2.5 dB off the one used at embedding and miss its lattice."""
    if not cells.size:
        return None
    p = cells.sum(axis=1)
    top = float(p.max())
    if not top > 0:
        return None
    c = np.concatenate([[0.0], np.cumsum(p)])
    i = np.arange(len(p))
    lo, hi = np.maximum(i - FLOOR_HALF_SLOTS, 0), np.minimum(i + FLOOR_HALF_SLOTS + 1, len(p))
    mean = (c[hi] - c[lo]) / ((hi - lo) * N_BANDS)
    return (10 ** (FLOOR_DB / 10) * np.maximum(mean, 1e-12 * top))[:, None]


def _features(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """What _projections reads, for a batch of excerpts ``cells`` (B, slots, bands): the log-amplitude difference
    of each slot and the next, the sum of their shares above the floor, and which excerpts are not silent (the
    others' rows are meaningless); None if none is.  Per excerpt the same floor and noise estimate as _floor and
    _noise."""
    p = cells.sum(axis=2)
    top = p.max(axis=1)
    ok = top > 0
    if not ok.any():
        return None
    c = np.concatenate([np.zeros((len(p), 1)), np.cumsum(p, axis=1)], axis=1)
    i = np.arange(p.shape[1])
    lo, hi = np.maximum(i - FLOOR_HALF_SLOTS, 0), np.minimum(i + FLOOR_HALF_SLOTS + 1, p.shape[1])
    mean = (c[:, hi] - c[:, lo]) / ((hi - lo) * N_BANDS)
    floor = (10 ** (FLOOR_DB / 10) * np.maximum(mean, 1e-12 * np.where(ok, top, 1.0)[:, None]))[:, :, None]
    noise = np.percentile(cells, NOISE_PERCENTILE, axis=1)[:, None, :]
    ex = _excess(cells, noise)
    la = 0.5 * np.log(ex + floor)
    share = ex / (ex + floor)
    return la[:, :-1] - la[:, 1:], share[:, :-1] + share[:, 1:], ok


def _coarse_z(q: np.ndarray, w: np.ndarray, off: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The pilot statistic (audio_cells._z of _gather) of a batch (B, rows, C) of projection values and weights at
    every cyclic offset: (B, CYCLE_SLOTS).  Each (row, projection) term belongs to one offset, so the terms are
    computed once and summed per cycle slot; offset ``k`` reads projection ``j`` of group ``g`` at cycle slot
    ``(2g - k) mod CYCLE_SLOTS`` (the same sums as _gather's, in the same order over the instances, in the
    precision of ``q``)."""
    t = q - off  # w tri(q - off), in place
    t -= np.rint(t)
    np.abs(t, out=t)
    t *= -4.0
    t += 1.0
    t *= w
    start = (GROUP_SLOTS * audio_cells._GROUP_OF[cols][None, :] - np.arange(CYCLE_SLOTS)[:, None]) % CYCLE_SLOTS
    at = (start * len(cols) + np.arange(len(cols))[None, :]).ravel()  # (offset, column) -> flat (slot, column)
    shape = (len(q), CYCLE_SLOTS, len(cols))
    soft = np.take(_fold_rows(t).reshape(len(q), -1), at, axis=1).reshape(shape)
    count = np.take(_fold_rows(w).reshape(len(q), -1), at, axis=1).reshape(shape)
    var = (count.astype(np.float64) ** 2).sum(axis=2)
    return np.where(var > 0, soft.astype(np.float64).sum(axis=2) / np.sqrt(np.maximum(var, 1e-12)), 0.0)


def _fold_rows(x: np.ndarray) -> np.ndarray:
    """(B, rows, C) -> (B, CYCLE_SLOTS, C): the sum of the rows of each cycle slot, in row order."""
    out = np.zeros((len(x), CYCLE_SLOTS, x.shape[2]), x.dtype)
    out[:, : min(x.shape[1], CYCLE_SLOTS)] = x[:, :CYCLE_SLOTS]
    for r in range(CYCLE_SLOTS, x.shape[1], CYCLE_SLOTS):
        part = x[:, r: r + CYCLE_SLOTS]
        out[:, : part.shape[1]] += part
    return out


def _cells_at(y: np.ndarray, starts: list[int]) -> list[np.ndarray]:
    """``AudioWatermarker._cells(_frames(y[s:], HOP), n_slots)`` for every start ``s`` (one FFT for all)."""
    counts = [max((len(y) - s - N_FFT) // HOP + 1, 0) // 2 * 2 for s in starts]
    if not sum(counts):
        return [np.zeros((0, N_BANDS)) for _ in starts]
    e = _band_frames(y, [(s, HOP, n) for s, n in zip(starts, counts, strict=True)])
    cells = e[0::2] + e[1::2]
    return np.split(cells, np.cumsum([n // 2 for n in counts])[:-1])


def _log_amp(cells: np.ndarray, floor: np.ndarray, noise: np.ndarray) -> np.ndarray:
    return 0.5 * np.log(_excess(cells, noise) + floor)


def _log_p(z: float) -> float:
    if not z > 0:
        return 0.0
    return min(0.0, math.log(N_CANDIDATES) - 0.5 * z * z)


class AudioWatermarker:
    """Embed / detect SynthGuard's audio watermark with a scheme key (seeds the layout and dithers)."""

    def __init__(self, key: bytes, strength: float = 1.0):
        self._key, self.strength = pl.check_scheme(key, strength)
        self.layout = _layout(self._key)
        self.room_layout = audio_room.layout(self._key)

    @property
    def target_snr_db(self) -> float:
        return TARGET_SNR_DB - 20 * math.log10(self.strength)

    # ------------------------------------------------------------------------------------------ embed
    def embed(self, samples: np.ndarray, rate: int, payload: bytes) -> np.ndarray:
        """Return ``samples`` (shape (n,) or (n, channels), float) with the mark added; same shape and rate."""
        payload = pl.check_payload(payload)
        x = np.asarray(samples, dtype=np.float64)
        rate = _check_rate(rate)
        y = to_mono_work(x, rate)
        if len(y) < MIN_SAMPLES:
            raise WatermarkError(
                "audio is {seconds:.2f} s long; the watermark needs at least {MIN_SECONDS:.2f} s",
                hint="Clips shorter than one watermark cycle carry the metadata and notice labels only; the record's "
                     "fingerprint still traces them.", values={"seconds": len(x) / rate, "MIN_SECONDS": MIN_SECONDS})
        if not np.all(np.isfinite(y)):
            raise WatermarkError("audio samples contain NaN or infinity", hint="Pass finite PCM samples.")
        power = float(np.mean(x * x)) if x.size else 0.0
        budget = power * 10 ** (-self.target_snr_db / 10)  # mean power of everything added (both layers)
        room = len(y) >= audio_room.MIN_SAMPLES  # the room layer needs one whole 9.7-s cycle
        v2_budget = budget * (V2_SHARE if room else 1.0)
        mark = self._mark_work(y, payload, v2_budget)
        if mark is None:
            raise WatermarkError("the audio is silent in the 220-3500 Hz band: there is nothing to hide a mark in",
                                 hint="Silent or near-silent outputs cannot carry an inaudible watermark.")
        work = mark
        mark = _to_rate(work, rate, len(x))
        mpow = float(np.mean(mark * mark))
        if mpow > 0 and power > 0:
            snr = 10 * math.log10(power / mpow)
            v2_snr = 10 * math.log10(power / v2_budget) if v2_budget > 0 else math.inf
            if snr < v2_snr:  # what the rationing left over budget: scale the whole mark down
                factor = 10 ** ((snr - v2_snr) / 20)
                mark, work, mpow = mark * factor, work * factor, mpow * factor**2
        if room:  # v3 reads the v2-marked audio, so its closed loop sees v2's moves; it gets the budget v2 left
            extra = audio_room.mark(self.room_layout, y + work[: len(y)], payload, max(budget - mpow, 0.0))
            if extra is not None:
                extra = _to_rate(extra, rate, len(x))
                mark = mark + extra * _fit(mark, extra, budget)
        out = x + (mark[:, None] if x.ndim == 2 else mark)
        return out.astype(np.asarray(samples).dtype if np.asarray(samples).dtype.kind == "f" else np.float32)

    def _mark_work(self, y: np.ndarray, payload: bytes, budget: float) -> np.ndarray | None:
        """The mark at the working rate; ``budget`` is the mean mark power allowed (0: no rationing)."""
        lay = self.layout
        spec = _frames(y, HOP)
        n_slots = min(len(spec) // 2, (len(y) - HOP) // SLOT)
        n_inst = n_slots // GROUP_SLOTS  # group instances (a cycle has N_GROUPS)
        spec = spec[: 2 * n_slots]
        cells0 = self._cells(spec, n_slots)
        floor = _floor(cells0)
        if floor is None:
            return None
        noise = _noise(cells0)
        bits = np.zeros(N_PROJECTIONS)
        code = pl.encode(payload).astype(np.float64)
        bits[~lay.pilot] = code[lay.role[~lay.pilot]]
        inst_group = np.arange(n_inst) % N_GROUPS  # cycle group of each instance
        # projections of each instance: rows = instance, columns = the 6 projections of its group
        proj = np.arange(N_PROJECTIONS).reshape(N_GROUPS, PROJ_PER_GROUP)[inst_group]  # (n_inst, 6) projection ids
        offs = (lay.dither + bits / 2)[proj]  # lattice offsets in units of DELTA
        sub = lay.matrix.T[proj]  # (n_inst, 6, N_BANDS) pair-difference -> projection weights
        gain = np.zeros((n_slots, N_BANDS))  # per-cell log-amplitude gain
        target = value0 = None
        cells = cells0
        for pass_ in range(EMBED_PASSES):
            if pass_:  # read the marked audio as the detector will: its own floor and noise estimate
                floor_now = _floor(cells)
                floor = floor if floor_now is None else floor_now
                noise = _noise(cells)
            la = _log_amp(cells, floor, noise)[: 2 * n_inst].reshape(n_inst, 2, N_BANDS)
            diff = la[:, 0] - la[:, 1]  # (n_inst, N_BANDS)
            value = np.einsum("ipb,ib->ip", sub, diff) / DELTA
            if target is None:
                value0 = value
                target = np.round(value - offs) + offs
            elif pass_ == RATION_PASS and budget > 0:
                power = float(np.mean(self._synth(spec * (self._bin_gain(gain) - 1.0), len(y)) ** 2))
                if power > budget:
                    cell_cost = ((np.exp(gain) - 1.0) ** 2 * cells0)[: 2 * n_inst]
                    cost = np.einsum("ipb,ib->ip", np.abs(sub), cell_cost[0::2] + cell_cost[1::2])
                    target = value0 + _ration(np.abs(target - value0), cost, budget / power) * (target - value0)
            t = (target - value) * DELTA  # wanted change of each projection value
            # least-energy change of the 8 cells: a feature change dL of a cell with excess energy E costs about
            # dL^2 (E + F)^2 / E of mark energy, so dL_i = s_i t a_i / sum(a) with a = E / (E + F)^2
            ex = _excess(cells, noise)[: 2 * n_inst]
            fl = floor[: 2 * n_inst]
            a = ex * fl / (ex + fl) ** 2
            a0, a1 = a[0::2], a[1::2]
            coef = t / np.maximum(np.einsum("ipb,ib->ip", np.abs(sub), a0 + a1), 1e-12)
            d_pair = np.einsum("ipb,ip->ib", sub, coef)
            dl = np.zeros((n_slots, N_BANDS))
            dl[0: 2 * n_inst: 2] = d_pair * a0
            dl[1: 2 * n_inst: 2] = -d_pair * a1
            want = noise + (_excess(cells, noise) + floor) * np.exp(2 * dl) - floor
            lowest = cells * math.exp(-2 * MAX_LOG_GAIN) + 1e-300
            step = 0.5 * np.log(np.maximum(want, lowest) / np.maximum(cells, 1e-300))
            gain = np.clip(gain + np.where(cells > 0, step, 0.0), -MAX_LOG_GAIN, MAX_LOG_GAIN)
            marked = y + self._synth(spec * (self._bin_gain(gain) - 1.0), len(y))
            cells = self._cells(_frames(marked, HOP)[: 2 * n_slots], n_slots)
        return self._synth(spec * (self._bin_gain(gain) - 1.0), len(y))

    @staticmethod
    def _cells(spec: np.ndarray, n_slots: int) -> np.ndarray:
        e = _band_energy(spec[: 2 * n_slots])
        return e[0::2] + e[1::2]

    @staticmethod
    def _bin_gain(gain: np.ndarray) -> np.ndarray:
        """Per-cell log gains -> per-(frame, bin) amplitude factors (1 outside the bands)."""
        per_bin = np.ones((len(gain), N_FFT // 2 + 1))
        widths = np.diff(BAND_EDGES)
        per_bin[:, BAND_EDGES[0]: BAND_EDGES[-1]] = np.repeat(np.exp(gain), widths, axis=1)
        return np.repeat(per_bin, 2, axis=0)

    @staticmethod
    def _synth(spec: np.ndarray, n: int) -> np.ndarray:
        frames = np.fft.irfft(spec, n=N_FFT, axis=1) * _WINDOW
        out = np.zeros(n + N_FFT)
        for k in range(N_FFT // HOP):  # frames k, k+2, ... do not overlap each other: add them as one strided block
            block = frames[k:: N_FFT // HOP]
            start = k * HOP
            if len(block):
                out[start: start + len(block) * N_FFT].reshape(-1, N_FFT)[:] += block
        return out[:n]

    # ------------------------------------------------------------------------------------------ detect
    def detect(self, samples: np.ndarray, rate: int, expected: bytes | None = None,
               scale_search: bool = True) -> AudioWatermarkResult:
        """Presence test with a bounded false-positive rate, then payload decoding (see the module docstring).

        When the offsets-only first stage finds nothing, the room layer (v3, audio_room.py) is read; when that finds
        nothing either and ``scale_search`` is on, the second stage searches
        time-scale x pitch-scale 0.85-1.15 (audio_scale.py): sped-up, time-stretched and pitch-shifted copies."""
        with _one_thread():  # tiny matrix products: BLAS threads only thrash, worst on a busy host
            expected = None if expected is None else pl.check_payload(expected)
            y, skipped = _prepare(samples, rate)
            first = self._detect_work(y, skipped, expected)
            if first.detected:
                return first
            room = self._detect_room(y, expected)
            if room is not None:
                return dataclasses.replace(room, offset_seconds=(room.offset_seconds or 0.0) + skipped / WORK_RATE)
            if not scale_search:
                return first
            second = audio_scale.detect(self, y, expected)
            if second is None:
                return first
            return dataclasses.replace(second, offset_seconds=(second.offset_seconds or 0.0) + skipped / WORK_RATE)

    def _detect_room(self, y: np.ndarray, expected: bytes | None) -> AudioWatermarkResult | None:
        """The room layer (audio_room.py) on the analysed window; a result only when it detects.  Its route's null
        bound, audio_room.FALSE_ACCEPT, is spent from SHARE_SCALE beside the scale search's (see SHARE_*)."""
        reading = audio_room.read(self.room_layout, y)
        if reading is None or not reading.detected or (expected is not None and reading.payload != expected):
            return None
        p_value = math.exp(max(min(0.0, reading.log_p - math.log(SHARE_SCALE)), _LOG_TINY))
        acc = None
        if expected is not None and reading.bits is not None:
            acc = float(np.mean(reading.bits == pl.payload_bits(expected)))
        return AudioWatermarkResult(bool(p_value <= FALSE_POSITIVE_RATE), reading.payload, reading.z, p_value, acc,
                                    reading.offset_samples / WORK_RATE, layer=audio_room.LAYER)

    def _detect(self, samples: np.ndarray, rate: int, expected: bytes | None) -> AudioWatermarkResult:
        """The first stage alone (v2, offsets only)."""
        expected = None if expected is None else pl.check_payload(expected)
        return self._detect_work(*_prepare(samples, rate), expected)

    def _detect_work(self, y: np.ndarray, skipped: int, expected: bytes | None) -> AudioWatermarkResult:
        """The first stage on the analysed window ``y`` (mono, working rate), which starts at sample ``skipped``."""
        lay = self.layout
        coded = None if expected is None else pl.encode(expected).astype(np.float64)
        known = lay.pilot if coded is None else np.ones(N_PROJECTIONS, dtype=bool)
        bits = np.zeros(N_PROJECTIONS)
        if coded is not None:
            bits[~lay.pilot] = coded[lay.role[~lay.pilot]]
        offs = lay.dither + bits / 2
        # coarse search: every slot phase (steps of FINE_HOP samples) and cyclic offset, known projections only
        fine = _band_frames(y, [(0, FINE_HOP, max((len(y) - N_FFT) // FINE_HOP + 1, 0))])
        coarse = self._coarse(fine, offs, np.flatnonzero(known))
        if not coarse:  # silence: no candidate can carry a mark
            return AudioWatermarkResult(False, None, 0.0, 1.0, 0.0 if expected is not None else None)
        z_max = max(c[0] for c in coarse)
        # refinement: the best coarse candidates at every sample shift within +-FINE_HOP/2, all projections
        best: tuple[float, Any] | None = None
        pay = ~lay.pilot
        refine = sorted(coarse, reverse=True)[:REFINE_TOP]
        shifts = [[(phase * FINE_HOP + shift, k) if phase * FINE_HOP + shift >= 0 else
                   # the same grid one slot later: analysed slot 0 is then cycle slot k + 1
                   (phase * FINE_HOP + shift + SLOT, (k + 1) % CYCLE_SLOTS)
                   for shift in range(-(FINE_HOP // 2), FINE_HOP // 2, REFINE_STEP)] for _z, phase, k in refine]
        starts = sorted({st for row_ in shifts for st, _ in row_})  # candidates of one phase share their cells
        cells_at = dict(zip(starts, _cells_at(y, starts), strict=True))
        reads = iter(self._read_offsets([cells_at[st] for cand in shifts for st, _ in cand],
                                        [kk for cand in shifts for _, kk in cand], offs))
        for cand in shifts:
            row: list[tuple[float, Any]] = []
            for start, kk in cand:
                read = next(reads)
                if read is None:
                    continue
                soft, count = read
                z_ref = float(_z(soft[None, known], count[None, known])[0])
                energy = float(np.sum(np.abs(soft[pay]) - 0.5 * count[pay])) / math.sqrt(
                    max(float((count[pay] ** 2).sum()) / 12, 1e-12))
                z_max = max(z_max, z_ref)
                row.append((z_ref + energy, (start, kk, soft, count)))
            # the true alignment is a broad peak over the shifts, a noise peak a narrow one: rank by the score
            # averaged with the neighbouring shifts (codec noise at the edge of decodability makes single peaks noisy)
            for i, (_s, data) in enumerate(row):
                smooth = float(np.mean([s for s, _ in row[max(0, i - 1): i + 2]]))
                if best is None or smooth > best[0]:
                    best = (smooth, data)
        if best is None:
            return AudioWatermarkResult(False, None, 0.0, 1.0, 0.0 if expected is not None else None)
        start, k, soft, count = best[1]
        decoded = self._decode(soft, count, None if coded is None else bits)
        offset = (skipped + start + ((-k) % CYCLE_SLOTS) * SLOT) / WORK_RATE
        return self._result(z_max, decoded, expected, offset)

    def _coarse(self, fine: np.ndarray, offs: np.ndarray, cols: np.ndarray) -> list[tuple[float, int, int]]:
        """The REFINE_TOP best (z, phase, offset) of every slot phase (a phase's cells are every PHASES-th fine
        frame plus the one half a slot later), phases of equal length read as one batch; [] for silence."""
        # single precision (twice as fast): a projection value (a few DELTA) is off by ~1e-7 DELTA, z by ~1e-6
        m = (self.layout.matrix[:, cols] / DELTA).astype(np.float32)
        m_abs = (np.abs(self.layout.matrix[:, cols]) / (2 * PAIRS_PER_PROJECTION)).astype(np.float32)
        off = offs[cols].astype(np.float32)
        by_len: dict[int, list[int]] = {}
        for phase in range(PHASES):
            by_len.setdefault((len(fine) - phase - PHASES // 2 - 1) // PHASES + 1, []).append(phase)
        top: dict[int, list[tuple[float, int, int]]] = {}
        for n, phases in by_len.items():
            if n < CYCLE_SLOTS:  # _projections: too few slots
                continue
            idx = np.array(phases)[:, None] + PHASES * np.arange(n)[None, :]
            feats = _features(fine[idx] + fine[idx + PHASES // 2])
            if feats is None:
                continue
            diff, share2, ok = feats
            z = _coarse_z(diff.astype(np.float32) @ m, share2.astype(np.float32) @ m_abs, off, cols)
            for i, phase in enumerate(phases):
                if ok[i]:
                    top[phase] = [(float(z[i, k]), phase, int(k)) for k in np.argsort(-z[i])[:REFINE_TOP]]
        return [c for phase in sorted(top) for c in top[phase]]

    def _read_offsets(self, cells: list[np.ndarray], ks: list[int], offs: np.ndarray
                      ) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Per excerpt ``cells[i]`` read at cyclic offset ``ks[i]``: ``_gather(self._projections(cells[i]), offs,
        [ks[i]], every projection)``, computing only the projection values that offset reads (each projection's
        four bands at its intact instances); excerpts of equal length as one batch.  None: too short or silent."""
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(cells)
        by_len: dict[int, list[int]] = {}
        for i, c in enumerate(cells):
            if len(c) >= CYCLE_SLOTS:
                by_len.setdefault(len(c), []).append(i)
        lay = self.layout
        for n, idx in by_len.items():
            feats = _features(np.stack([cells[i] for i in idx]))
            if feats is None:
                continue
            diff, share2, ok = feats
            start = (GROUP_SLOTS * lay.group[None, :] - np.array([ks[i] for i in idx])[:, None]) % CYCLE_SLOTS
            soft = np.zeros(start.shape)
            count = np.zeros(start.shape)
            b = np.arange(len(idx))[:, None, None]
            for r in range((n - 1) // CYCLE_SLOTS + 1):
                s = start + r * CYCLE_SLOTS
                intact = s < n - 1
                if not intact.any():
                    break
                at = b, np.minimum(s, n - 2)[:, :, None], lay.bands[None]
                q = (diff[at] * lay.signs).sum(axis=2) / DELTA
                w = np.where(intact, share2[at].sum(axis=2) / (2 * PAIRS_PER_PROJECTION), 0.0)
                soft += w * _tri(q - offs)
                count += w
            for j, i in enumerate(idx):
                if ok[j]:
                    out[i] = soft[j], count[j]
        return out

    def _projections(self, cells: np.ndarray, cols: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray] | None:
        """Projection values (units of DELTA) and reliability weights in [0, 1], read at every start slot; None for
        silence or too few slots.  The weight is the mean share of its cells' energy above the floor: projections
        in pauses carry no mark and only add noise.  Weights depend on the audio alone, so the null argument holds."""
        floor = _floor(cells)
        if len(cells) < CYCLE_SLOTS or floor is None:
            return None
        noise = _noise(cells)
        ex = _excess(cells, noise)
        la = _log_amp(cells, floor, noise)
        share = ex / (ex + floor)
        lay = self.layout
        m = lay.matrix if cols is None else lay.matrix[:, cols]
        weight = ((share[:-1] + share[1:]) @ np.abs(m)) / (2 * PAIRS_PER_PROJECTION)
        return ((la[:-1] - la[1:]) @ m) / DELTA, weight

    def _decode(self, soft: np.ndarray, count: np.ndarray, bits: np.ndarray | None = None,
                list_size: int = pl.LIST_SIZE) -> pl.Decoded:
        lay = self.layout
        pay = ~lay.pilot
        per_bit = np.zeros(pl.CODED_BITS)
        # tri > 0 means "on the bit-0 lattice"; the decoder wants positive = 1
        per_bit[lay.role[pay]] = -(soft[pay] if bits is None else soft[pay] * (1 - 2 * bits[pay]))
        rms = float(np.sqrt(np.mean(per_bit**2)))
        if not rms > 0:
            return pl.Decoded(None, np.zeros(pl.PAYLOAD_BITS, dtype=np.uint8))
        return pl.decode(per_bit / rms, list_size)

    @staticmethod
    def _result(z: float, decoded: pl.Decoded, expected: bytes | None, offset: float) -> AudioWatermarkResult:
        log_p_corr = _log_p(z)
        crc_ok = expected is None and decoded.ok
        log_p_crc = math.log(pl.CRC_FALSE_ACCEPT) if crc_ok else 0.0
        log_p = min(0.0, log_p_corr - math.log(SHARE_CORRELATION), log_p_crc - math.log(SHARE_CRC))
        p_value = math.exp(max(log_p, _LOG_TINY))
        acc = None if expected is None else float(np.mean(decoded.bits == pl.payload_bits(expected)))
        return AudioWatermarkResult(bool(p_value <= FALSE_POSITIVE_RATE), decoded.payload, float(max(z, 0.0)),
                                    p_value, acc, offset)


def _to_rate(mark: np.ndarray, rate: int, n: int) -> np.ndarray:
    """A working-rate mark resampled to ``rate`` and cut or zero-padded to ``n`` samples."""
    if rate != WORK_RATE:
        g = gcd(rate, WORK_RATE)
        mark = resample_poly(mark, rate // g, WORK_RATE // g)
    return np.pad(mark[:n], (0, max(0, n - len(mark))))


def _fit(first: np.ndarray, second: np.ndarray, budget: float) -> float:
    """The largest ``a`` in [0, 1] with ``mean((first + a second)^2) <= budget``: the two layers' marks are not
    exactly orthogonal, so the second is scaled to keep the combined SNR floor (TARGET_SNR_DB at strength 1)."""
    p1, p2, c = float(np.mean(first**2)), float(np.mean(second**2)), float(np.mean(first * second))
    if not p2 > 0 or p1 + 2 * c + p2 <= budget:
        return 1.0
    disc = c * c - p2 * (p1 - budget)
    if disc < 0:
        return 0.0
    return min(1.0, max(0.0, (-c + math.sqrt(disc)) / p2))


def _prepare(samples: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    """The analysed window (mono, working rate, finite, at most MAX_DETECT_SECONDS) and where it starts."""
    rate = _check_rate(rate)
    y = to_mono_work(np.asarray(samples, dtype=np.float64), rate)
    if len(y) < MIN_SAMPLES:
        raise WatermarkError("audio is {seconds:.2f} s long; watermark detection needs at least "
                             "{MIN_SECONDS:.2f} s", hint="Analyse a longer excerpt (5 s or more).",
                             values={"seconds": len(y) / WORK_RATE, "MIN_SECONDS": MIN_SECONDS})
    if not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    return _busiest_window(y)


def _busiest_window(y: np.ndarray) -> tuple[np.ndarray, int]:
    """At most MAX_DETECT_SECONDS of ``y``: the window (on a 1-s grid) with the most energy, and its start."""
    n = int(MAX_DETECT_SECONDS * WORK_RATE)
    if len(y) <= n:
        return y, 0
    sec = WORK_RATE
    c = np.concatenate([[0.0], np.cumsum(y[: len(y) // sec * sec].reshape(-1, sec) ** 2, axis=None)
                        .reshape(-1, sec)[:, -1]])
    width = n // sec
    best = int(np.argmax(c[width:] - c[:-width]))
    return y[best * sec: best * sec + n], best * sec


def _check_rate(rate: Any) -> int:
    if not isinstance(rate, (int, np.integer)) or not 1000 <= int(rate) <= 768_000:
        raise WatermarkError("sample rate must be an integer in 1000..768000 Hz, got {rate!r}", values={"rate": rate})
    return int(rate)
