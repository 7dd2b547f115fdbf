"""What the audio watermark tests share (DS-15, LM-11): the test key and payload, a marked clip, and what counts
as the mark being found."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from synthguard.marking.watermark.audio import FALSE_POSITIVE_RATE, AudioWatermarker

KEY = bytes(range(32))
PAYLOAD = bytes.fromhex("0123456789abcdef")


def marked(wm: AudioWatermarker, x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(original, the same marked with PAYLOAD, sample rate): what the clip fixtures hold."""
    return x, wm.embed(x, rate, PAYLOAD), rate


def marked_clip(make: Callable[..., np.ndarray], seconds: float, rate: int, *, seed: int):
    """A module-scoped fixture holding ``marked(wm, make(seconds, rate, seed=seed), rate)``, ``wm`` being the test
    module's watermarker fixture; bind it to the fixture's name (``speech = marked_clip(speech_like, ...)``)."""

    @pytest.fixture(scope="module")
    def clip(wm: AudioWatermarker) -> tuple[np.ndarray, np.ndarray, int]:
        return marked(wm, make(seconds, rate, seed=seed), rate)

    return clip


def found(result) -> bool:
    """Detected with the payload intact, within the promised false-positive rate."""
    return result.detected and result.payload == PAYLOAD and result.p_value <= FALSE_POSITIVE_RATE
