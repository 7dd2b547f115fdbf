"""Second detection stage of the audio watermark: search over time-scale and pitch-scale (issue 25, LM-11, DS-15).

Why.  The mark lives in band energies of 32-ms slots; a 5% speed-up moves every band by up to one band width
and drifts the slot grid by 7 slots per cycle, so the first stage (offsets only) sees noise.  Sped-up,
time-stretched and pitch-shifted reposts are the usual way to dodge audio matching, so the detector undoes them
at the feature level instead of resampling the audio per hypothesis:

- one STFT (hop ``HOP`` = 4 ms, a *row*) of a 6-s window and the cumulative power over frequency; a pitch
  hypothesis ``p`` reads the bands at edges ``BAND_EDGES * p`` (linear interpolation of the cumulative power),
- a time hypothesis ``t`` (the audio plays ``t`` times faster) places a slot's two frames ``4 / t`` rows apart
  and the two slots of a pair ``8 / t`` apart; every row is a potential slot start, so the pilot terms
  ``w tri(Q - d)`` are computed once per (``p``, rounded spacings) and summed per cycle group (``_terms``),
- a candidate is (``p``, ``t``, cycle start ``u0``): its pilot statistic reads every cycle group once (see
  ``search`` for the segment-shared placement), so each pilot projection enters once and Hoeffding's bound holds
  exactly as in the first stage (range ``2 w_j``, ``V = sum_j w_j^2``).

The grid is ``PITCHES`` x ``TIMES`` log-spaced factors in [``SCALE_MIN``, ``SCALE_MAX``] (independently) and
``u0`` every row of one cycle; ``n_candidates`` counts them all.  The ``DECODES`` best candidates (by pilot
statistic only) are refined on all the audio and decoded twice (as read, and re-aligned per segment for WSOLA's
jitter, the shifts chosen by pilot terms only) with list size 1.  Under the null the payload projections' dithers
are independent of every choice made, so the CRC passes with probability at most ``2 * DECODES * 2**-24``
(``CRC_FALSE_ACCEPT``), and jointly with the pilot statistic reaching ``z`` at most that times
``min(1, n_candidates exp(-z^2 / 2))``.  audio.py gives this stage the share SHARE_SCALE of the false-positive
budget.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from synthguard.marking.watermark import audio_cells as a
from synthguard.marking.watermark import payload as pl

SCALE_MIN, SCALE_MAX = 0.85, 1.15
PITCHES = 41  # log-spaced pitch factors: steps of 0.7%, at most 0.35% off (band edges move <= 12 Hz at 3.5 kHz)
TIMES = 121  # log-spaced time factors: steps of 0.25%; over a 6-s window the slot grid drifts <= 7.5 ms
SEARCH_SECONDS = 6.0  # analysed window (at the working rate, after the attack): a bit more than one cycle
SEGMENT = 15  # cycle groups per segment (0.96 s): within-segment offsets use the coarse time class
CLASSES = 31  # coarse time classes (1% steps)
DECODES = 2  # candidates decoded, each as read and re-aligned per segment (read_tracked), with list size 1:
CRC_FALSE_ACCEPT = 2 * DECODES * 2.0**-pl.CRC_BITS  # CRC false accept <= 4 * 2**-24 under the null
HOP = 32  # analysis hop of the search (4 ms at 8 kHz)
SLOT_ROWS = 8  # rows per 32-ms slot at scale 1
CYCLE_ROWS = 150 * SLOT_ROWS


@dataclass(frozen=True)
class ScaleCandidate:
    z: float
    pitch: float
    time: float
    start: int  # row (HOP samples) where cycle slot 0 starts in the analysed window


def grid(n: int) -> np.ndarray:
    return np.exp(np.linspace(math.log(SCALE_MIN), math.log(SCALE_MAX), n))


def n_candidates() -> int:
    """Every (pitch, time, cycle start) tested: the Bonferroni factor of the stage's pilot statistic."""
    return int(PITCHES * sum(math.ceil(CYCLE_ROWS / t) for t in grid(TIMES)))


def band_energies(cum: np.ndarray, edges: np.ndarray, pitch: float) -> np.ndarray:
    """Band energies (frames, bands) between fractional bin edges ``edges * pitch`` of the cumulative power."""
    e = np.clip(edges * pitch, 0.0, cum.shape[1] - 1.000001)
    i = np.floor(e).astype(np.int64)
    f = e - i
    cx = cum[:, i] * (1.0 - f) + cum[:, i + 1] * f
    return np.maximum(cx[:, 1:] - cx[:, :-1], 0.0)


