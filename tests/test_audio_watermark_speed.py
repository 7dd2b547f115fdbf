"""Issue 25, detection speed: the fast readers compute what the straightforward ones did, candidate for candidate,
so the false-positive bound (which counts every candidate) and every decision stay as they were.  Each test
compares a vectorised reader with the per-candidate reference it replaced, on marked and unmarked audio, also on
audio short enough that a room-layer shift misses a cycle frame.  Fast: a few hundred milliseconds each."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthguard.marking.audio.io import speech_like
from synthguard.marking.watermark import audio as wma
from synthguard.marking.watermark import audio_cells, audio_room
from synthguard.marking.watermark.audio import AudioWatermarker
from tests.audio_watermarking import KEY, PAYLOAD


@pytest.fixture(scope="module")
def wm() -> AudioWatermarker:
    return AudioWatermarker(KEY)


@pytest.fixture(scope="module")
def clips(wm) -> list[np.ndarray]:
    """Unmarked and marked speech at the working rate, 10.2 s (some room-layer shifts have 17 of 18 frames)."""
    x = speech_like(10.2, 8000, seed=11)
    return [x, wm.embed(x, 8000, PAYLOAD)]


def test_room_offsets_read_as_one_product_equal_the_per_offset_reading(wm, clips):
    lay = wm.room_layout
    for y in clips:
        for s in (0, 3840):  # a shift with every cycle frame, and one with a frame missing
            la = audio_room._log_amp(audio_room._cells(audio_room._stft(y[s:])))
            fast = audio_room.projections_all(lay, la)
            for k0 in (0, 7, 17):
                assert np.allclose(fast[k0], audio_room.projections(lay, la, k0), atol=1e-9)
        assert min(len(audio_room._stft(y[s:])) for s in range(0, audio_room.HOP, 256)) < audio_room.CYCLE


def test_room_read_finds_the_reference_best_candidate(wm, clips):
    lay = wm.room_layout
    for y in clips:
        best = None
        for s in range(0, audio_room.HOP, audio_room.SHIFT_STEP):  # the reader before issue 25's speed pass
            la = audio_room._log_amp(audio_room._cells(audio_room._stft(y[s:])))
            for k0 in range(audio_room.CYCLE):
                soft = audio_room._tri(audio_room.projections(lay, la, k0) - lay.dither)
                z = float(soft[lay.pilot].sum() / math.sqrt(lay.pilot.sum()))
                if best is None or z > best[0]:
                    best = (z, s + ((-k0) % audio_room.CYCLE) * audio_room.HOP)
        reading = audio_room.read(lay, y)
        assert reading is not None and reading.z == pytest.approx(best[0], abs=1e-4)
        assert reading.offset_samples == best[1]


def test_v2_coarse_statistic_equals_the_gathered_one(wm, clips):
    lay = wm.layout
    cols = np.flatnonzero(lay.pilot)
    for y in clips:
        cells = AudioWatermarker._cells(audio_cells._frames(y[48:], audio_cells.HOP), 300)
        q, w = wm._projections(cells, cols)
        ks = np.arange(audio_cells.CYCLE_SLOTS)
        reference = audio_cells._z(*audio_cells._gather((q, w), lay.dither, ks, cols, dense=False))
        fast = wma._coarse_z(q[None].astype(np.float32), w[None].astype(np.float32), lay.dither[cols].astype(
            np.float32), cols)[0]
        assert np.allclose(fast, reference, atol=1e-4)


def test_v2_refinement_reads_only_what_its_offset_needs(wm, clips):
    lay = wm.layout
    every = np.arange(audio_cells.N_PROJECTIONS)
    for y in clips:
        cells = [AudioWatermarker._cells(audio_cells._frames(y[s:], audio_cells.HOP), 300) for s in (10, 12)]
        fast = wm._read_offsets(cells, [5, 149], lay.dither)
        for c, k, got in zip(cells, [5, 149], fast, strict=True):
            soft, count = audio_cells._gather(wm._projections(c), lay.dither, np.array([k]), every)
            assert got is not None and np.allclose(got[0], soft[0]) and np.allclose(got[1], count[0])


def test_silence_reads_as_nothing(wm):
    silent = np.zeros(11 * 8000)
    assert audio_room.read(wm.room_layout, silent) is None
    r = wm.detect(silent, 8000, scale_search=False)
    assert not r.detected and r.payload is None and r.p_value == 1.0
