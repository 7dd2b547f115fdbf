"""The room layer of the audio watermark, "v3-room" (issue 25; LM-11, GB-13, DS-15): a second mark beside v2 that
survives reverberation and a loudspeaker-to-microphone path at the critical distance.

Why a second mark.  v2 (audio.py) lives in band energies of 32-ms slots; a room at 0 dB direct-to-reverberant
ratio smears those slots and fills the quiet cells that carry v2's moves (0/24 found, docs/audio-watermark.md).
A 1.024-s STFT frame is much longer than a room's energy decay (1/e in RT60 / 13.8 = 22-43 ms for RT60 0.3-0.6 s),
so the room acts on it as a fixed gain per bin, and a 3.9-Hz cell is narrower than the room's spectral fades, so
the fade is one gain per cell: the difference of one cell's log amplitude between two frames cancels it.  v3 is
weaker than v2 against noise, time/pitch changes and short excerpts, so it is a fallback, not a replacement.

- Cells: log amplitudes of 1.024-s frames (n_fft 8192 at 8 kHz, hop 4096), 4 bins (3.9 Hz) each, 220-3500 Hz:
  ``N_CELLS`` = 839 per frame.  Cycle: ``CYCLE`` = 18 hops (9.2 s); the pattern repeats over the file.
- Layout (keyed: HMAC of the scheme key with ``VERSION_TAG``, so it is unrelated to v2's): each cell's 18 cycle
  frames are shuffled and paired; each pair ``L(t1, c) - L(t2, c)`` gets a sign and one of 450 projections (~17
  pairs each).  288 projections carry payload.py's coded payload (the same 64 bits and CRC as v2, so the tracer
  reads the same ``watermark_payload``), 162 are pilots; each has a dither in [0, 1) on a lattice of step DELTA.
- Embedding: ``PASSES`` closed-loop passes move every projection to its lattice point by per-cell gains split by
  least mark energy (``E F / (E + F)^2``, floor 15 dB under the frame's mean cell), within +-MAX_LOG_GAIN nats; the
  mark is then scaled down to the caller's power budget if over.  When the budget binds (speech: the layer needs
  0.7-1.7 of the whole 31-dB budget, music about 0.25 of it), the pilots are rationed at PILOT_RATION of a payload
  projection's priority: they only have to single out the alignment (a null file's best of 288 candidates stays
  near z 2.8), while the payload has to pass the CRC, which is what failed on rationed speech under a room (pilot z
  4.4-5.5, CRC failed).  Embedding only: the reader and its bound are unchanged, so earlier marks still read.
- Detection: ``SHIFTS`` frame shifts x ``CYCLE`` cyclic offsets = ``N_CANDIDATES`` candidates.  The pilots'
  triangle statistic ``z`` (sum over sqrt(pilots)) picks one; there the payload is decoded once (CRC-aided list
  Viterbi, list size ``LIST_SIZE`` = 8) if ``z`` reaches Z_GATE (below it nothing can be detected).
  Detected = the CRC passes *and* ``z >= Z_GATE``.

False-positive bound (audio.py promises <= 1e-6 per file, LM-11).  Under the null (no v3 mark of this key) the
dithers are uniform and independent of the audio, so each pilot term ``tri(q - d)`` is *exactly* uniform on [-1, 1]
whatever ``q``, and the terms of distinct projections are independent.  A uniform on [-1, 1] is sub-Gaussian with
variance proxy 1/3 (its moment generating function ``sinh(l) / l <= exp(l^2 / 6)``, term by term since
``(2k + 1)! >= 6^k k!``), so Chernoff gives ``P(z >= g) <= exp(-3 g^2 / 2)`` per candidate (Hoeffding's
``exp(-g^2 / 2)`` uses only the range) and ``P(max z >= g) <= N_CANDIDATES exp(-3 g^2 / 2)`` (Bonferroni).  The
candidate is chosen from the pilots only, so the payload projections' soft bits stay symmetric there and a listed
frame passes the CRC with probability at most ``LIST_SIZE * 2**-24``, independently of ``z``.  Hence
``FALSE_ACCEPT = LIST_SIZE * 2**-24 * N_CANDIDATES exp(-3 Z_GATE^2 / 2)`` = 5.4e-9 at Z_GATE 2.6; audio.py spends it
from the fallback share (SHARE_SCALE), beside the scale search's 0.238e-6, within 0.25e-6.  The gate no longer sits
above every clean pilot z (measured null maximum 2.80 of 2,000, bench/watermark_audio_room.py ``--fp``): a null
file past the gate still needs a CRC pass, and the product of the two bounds is what is spent
(docs/audio-watermark.md).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from scipy import fft as sp_fft
from scipy import sparse

from synthguard.marking.watermark import payload as pl

VERSION_TAG = b"synthguard.audio-wm.v3-room"
LAYER = "v3-room"
WORK_RATE = 8000  # the same working rate as v2 (audio.WORK_RATE)
N_FFT = 8192  # 1.024 s
HOP = N_FFT // 2
BINS_PER_CELL = 4  # 3.9 Hz
CYCLE = 18  # hops: 9.2 s
N_PROJECTIONS = 450
DELTA = 6.0  # lattice step of a projection (sum of ~17 signed same-cell frame differences of log amplitude, nats)
FLOOR = 10**-1.5  # least-energy split: floor 15 dB under the frame's mean cell (v2: 15 dB under the local mean)
MAX_LOG_GAIN = 0.5
PASSES = 5
RATION_PASS = 3  # after this many passes the moves are rationed to the power budget (ration), as in v2
OVERLAP_GAIN = 1.6  # per-pass step factor: half of each frame's change is lost to its overlapping neighbours
PILOT_RATION = 0.6  # a pilot's weight against a payload projection when the moves are rationed (mark, docstring)
SHIFT_STEP = 256  # detection: frame shifts tried within one hop
SHIFTS = HOP // SHIFT_STEP
N_CANDIDATES = SHIFTS * CYCLE  # 288
Z_GATE = 2.6  # least pilot z for a detection: keeps FALSE_ACCEPT within SHARE_SCALE's slack (module docstring)
SUB_GAUSS = 1.5  # the null tail of a pilot z: P(z >= g) <= exp(-SUB_GAUSS g^2), uniform terms (docstring)
LIST_SIZE = pl.LIST_SIZE  # CRC-aided list Viterbi at the chosen candidate, as v2's first stage
FALSE_ACCEPT = LIST_SIZE * 2.0**-pl.CRC_BITS * min(1.0, N_CANDIDATES * math.exp(-SUB_GAUSS * Z_GATE**2))
MIN_SAMPLES = N_FFT + (CYCLE - 1) * HOP  # one whole cycle of frames at the working rate (9.73 s)
MIN_SECONDS = MIN_SAMPLES / WORK_RATE
_WIN = np.sqrt(np.hanning(N_FFT + 1)[:N_FFT])  # periodic sqrt-Hann: COLA at hop N/2
_FREQ = np.fft.rfftfreq(N_FFT, 1 / WORK_RATE)
_SEL_ALL = np.flatnonzero((_FREQ >= 220) & (_FREQ < 3500))
N_CELLS = len(_SEL_ALL) // BINS_PER_CELL
_SEL = _SEL_ALL[: N_CELLS * BINS_PER_CELL]


@dataclass(frozen=True)
class RoomReading:
    """What the room layer found: the pilot statistic, the decoded frame and where the cycle starts."""

    detected: bool
    payload: bytes | None
    z: float
    log_p: float  # natural log of the joint null bound of (CRC pass, pilot z >= z) at this reading
    bits: np.ndarray | None  # the decoded 64 payload bits (for verify mode's bit accuracy)
    offset_samples: int  # at the working rate: where cycle frame 0 starts in the analysed audio


@dataclass(frozen=True)
class RoomLayout:
    """The keyed structure of one cycle: per pair its frames, cell, projection and sign; per projection its role
    and dither."""

    pairs: np.ndarray  # (n_pairs, 3): cycle frame t1, cycle frame t2, cell
    proj: np.ndarray  # (n_pairs,) projection of each pair
    sign: np.ndarray  # (n_pairs,) +-1
    role: np.ndarray  # (N_PROJECTIONS,) coded-bit index, -1 for a pilot
    dither: np.ndarray  # (N_PROJECTIONS,) in [0, 1)

    @property
    def pilot(self) -> np.ndarray:
        return self.role < 0

    @cached_property
    def readout(self) -> sparse.csr_matrix:
        """(CYCLE * N_PROJECTIONS, CYCLE * N_CELLS): per-residue mean log amplitudes (row-major ``m0``) -> the
        projection values at every cyclic offset k0 (row ``k0 * N_PROJECTIONS + j``), in units of DELTA, when every
        residue has a frame.  Offset k0 reads cycle frame ``t`` from residue ``(t - k0) % CYCLE``."""
        a, b, c = self.pairs.T
        k0 = np.arange(CYCLE)[:, None]
        rows = np.broadcast_to(k0 * N_PROJECTIONS + self.proj[None, :], (CYCLE, len(a)))
        ca = ((a[None, :] - k0) % CYCLE) * N_CELLS + c[None, :]
        cb = ((b[None, :] - k0) % CYCLE) * N_CELLS + c[None, :]
        val = np.broadcast_to(self.sign[None, :] / DELTA, (CYCLE, len(a)))
        return sparse.csr_matrix((np.concatenate([val.ravel(), -val.ravel()]),  # duplicates add up
                                  (np.concatenate([rows.ravel(), rows.ravel()]), np.concatenate([ca.ravel(),
                                                                                                cb.ravel()]))),
                                 shape=(CYCLE * N_PROJECTIONS, CYCLE * N_CELLS))

    @cached_property
    def _touching(self) -> dict[int, sparse.csr_matrix]:
        return {}

    def touching(self, r: int) -> sparse.csr_matrix:
        """``readout`` restricted to the (offset, pair) terms that read residue ``r`` as one of the pair's frames;
        subtracting it (with ``r``'s mean 0) drops the pairs whose frame ``r`` is missing.  Built on first use."""
        if r not in self._touching:
            a, b, c = self.pairs.T
            k0 = np.arange(CYCLE)[:, None]
            rows = np.broadcast_to(k0 * N_PROJECTIONS + self.proj[None, :], (CYCLE, len(a))).ravel()
            ra, rb = ((a[None, :] - k0) % CYCLE).ravel(), ((b[None, :] - k0) % CYCLE).ravel()
            ci = np.broadcast_to(c[None, :], (CYCLE, len(a))).ravel()
            val = np.broadcast_to(self.sign[None, :] / DELTA, (CYCLE, len(a))).ravel()
            t = (ra == r) | (rb == r)
            cols = np.concatenate([ra[t] * N_CELLS + ci[t], rb[t] * N_CELLS + ci[t]])
            self._touching[r] = sparse.csr_matrix(
                (np.concatenate([val[t], -val[t]]), (np.concatenate([rows[t], rows[t]]), cols)),
                shape=(CYCLE * N_PROJECTIONS, CYCLE * N_CELLS))
        return self._touching[r]

    @cached_property
    def read_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per (k0, pair): the residues read as the pair's two cycle frames and their flat indices into ``m0``."""
        a, b, c = self.pairs.T
        k0 = np.arange(CYCLE)[:, None]
        ra, rb = (a[None, :] - k0) % CYCLE, (b[None, :] - k0) % CYCLE
        return ra, rb, ra * N_CELLS + c[None, :], rb * N_CELLS + c[None, :]

    @cached_property
    def pair_sum(self) -> sparse.csr_matrix:
        """(N_PROJECTIONS, n_pairs): signed pair differences -> projection values in units of DELTA."""
        n = len(self.pairs)
        return sparse.csr_matrix((self.sign / DELTA, (self.proj, np.arange(n))), shape=(N_PROJECTIONS, n))


@lru_cache(maxsize=8)
def layout(key: bytes) -> RoomLayout:
    """The v3 layout of a scheme key; seeded with VERSION_TAG so that it is unrelated to v2's."""
    seed = int.from_bytes(hmac.new(key, VERSION_TAG, hashlib.sha256).digest(), "big")
    rng = np.random.default_rng(seed)
    pairs = np.array([(p[i], p[i + 1], c) for c in range(N_CELLS)
                      for p in [rng.permutation(CYCLE)] for i in range(0, CYCLE - 1, 2)])
    pairs = pairs[rng.permutation(len(pairs))]
    proj = np.arange(len(pairs)) % N_PROJECTIONS
    sign = rng.choice(np.array([-1.0, 1.0]), len(pairs))
    role = np.full(N_PROJECTIONS, -1, dtype=np.int64)
    role[rng.permutation(N_PROJECTIONS)[: pl.CODED_BITS]] = np.arange(pl.CODED_BITS)
    dither = rng.random(N_PROJECTIONS)
    return RoomLayout(pairs, proj, sign, role, dither)


def _stft(y: np.ndarray) -> np.ndarray:
    n = (len(y) - N_FFT) // HOP + 1
    if n <= 0:
        return np.zeros((0, N_FFT // 2 + 1), np.complex128)
    return np.fft.rfft(np.lib.stride_tricks.sliding_window_view(y, N_FFT)[::HOP][:n] * _WIN, axis=1)


def _istft(spec: np.ndarray, n: int) -> np.ndarray:
    frames = np.fft.irfft(spec, n=N_FFT, axis=1) * _WIN
    out = np.zeros(n + N_FFT + HOP)
    for k in range(2):  # frames k, k+2, ... do not overlap: add them as one strided block
        block = frames[k::2]
        if len(block):
            out[k * HOP: k * HOP + len(block) * N_FFT].reshape(-1, N_FFT)[:] += block
    return out[:n]


def _cells(spec: np.ndarray) -> np.ndarray:
    p = spec.real**2 + spec.imag**2
    return p[:, _SEL].reshape(len(p), N_CELLS, BINS_PER_CELL).sum(2)


def _log_amp(cells: np.ndarray) -> np.ndarray:
    return 0.5 * np.log(cells + 1e-3 * cells.mean(1, keepdims=True) + 1e-30)


def _bins(gain: np.ndarray) -> np.ndarray:
    g = np.zeros((len(gain), len(_FREQ)))
    g[:, _SEL] = np.repeat(gain, BINS_PER_CELL, axis=1)
    return g


def ration(move: np.ndarray, cost: np.ndarray, ratio: float) -> np.ndarray:
    """Fractions ``alpha`` in [0, 1] of each projection's move to its lattice point such that the mark energy,
    about ``sum(alpha^2 cost)``, is ``ratio`` (< 1) of the full moves' ``sum(cost)`` (both layers use it).

    A move of ``alpha |t|`` gains about ``4 alpha |t|`` in the projection's soft value (the triangle wave) and costs
    ``alpha^2 C``, so the best split of a budget is ``alpha = min(1, k |t| / C)``: cheap projections are moved all the
    way, the few that would take most of the energy (quiet cells, loud cells far from the lattice) only partly.
    Scaling every move by the same factor instead leaves every projection short of its lattice point."""
    cost = np.maximum(cost, 1e-300)
    base = move / cost
    want = ratio * float(cost.sum())
    top = float(base.max())
    if not top > 0:
        return np.ones_like(move)
    lo, hi = math.log(1e-12 / top), -math.log(max(float(base[base > 0].min()), 1e-300))
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float(np.sum(np.minimum(1.0, math.exp(mid) * base) ** 2 * cost)) > want:
            hi = mid
        else:
            lo = mid
    return np.minimum(1.0, math.exp(lo) * base)


def _tri(x: np.ndarray) -> np.ndarray:
    """Triangle wave of period 1: +1 at integers, -1 at half-integers (soft bit "on the lattice")."""
    r = x - np.round(x)
    return 1.0 - 4.0 * np.abs(r)


def projections(lay: RoomLayout, la: np.ndarray, k0: int = 0) -> np.ndarray:
    """Projection values (units of DELTA) with analysed frame i read as cycle frame (i + k0) % CYCLE; repeated
    frames are averaged, pairs with a frame missing contribute 0."""
    cyc = (np.arange(len(la)) + k0) % CYCLE
    cnt = np.bincount(cyc, minlength=CYCLE)
    m = np.zeros((CYCLE, N_CELLS))
    np.add.at(m, cyc, la)
    m /= np.maximum(cnt, 1)[:, None]
    a, b, c = lay.pairs.T
    vals = (m[a, c] - m[b, c]) * ((cnt[a] > 0) & (cnt[b] > 0))
    return np.bincount(lay.proj, weights=lay.sign * vals, minlength=N_PROJECTIONS) / DELTA


def mark(lay: RoomLayout, y: np.ndarray, payload: bytes, budget: float) -> np.ndarray | None:
    """The v3 mark of ``y`` (mono, WORK_RATE) at the working rate, its mean power at most ``budget``; None when
    ``y`` is shorter than one cycle (MIN_SAMPLES) or silent in the band."""
    n = len(y)
    spec = _stft(y)
    if n < MIN_SAMPLES or not np.any(_cells(spec) > 0):
        return None
    cyc = np.arange(len(spec)) % CYCLE
    cyc_count = np.maximum(np.bincount(cyc, minlength=CYCLE), 1)[:, None]
    bits = np.zeros(N_PROJECTIONS)
    bits[~lay.pilot] = pl.encode(payload).astype(np.float64)[lay.role[~lay.pilot]]
    offs = lay.dither + bits / 2
    gain = np.zeros((len(spec), N_CELLS))
    a, b, c = lay.pairs.T
    target = q0 = None
    cells0 = _cells(spec)
    for it in range(PASSES):
        marked = spec if it == 0 else _stft(y + _istft(spec * (np.exp(_bins(gain)) - 1), n))
        cells = _cells(marked)
        q = projections(lay, _log_amp(cells))
        if target is None or q0 is None:
            target, q0 = np.round(q - offs) + offs, q
        elif it == RATION_PASS and budget > 0:
            power = float(np.mean(_istft(spec * (np.exp(_bins(gain)) - 1), n) ** 2))
            if power > budget:  # cheap projections still reach their lattice point, costly ones move part way
                cyc_cost = np.zeros((CYCLE, N_CELLS))
                np.add.at(cyc_cost, cyc, (np.exp(gain) - 1.0) ** 2 * cells0)
                cost = np.bincount(lay.proj, weights=cyc_cost[a, c] + cyc_cost[b, c], minlength=N_PROJECTIONS)
                weight = np.where(lay.pilot, PILOT_RATION, 1.0)
                target = q0 + ration(np.abs(target - q0) * weight, cost, budget / power) * (target - q0)
        t = (target - q) * DELTA
        fl = FLOOR * cells.mean(1, keepdims=True)
        share = cells * fl / np.maximum((cells + fl) ** 2, 1e-300)
        sc = np.zeros((CYCLE, N_CELLS))
        np.add.at(sc, cyc, share)
        sc /= cyc_count
        s0, s1 = sc[a, c], sc[b, c]
        den = np.bincount(lay.proj, weights=s0 + s1, minlength=N_PROJECTIONS)
        d = lay.sign * t[lay.proj] / np.maximum(den[lay.proj], 1e-30)
        dl = np.zeros((CYCLE, N_CELLS))
        np.add.at(dl, (a, c), d * s0)
        np.add.at(dl, (b, c), -d * s1)
        gain = np.clip(gain + OVERLAP_GAIN * dl[cyc], -MAX_LOG_GAIN, MAX_LOG_GAIN)
    out = _istft(spec * (np.exp(_bins(gain)) - 1), n)
    power = float(np.mean(out * out))
    if power > budget:
        out *= math.sqrt(max(budget, 0.0) / power)
    return out


def read(lay: RoomLayout, y: np.ndarray, always_decode: bool = False) -> RoomReading | None:
    """Best of N_CANDIDATES (frame shift, cyclic offset) by the pilot statistic, one list-size-8 decode there;
    None when ``y`` (mono, WORK_RATE) is shorter than one cycle or silent.

    The decode is skipped when the pilot z is under Z_GATE (the reading cannot be detected then) unless
    ``always_decode`` (the bench counts the null's CRC passes).  Every candidate is still tested: the shifts'
    frames are the rows of one hop-SHIFT_STEP STFT and the 18 cyclic offsets are rolls of one per-residue mean."""
    if len(y) < MIN_SAMPLES:
        return None
    pilot = lay.pilot
    n_pilots = float(pilot.sum())
    la_all, silent = _log_amp_rows(y)
    means, missing, read_ok = [], [], []
    for j in range(SHIFTS):  # shift j * SHIFT_STEP: its frames are rows j::SHIFTS
        la = la_all[j::SHIFTS]
        read_ok.append(len(la) >= 2 and not silent[j::SHIFTS].all())
        m0, cnt = _residue_means(la)
        means.append(m0.ravel())
        missing.append(np.flatnonzero(cnt == 0))
    if not any(read_ok):
        return None
    proj = (lay.readout @ np.stack(means, axis=1)).T  # (SHIFTS, CYCLE * N_PROJECTIONS)
    for j, gone in enumerate(missing):  # pairs with a frame missing contribute 0 (the missing residue's mean is 0)
        for r in gone if read_ok[j] else ():
            proj[j] -= lay.touching(int(r)) @ means[j]
    soft = _tri(proj.reshape(SHIFTS, CYCLE, N_PROJECTIONS) - lay.dither)
    z_all = np.where(np.array(read_ok)[:, None], soft[:, :, pilot].sum(axis=2) / math.sqrt(n_pilots), -np.inf)
    best = int(np.argmax(z_all))  # the first best in (shift, offset) order
    j, k0 = divmod(best, CYCLE)
    z, s, soft = float(z_all[j, k0]), j * SHIFT_STEP, soft[j, k0]
    offset = s + ((-k0) % CYCLE) * HOP  # analysed frame i is cycle frame (i + k0) % CYCLE
    if z < Z_GATE and not always_decode:
        return RoomReading(False, None, z, 0.0, None, offset)
    per_bit = np.zeros(pl.CODED_BITS)
    per_bit[lay.role[~pilot]] = -soft[~pilot]  # tri > 0: on the bit-0 lattice; the decoder wants positive = 1
    rms = float(np.sqrt(np.mean(per_bit**2)))
    decoded = pl.decode(per_bit / rms, LIST_SIZE) if rms > 0 else None
    ok = decoded is not None and decoded.ok
    log_gate = min(0.0, math.log(N_CANDIDATES) - SUB_GAUSS * max(z, 0.0) ** 2)
    log_p = log_gate + math.log(LIST_SIZE * 2.0**-pl.CRC_BITS) if ok else 0.0
    return RoomReading(bool(ok and z >= Z_GATE), decoded.payload if ok and decoded is not None else None, z, log_p,
                       None if decoded is None else decoded.bits, offset)


def _log_amp_rows(y: np.ndarray, chunk: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """_log_amp of the frames at every SHIFT_STEP (rows ``j::SHIFTS`` are ``_stft(y[j * SHIFT_STEP:])``'s frames,
    so the 16 shifts share one STFT), and which frames have no energy in any cell."""
    n = (len(y) - N_FFT) // SHIFT_STEP + 1
    view = np.lib.stride_tricks.sliding_window_view(y.astype(np.float32), N_FFT)[::SHIFT_STEP][:n]
    la = np.empty((n, N_CELLS))
    silent = np.zeros(n, bool)
    win = _WIN.astype(np.float32)
    for i in range(0, n, chunk):  # single precision (twice as fast; cells to ~1e-6, against a lattice step of 6)
        band = sp_fft.rfft(view[i: i + chunk] * win, axis=1, overwrite_x=True)[:, _SEL[0]: _SEL[-1] + 1]
        cells = (band.real**2 + band.imag**2).reshape(len(band), N_CELLS, BINS_PER_CELL).sum(2).astype(np.float64)
        silent[i: i + chunk] = ~np.any(cells > 0, axis=1)
        la[i: i + chunk] = _log_amp(cells)
    return la, silent


def _residue_means(la: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per residue ``i % CYCLE`` the mean of the frames ``la[i]`` (0 where none) and their count."""
    cyc = np.arange(len(la)) % CYCLE
    cnt = np.bincount(cyc, minlength=CYCLE)
    m0 = np.zeros((CYCLE, N_CELLS))
    np.add.at(m0, cyc, la)
    m0 /= np.maximum(cnt, 1)[:, None]
    return m0, cnt


def projections_all(lay: RoomLayout, la: np.ndarray) -> np.ndarray:
    """``projections(lay, la, k0)`` for every k0 in 0..CYCLE-1 (rows): offset k0 reads the same per-residue means,
    rolled by k0, so the frames are averaged once."""
    m0, cnt = _residue_means(la)
    if cnt.all():  # every pair has both frames: one sparse product
        return (lay.readout @ m0.ravel()).reshape(CYCLE, N_PROJECTIONS)
    ra, rb, fa, fb = lay.read_index
    flat = m0.ravel()
    ok = cnt > 0
    vals = (flat[fa] - flat[fb]) * (ok[ra] & ok[rb])  # pairs with a frame missing contribute 0
    return (lay.pair_sum @ vals.T).T  # (CYCLE, N_PROJECTIONS)
