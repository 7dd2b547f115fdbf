"""Payload framing + ECC of the invisible watermark (DS-15): round trip, correction capability, honest failure."""

from __future__ import annotations

import numpy as np
import pytest

from synthguard.errors import WatermarkError
from synthguard.marking.watermark import payload as pl


def test_crc24_reference_vector():
    # CRC-24/OpenPGP check value (RFC 4880 parameters)
    assert pl.crc24(b"123456789") == 0x21CF02


def test_code_parameters():
    assert pl.FRAME_BITS == 88
    assert pl.CODED_BITS == 3 * (88 + 8)
    assert pl.CORRECTABLE_HARD_ERRORS == 8


def test_round_trip_hard_and_soft():
    rng = np.random.default_rng(1)
    for _ in range(50):
        payload = rng.bytes(8)
        coded = pl.encode(payload)
        assert coded.shape == (pl.CODED_BITS,) and set(np.unique(coded)) <= {0, 1}
        assert pl.decode_hard(coded).payload == payload
        soft = (2.0 * coded - 1.0) * rng.uniform(0.1, 5.0, coded.size)
        got = pl.decode(soft)
        assert got.ok and got.payload == payload and np.array_equal(got.bits, pl.payload_bits(payload))


def test_corrects_any_pattern_up_to_capability():
    rng = np.random.default_rng(2)
    for trial in range(200):
        payload = rng.bytes(8)
        coded = pl.encode(payload)
        n_err = pl.CORRECTABLE_HARD_ERRORS if trial % 2 else int(rng.integers(1, pl.CORRECTABLE_HARD_ERRORS + 1))
        idx = rng.choice(coded.size, n_err, replace=False)
        if trial % 3 == 0:  # a burst: the worst case for a convolutional code
            start = int(rng.integers(0, coded.size - n_err))
            idx = np.arange(start, start + n_err)
        bad = coded.copy()
        bad[idx] ^= 1
        assert pl.decode_hard(bad).payload == payload


def test_soft_decoding_beats_hard_decisions():
    rng = np.random.default_rng(3)
    soft_ok = hard_ok = 0
    for _ in range(100):
        payload = rng.bytes(8)
        y = (2.0 * pl.encode(payload) - 1.0) * 1.2 + rng.normal(size=pl.CODED_BITS)
        soft_ok += pl.decode(y, list_size=1).payload == payload
        hard_ok += pl.decode(2.0 * (y > 0) - 1.0, list_size=1).payload == payload
    assert soft_ok >= 95
    assert soft_ok > hard_ok


def test_crc_aided_list_decoding_beats_plain_viterbi():
    rng = np.random.default_rng(5)
    plain = listed = wrong = 0
    for _ in range(100):
        payload = rng.bytes(8)
        y = (2.0 * pl.encode(payload) - 1.0) * 0.75 + rng.normal(size=pl.CODED_BITS)
        assert np.array_equal(pl.list_viterbi(y, pl.FRAME_BITS)[0], pl.viterbi(y, pl.FRAME_BITS))
        plain += pl.decode(y, list_size=1).payload == payload
        got = pl.decode(y).payload
        listed += got == payload
        wrong += got is not None and got != payload
    assert listed >= plain + 10 and wrong == 0
    assert pl.CRC_FALSE_ACCEPT == pl.LIST_SIZE * 2.0**-24 and 2 * pl.CRC_FALSE_ACCEPT <= 1e-6
    with pytest.raises(WatermarkError):
        pl.decode(np.zeros(pl.CODED_BITS), list_size=pl.LIST_SIZE + 1)


def test_uncorrectable_input_is_reported_not_guessed():
    rng = np.random.default_rng(4)
    for _ in range(300):  # pure noise: the CRC must reject (P(false accept) = 2**-24 per frame)
        assert pl.decode(rng.normal(size=pl.CODED_BITS)).payload is None
    assert pl.decode(np.zeros(pl.CODED_BITS)).payload is None
    wrong = 0
    for _ in range(100):  # far beyond capability: either right or None, never a different payload
        payload = rng.bytes(8)
        bad = pl.encode(payload)
        bad[rng.choice(bad.size, 60, replace=False)] ^= 1
        got = pl.decode_hard(bad).payload
        wrong += got is not None and got != payload
    assert wrong == 0


@pytest.mark.parametrize("bad", [b"", b"1234567", b"123456789", "12345678", 12345678])
def test_bad_payload_rejected(bad):
    with pytest.raises(WatermarkError):
        pl.encode(bad)


def test_wrong_soft_length_rejected():
    with pytest.raises(WatermarkError):
        pl.decode(np.zeros(10))
