"""The keyed spread-spectrum tile of the image watermark.

A tile is ``NCHIP x NCHIP`` chips, each chip ``CHIP`` working-resolution pixels, so the tile is ``TILE`` pixels
square.  A keyed permutation assigns every chip either to the *pilot* (a fixed keyed +-1 sign, used for the
presence test and for synchronisation of the offset) or to one of the :data:`payload.CODED_BITS` coded bits
(keyed sign times the coded bit).  Chips are placed as impulses and shaped by a band-limited pulse (a low-pass
at the chip Nyquist frequency with a radial taper, DC removed), so the pattern is a smooth band-limited noise.

All key material comes from SHAKE-256(domain || key), so the pattern does not depend on numpy's RNG versions.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import numpy as np

from synthguard.marking.watermark import payload as pl

CHIP = 2
NCHIP = 64
TILE = CHIP * NCHIP
N_CHIPS = NCHIP * NCHIP
CHIPS_PER_BIT = 11
PULSE_CUTOFF = 0.5 / CHIP  # cycles per working pixel: the chip Nyquist frequency
PULSE_KNEE = 0.18  # radial frequency (cycles per working pixel) where the pulse's taper starts
PULSE_GAINS = (0.7, 0.35)  # amplitude for PULSE_KNEE <= r < PULSE_CUTOFF, and in the corners (r >= PULSE_CUTOFF)
N_PILOT = N_CHIPS - CHIPS_PER_BIT * pl.CODED_BITS
_DOMAIN = b"synthguard/watermark/image/v1\x00"


def _pulse() -> np.ndarray:
    """Frequency response (TILE x TILE, real, symmetric) of the chip pulse.

    Square band (the chip Nyquist frequency on both axes), DC removed, with a radial taper: full gain below
    ``PULSE_KNEE``, then :data:`PULSE_GAINS` for the upper ring and for the band's corners.  The upper octave is
    the first to go under downscaling + JPEG, so more of the (fixed) energy sits where it survives.
    """
    f = np.fft.fftfreq(TILE)
    inband = np.abs(f) < PULSE_CUTOFF
    resp = (inband[:, None] & inband[None, :]).astype(np.float64)
    r = np.hypot(f[:, None], f[None, :])
    resp *= np.where(r < PULSE_KNEE, 1.0, np.where(r < PULSE_CUTOFF, PULSE_GAINS[0], PULSE_GAINS[1]))
    resp[0, 0] = 0.0
    return resp


PULSE = _pulse()


class KeyedLayout:
    """Chip signs and chip -> role assignment derived from the scheme key."""

    def __init__(self, key: bytes):
        stream = hashlib.shake_256(_DOMAIN + bytes(key)).digest(N_CHIPS // 8 + 8 * N_CHIPS)
        sign_bits = np.unpackbits(np.frombuffer(stream[: N_CHIPS // 8], dtype=np.uint8))
        self.signs = 1.0 - 2.0 * sign_bits.astype(np.float64)  # (N_CHIPS,) +-1
        order = np.argsort(np.frombuffer(stream[N_CHIPS // 8 :], dtype=">u8"), kind="stable")
        role = np.full(N_CHIPS, -1, dtype=np.int64)  # -1 = pilot, else coded-bit index
        n_pay = CHIPS_PER_BIT * pl.CODED_BITS
        role[order[:n_pay]] = np.arange(n_pay) % pl.CODED_BITS
        self.role = role
        self.pilot = role < 0
        self._pilot_comb = self.comb(np.where(self.pilot, self.signs, 0.0))

    @staticmethod
    def comb(chip_values: np.ndarray) -> np.ndarray:
        """Chip values (N_CHIPS,) -> TILE x TILE impulse image (values at chip origins)."""
        out = np.zeros((TILE, TILE))
        out[::CHIP, ::CHIP] = chip_values.reshape(NCHIP, NCHIP)
        return out

    def chip_values(self, coded: np.ndarray | None) -> np.ndarray:
        """Embedded chip values: keyed sign on pilot chips, keyed sign x (+-1 coded bit) on payload chips."""
        if coded is None:
            return np.where(self.pilot, self.signs, 0.0)
        pm = 2.0 * np.asarray(coded, dtype=np.float64) - 1.0
        return self.signs * np.where(self.pilot, 1.0, pm[np.maximum(self.role, 0)])

    def pilot_comb(self) -> np.ndarray:
        return self._pilot_comb

    def tile(self, coded: np.ndarray) -> np.ndarray:
        """The TILE x TILE band-limited pattern, unit RMS."""
        spec = np.fft.fft2(self.comb(self.chip_values(coded))) * PULSE
        q = np.real(np.fft.ifft2(spec))
        return q / np.sqrt(np.mean(q * q))


@lru_cache(maxsize=16)
def layout_for(key: bytes) -> KeyedLayout:
    return KeyedLayout(key)


def frozen_tile(layout: Any, payload: bytes) -> np.ndarray:
    """A layout's tile for ``payload`` as read-only float32 (shared by the caches of the keyed and federated
    schemes: callers must not write into it)."""
    t = layout.tile(pl.encode(payload)).astype(np.float32)
    t.setflags(write=False)
    return t


@lru_cache(maxsize=64)
def tile_for(key: bytes, payload: bytes) -> np.ndarray:
    return frozen_tile(layout_for(key), payload)
