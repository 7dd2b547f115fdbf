"""The image watermark detector's fast implementations (issue 24, speed) compute what the plain ones did: the
autocorrelation through OpenCV's transforms, the longest edge runs from the run boundaries, the cached reference
spectra, and the fold's tile sum."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synthguard.marking.watermark import _local, _sync
from synthguard.marking.watermark import image as image_mod
from synthguard.marking.watermark._pattern import TILE, layout_for

KEY = bytes(range(32))


def _acf_reference(rn: np.ndarray, scale: float) -> np.ndarray:
    """The autocorrelation computed with numpy's real FFTs and a boolean notch mask (the straightforward form)."""
    h, w = rn.shape
    ch, cw = min(h, _sync.ACF_MAX_SIDE), min(w, _sync.ACF_MAX_SIDE)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    win = rn[y0 : y0 + ch, x0 : x0 + cw]
    win = win - win.mean()
    lag = int(0.75 * min(ch, cw)) + 8
    ph, pw = _sync._fast_len(ch + lag), _sync._fast_len(cw + lag)
    spec = np.fft.rfft2(win.astype(np.float64), s=(ph, pw))
    power = spec.real**2 + spec.imag**2
    rows, cols, keep = _sync._notch_for(ph, pw, pw // 2 + 1, 8.0 * scale)  # the block grid in detection px
    notch = np.zeros(power.shape, dtype=bool)
    notch[rows, :] = True
    notch[:, cols] = True
    power[notch] = 0.0
    smooth = cv2.GaussianBlur(power, (0, 0), _sync.WHITEN_SIGMA_BINS, borderType=cv2.BORDER_REFLECT) / keep
    power /= smooth + 1e-6 * smooth.mean() + 1e-20
    power[notch] = 1.0
    acf = np.roll(np.fft.irfft2(power, s=(ph, pw)), (lag, lag), axis=(0, 1))[: 2 * lag + 1, : 2 * lag + 1]
    return acf / acf[lag, lag]


@pytest.mark.parametrize("shape", [(200, 301), (160, 250), (257, 190)])  # odd and even padded widths
def test_acf_matches_numpy_irfft2(shape: tuple[int, int]) -> None:
    rn = np.random.default_rng(shape[0]).normal(size=shape).astype(np.float32)
    rn[:, ::16] += 0.5  # some structure on the JPEG-like grid, and a periodic component
    rn += 0.3 * np.sin(np.arange(shape[1]) * 2 * np.pi / 37.0).astype(np.float32)
    got, want = _sync._acf(rn, 0.7), _acf_reference(rn, 0.7)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=2e-5)


def test_longest_runs_per_column() -> None:
    rng = np.random.default_rng(3)
    edge = (rng.random((120, 90)) < 0.3).astype(np.uint8)
    edge[10:70, 40] = 1
    edge[:, 7] = 1  # runs touching both ends
    edge[:, 8] = 0
    want = [max((len(r) for r in "".join(map(str, col)).split("0")), default=0) for col in edge.T]
    assert _local._longest_runs(edge).tolist() == want


def test_blind_references_are_cached_per_layout_and_read_only() -> None:
    layout = layout_for(KEY)
    refs, refs_abs = image_mod._references(layout, None)
    assert image_mod._references(layout, None)[0] is refs  # computed once per layout
    assert not refs.flags.writeable and not refs_abs.flags.writeable
    coded = np.ones(image_mod.pl.CODED_BITS)
    verify = image_mod._references(layout, coded)[0]  # verify mode: the expected payload's chips, not cached
    assert verify is not refs and not np.allclose(verify, refs)


def test_sum_tiles_is_the_tile_sum() -> None:
    a = np.random.default_rng(1).uniform(-3, 3, size=(3 * TILE, 5 * TILE)).astype(np.float32)
    want = a.astype(np.float64).reshape(3, TILE, 5, TILE).sum(axis=(0, 2))
    np.testing.assert_allclose(_sync._sum_tiles(a), want, atol=1e-5)