class _Pilots:
    """The pilot projections: their columns of the layout matrix, dithers and a one-hot map to cycle groups."""

    def __init__(self, lay) -> None:  # noqa: ANN001 - audio._Layout
        pil = np.flatnonzero(lay.pilot)
        pil = pil[np.argsort(lay.group[pil], kind="stable")]
        self.matrix = lay.matrix[:, pil].astype(np.float32)
        self.abs_matrix = np.abs(self.matrix)
        self.dither = lay.dither[pil].astype(np.float32)
        groups = lay.group[pil]
        self.n_groups = int(lay.group.max()) + 1
        self.onehot = np.zeros((len(pil), self.n_groups), np.float32)  # pilot -> its cycle group
        self.onehot[np.arange(len(pil)), groups] = 1.0


def _terms(be: np.ndarray, near: int, far: int, pilots: _Pilots) -> tuple[np.ndarray, np.ndarray]:
    """Per row ``u`` (a potential slot start) and cycle group: the summed pilot terms ``w tri(Q - d)`` and the
    summed squared weights of the pairs read at ``u`` (a slot's frames ``near`` rows apart, slots ``far``)."""
    cells = be[: len(be) - near] + be[near:]
    if len(cells) <= far:
        return np.zeros((0, pilots.n_groups), np.float32), np.zeros((0, pilots.n_groups), np.float32)
    floor = _running_floor(cells, int(round(a.FLOOR_HALF_SLOTS * far)))
    if floor is None:
        return np.zeros((0, pilots.n_groups), np.float32), np.zeros((0, pilots.n_groups), np.float32)
    noise = a._noise(cells)
    ex = a._excess(cells, noise)
    la = (0.5 * np.log(ex + floor)).astype(np.float32)
    share = (ex / (ex + floor)).astype(np.float32)
    q = ((la[:-far] - la[far:]) @ pilots.matrix) * np.float32(1.0 / a.DELTA)
    w = ((share[:-far] + share[far:]) @ pilots.abs_matrix) * np.float32(1.0 / (2 * a.PAIRS_PER_PROJECTION))
    r = q - pilots.dither
    r -= np.round(r)
    terms = w * (1.0 - 4.0 * np.abs(r))  # audio_cells._tri
    return terms @ pilots.onehot, (w * w) @ pilots.onehot


def _running_floor(cells: np.ndarray, half: int) -> np.ndarray | None:
    """audio._floor at row resolution: FLOOR_DB under the mean cell energy of the rows within +-``half``."""
    p = cells.sum(axis=1)
    top = float(p.max()) if p.size else 0.0
    if not top > 0:
        return None
    c = np.concatenate([[0.0], np.cumsum(p)])
    i = np.arange(len(p))
    lo, hi = np.maximum(i - half, 0), np.minimum(i + half + 1, len(p))
    mean = (c[hi] - c[lo]) / ((hi - lo) * a.N_BANDS)
    return (10 ** (a.FLOOR_DB / 10) * np.maximum(mean, 1e-12 * top))[:, None]


def search(lay, y: np.ndarray, keep: int = DECODES, pitches: np.ndarray | None = None,  # noqa: ANN001
           times: np.ndarray | None = None) -> list[ScaleCandidate]:
    """The ``keep`` best (pitch, time, start) candidates by pilot statistic over the whole grid, at most one per
    (pitch, time) pair, best first.  ``y``: mono audio at the working rate, at most ``SEARCH_SECONDS`` long.

    Cost: a candidate reads group ``g`` of segment ``k = g // SEGMENT`` at ``u0 + round(k * SEGMENT * 2 S / t) +
    round((g - k * SEGMENT) * 2 S / t_c)`` (``S`` rows per slot), ``t_c`` the nearest of ``CLASSES`` coarse time
    factors (within a 0.96-s segment the two differ by under one row).  Within-segment sums are shared by every
    ``t`` of a class, so a candidate costs ``N_GROUPS / SEGMENT`` reads instead of ``N_GROUPS``.  Each pilot
    projection is still read once per candidate, so the bound is exact for this candidate set."""
    with a._one_thread():
        return _search(lay, y, keep, pitches, times)


def _search(lay, y: np.ndarray, keep: int, pitches: np.ndarray | None,  # noqa: ANN001
            times: np.ndarray | None) -> list[ScaleCandidate]:
    spec = a._frames(y, HOP)
    if len(spec) == 0:
        return []
    power = spec.real**2 + spec.imag**2
    cum = np.concatenate([np.zeros((len(power), 1)), np.cumsum(power, axis=1)], axis=1)
    pilots = _Pilots(lay)
    times = grid(TIMES) if times is None else np.asarray(times, dtype=np.float64)
    classes = grid(CLASSES)
    cls = np.abs(np.log(times)[:, None] - np.log(classes)[None, :]).argmin(axis=1)
    n_seg = -(-a.N_GROUPS // SEGMENT)
    g_local = np.arange(a.N_GROUPS) % SEGMENT
    seg_of = np.arange(a.N_GROUPS) // SEGMENT
    plans = [_Plan(classes[c], times[cls == c], g_local, seg_of, n_seg) for c in np.unique(cls)]
    need = max(plan.rows + int(plan.shear.max()) for plan in plans)
    reads: dict[tuple[int, int], list] = {}  # (class, len(g)) -> Plan.cuts: the same for every pitch
    best: list[ScaleCandidate] = []
    for p in (grid(PITCHES) if pitches is None else pitches):
        be = band_energies(cum, a.BAND_EDGES, float(p))
        cache: dict[tuple[int, int], tuple[np.ndarray, int]] = {}
        for ci, plan in enumerate(plans):
            key = plan.key
            if key not in cache:
                gt, gw = _terms(be, key[0], key[1], pilots)
                cache[key] = _by_local_group(gt, gw, need, n_seg), len(gt)
            g, n_rows = cache[key]
            if (ci, n_rows) not in reads:
                reads[ci, n_rows] = plan.cuts(n_rows)
            sv = plan.cycle_sums(_segment_sums(g, plan.shear, plan.rows), reads[ci, n_rows])
            s, v = sv.real, sv.imag
            z = np.where(v > 0, s / np.sqrt(np.maximum(v, 1e-12)), 0.0)
            z[plan.late] = 0.0  # one cycle of starts per t
            for i, k in enumerate(np.argmax(z, axis=1)):
                best.append(ScaleCandidate(float(z[i, k]), float(p), float(plan.ts[i]), int(k)))
        best = sorted(best, key=lambda c: -c.z)[:keep]
    return best


class _Plan:
    """What one coarse time class reads, whatever the pitch: its (near, far) frame spacings, the groups' shears
    within a segment, its time factors, the start rows tried and where each (t, start, segment) reads."""

    def __init__(self, tc: float, ts: np.ndarray, g_local: np.ndarray, seg_of: np.ndarray, n_seg: int) -> None:
        self.key = (int(round(SLOT_ROWS / 2 / tc)), int(round(SLOT_ROWS / tc)))
        self.shear = np.round(a.GROUP_SLOTS * SLOT_ROWS * g_local / tc).astype(np.int64)
        self.ts = ts
        self.n_seg = n_seg
        self.n_start = int(math.ceil(CYCLE_ROWS / ts.min()))
        self.rows = self.n_start + int(math.ceil(CYCLE_ROWS / ts.min())) + 1
        self.extent = np.array([self.shear[seg_of == k].max() for k in range(n_seg)])
        self.late = np.arange(self.n_start)[None, :] >= np.ceil(CYCLE_ROWS / ts)[:, None]

    def cuts(self, n_rows: int) -> list[list[tuple[int, int, int]]]:
        """Per time factor and segment, where the starts ``u`` read, for terms of ``n_rows`` rows: ``(off, cut,
        back)``, segment sums row ``u + off`` for ``u < cut`` and ``u + off - back`` from ``cut`` on.  A segment
        that runs past the window is read one cycle (``back`` rows) earlier (the window holds more than a cycle),
        so a cycle start late in the window still reads every group once, and whole."""
        starts = np.round(a.GROUP_SLOTS * SLOT_ROWS * SEGMENT * np.arange(self.n_seg)[None, :] / self.ts[:, None])
        backs = np.round(CYCLE_ROWS / self.ts).astype(np.int64)
        out = []
        for t, back in enumerate(backs):
            offs = starts[t].astype(np.int64)
            cut = np.clip(np.maximum(n_rows - self.extent - offs, back - offs), 0, self.n_start)
            out.append([(int(o), int(c), int(back)) for o, c in zip(offs, cut, strict=True)])
        return out

    def cycle_sums(self, seg_sums: np.ndarray, cuts: list[list[tuple[int, int, int]]]) -> np.ndarray:
        """(T, starts): for every time factor and start row, the sum over segments of the segment sums it reads
        (``seg_sums`` (n_seg, rows) from _segment_sums; contiguous slices, two per segment)."""
        out = np.zeros((len(cuts), self.n_start), seg_sums.dtype)
        n = self.n_start
        for t, per_seg in enumerate(cuts):
            o = out[t]
            for k, (off, cut, back) in enumerate(per_seg):
                o[:cut] += seg_sums[k, off: off + cut]
                o[cut:] += seg_sums[k, cut + off - back: n + off - back]
        return out


def _by_local_group(gt: np.ndarray, gw: np.ndarray, need: int, n_seg: int) -> np.ndarray:
    """Terms and squared weights (rows, groups) as one complex64 array (SEGMENT, n_seg, need rows), zero beyond
    the audio: every slice _segment_sums adds is then contiguous, and the two sums (real and imaginary parts, each
    added in the same order as two real arrays would be) take one pass."""
    g = (gt + 1j * gw).astype(np.complex64)
    n_groups = g.shape[1]
    g = np.pad(g, ((0, max(need - len(g), 0)), (0, (-n_groups) % SEGMENT)))
    return np.ascontiguousarray(g.reshape(len(g), -1, SEGMENT)[:, :n_seg].transpose(2, 1, 0))


def _segment_sums(g: np.ndarray, shear: np.ndarray, rows: int) -> np.ndarray:
    """(n_seg, rows): for every start row ``u``, the sum over a segment's groups of ``g[u + shear[group], group]``
    (``g`` from _by_local_group).  Every segment has the same local shears, so one slice per local group."""
    out = g[0, :, int(shear[0]): int(shear[0]) + rows].copy()
    for j in range(1, SEGMENT):
        sh = int(shear[j])
        out += g[j, :, sh: sh + rows]
    return out


def read_at(wm, y: np.ndarray, cand: ScaleCandidate, start: float):  # noqa: ANN001, ANN201
    """Projection values and weights (audio._projections) of ``y`` read with the candidate's scales, and the cycle
    slot of the first slot read: cycle slot 0 is at sample ``start``; every whole slot in ``y`` is read, also
    before ``start``.  None if too short."""
    slot = a.SLOT / cand.time
    first = math.ceil(-start / slot)  # slot index (relative to cycle slot 0) of the first slot starting at >= 0
    n_slots = int((len(y) - a.N_FFT - start - slot / 2) // slot) - first
    if n_slots < a.CYCLE_SLOTS:
        return None
    pos = start + (first + np.arange(n_slots))[:, None] * slot + np.array([0.0, slot / 2])[None, :]
    frames = np.lib.stride_tricks.sliding_window_view(y, a.N_FFT)[np.round(pos).astype(np.int64).ravel()]
    spec = np.fft.rfft(frames * a._WINDOW, axis=1)
    power = spec.real**2 + spec.imag**2
    cum = np.concatenate([np.zeros((len(power), 1)), np.cumsum(power, axis=1)], axis=1)
    e = band_energies(cum, a.BAND_EDGES, cand.pitch)
    qw = wm._projections(e[0::2] + e[1::2])
    return None if qw is None else (qw, first % a.CYCLE_SLOTS)


REFINE_TIME = (-0.0012, -0.0006, 0.0, 0.0006, 0.0012)  # relative steps around a candidate, one axis at a time
REFINE_PITCH = (-0.0035, 0.0, 0.0035)
REFINE_SHIFT = (-16, -8, 0, 8, 16)  # samples


def _refine(wm, y: np.ndarray, cand: ScaleCandidate, start: float):  # noqa: ANN001, ANN202
    """Polish a grid candidate on all of ``y`` (time, then start, then pitch; pilot statistic only, so the
    payload projections stay independent of the choice): ``(candidate, start, read_at's result)`` or None."""
    lay = wm.layout
    pil = np.flatnonzero(lay.pilot)

    def score(c: ScaleCandidate, s0: float):  # noqa: ANN202
        read = read_at(wm, y, c, s0)
        if read is None:
            return -math.inf, read
        (q, w), k = read
        soft, count = a._gather((q[:, pil], w[:, pil]), lay.dither, np.array([k]), pil, dense=False)
        return float(a._z(soft, count)[0]), read

    best = (*score(cand, start), cand, start)
    if best[1] is None:
        return None
    for axis, steps in (("time", REFINE_TIME), ("shift", REFINE_SHIFT), ("pitch", REFINE_PITCH)):
        _z0, _q0, c0, s0 = best
        for step in steps:
            if step == 0:
                continue
            if axis == "shift":
                c, s_ = c0, s0 + step
            else:
                c = dataclasses.replace(c0, **{axis: getattr(c0, axis) * math.exp(step)})
                s_ = s0
            z, qw = score(c, s_)
            if z > best[0]:
                best = (z, qw, c, s_)
    return best[2], best[3], best[1]


TRACK_SHIFTS = (-24, -16, -8, 0, 8, 16, 24)  # samples: local re-alignment per segment (WSOLA splices jitter)
TRACK_SLOTS = 30  # slots per tracked segment (0.96 s)


def read_tracked(wm, y: np.ndarray, cand: ScaleCandidate, start: float):  # noqa: ANN001, ANN201
    """read_at with the slot grid re-aligned per TRACK_SLOTS segment: time stretching (WSOLA) splices the audio
    with a jitter of tens of ms around the linear time map.  The shift of each segment is chosen by its pilot
    terms only, so the payload projections stay independent of the choice (the CRC bound holds)."""
    base = read_at(wm, y, cand, start)
    if base is None:
        return None
    k = base[1]
    reads = [r[0] for r in (read_at(wm, y, cand, start + d) for d in TRACK_SHIFTS) if r is not None and r[1] == k]
    rows = min(len(r[0]) for r in reads)
    q = np.stack([r[0][:rows] for r in reads])
    w = np.stack([r[1][:rows] for r in reads])
    lay = wm.layout
    i = np.arange(rows)
    c = (i + k) % a.CYCLE_SLOTS  # cycle slot of each row
    used = (c % a.GROUP_SLOTS) == 0  # rows where a group instance starts
    proj = np.arange(a.N_PROJECTIONS).reshape(a.N_GROUPS, a.PROJ_PER_GROUP)[c // a.GROUP_SLOTS]
    pilot = lay.pilot[proj]  # (rows, 6)
    qs = np.take_along_axis(q, np.broadcast_to(proj, (len(reads), *proj.shape)), axis=2)
    ws = np.take_along_axis(w, np.broadcast_to(proj, (len(reads), *proj.shape)), axis=2)
    terms = (ws * a._tri(qs - lay.dither[proj]) * pilot).sum(axis=2) * used  # (variants, rows)
    seg = i // TRACK_SLOTS
    per_seg = np.zeros((len(reads), int(seg.max()) + 1))
    np.add.at(per_seg, (slice(None), seg), terms)  # type: ignore[arg-type]  # numpy stubs reject a slice in the index
    pick = np.argmax(per_seg, axis=0)[seg]  # variant of each row
    return (q[pick, i], w[pick, i]), k


def detect(wm, y: np.ndarray, expected: bytes | None):  # noqa: ANN001, ANN201 - AudioWatermarker, result
    """The second stage on ``y`` (mono, working rate, at most MAX_DETECT_SECONDS): search the busiest
    ``SEARCH_SECONDS``, decode the ``DECODES`` best candidates with list size 1 over all of ``y``; an
    AudioWatermarkResult if one decodes (the payload's CRC checks), else None."""
    n = int(SEARCH_SECONDS * a.WORK_RATE)
    w0 = 0
    if len(y) > n:
        e = np.concatenate([[0.0], np.cumsum(y * y)])
        w0 = int(np.argmax(e[n::a.WORK_RATE // 4] - e[:len(y) - n + 1:a.WORK_RATE // 4])) * (a.WORK_RATE // 4)
    cands = search(wm.layout, y[w0: w0 + n])
    lay = wm.layout
    bits = np.zeros(a.N_PROJECTIONS)
    if expected is not None:
        coded = pl.encode(expected).astype(np.float64)
        bits[~lay.pilot] = coded[lay.role[~lay.pilot]]
    offs = lay.dither + bits / 2
    every = np.arange(a.N_PROJECTIONS)
    n_cand = n_candidates()
    for cand in cands:
        fit = _refine(wm, y, cand, float(w0 + cand.start * HOP))
        if fit is None:
            continue
        at, start, read = fit
        for qw, k in (read, read_tracked(wm, y, at, start) or read):
            soft, count = a._gather(qw, offs, np.array([k]), every)
            decoded = wm._decode(soft[0], count[0], None if expected is None else bits, list_size=1)
            if decoded.ok and (expected is None or decoded.payload == expected):
                break
        else:
            continue
        log_gate = min(0.0, math.log(n_cand) - 0.5 * cand.z * cand.z)
        log_p = min(0.0, log_gate + math.log(CRC_FALSE_ACCEPT) - math.log(a.SHARE_SCALE))
        p_value = math.exp(log_p)
        acc = None if expected is None else float(np.mean(decoded.bits == pl.payload_bits(expected)))
        return a.AudioWatermarkResult(bool(p_value <= a.FALSE_POSITIVE_RATE), decoded.payload, cand.z, p_value,
                                      acc, start / a.WORK_RATE, at.time, at.pitch)
    return None
