"""Issue 25: the audio watermark in a room and over a loudspeaker-to-microphone path (LM-11, DS-15: a voice clone
played over a speaker picks up a room).  What holds today: rooms with RT60 0.3 and 0.6 s and the speaker-microphone
path (band limit, room, noise at 25 dB, gain) with the microphone nearer than the critical distance (10 dB
direct-to-reverberant), also after MP3 64k.  What does not: the same at 0 dB direct-to-reverberant (strict xfail:
the mark lives in the quiet cells of 32-ms slots, which the reverberant tail of the loud ones fills).  Reverberant
unmarked audio stays negative.  First stage only (scale_search=False, the default setting): each test a few
seconds."""

from __future__ import annotations

import numpy as np
import pytest

from synthguard.codecs.audio import encode_lossy
from synthguard.marking.audio import attacks
from synthguard.marking.audio.io import decode_bytes, music_like, speech_like
from synthguard.marking.watermark.audio import FALSE_POSITIVE_RATE, AudioWatermarker

KEY = bytes(range(32))
PAYLOAD = bytes.fromhex("0123456789abcdef")


@pytest.fixture(scope="module")
def wm() -> AudioWatermarker:
    return AudioWatermarker(KEY)


@pytest.fixture(scope="module")
def speech(wm) -> tuple[np.ndarray, np.ndarray, int]:
    x = speech_like(8.0, 16000, seed=3)
    return x, wm.embed(x, 16000, PAYLOAD), 16000


@pytest.fixture(scope="module")
def music(wm) -> tuple[np.ndarray, np.ndarray, int]:
    x = music_like(8.0, 44100, seed=2)
    return x, wm.embed(x, 44100, PAYLOAD), 44100


def _found(result) -> bool:
    return result.detected and result.payload == PAYLOAD and result.p_value <= FALSE_POSITIVE_RATE


def _mp3(x: np.ndarray, rate: int) -> np.ndarray:
    return decode_bytes(encode_lossy(x, rate, "mp3", 64_000)).samples.mean(axis=1)


@pytest.mark.parametrize("rt60", [0.3, 0.6])
def test_room_reverb_near_the_microphone(wm, speech, music, rt60):
    for _, y, rate in (speech, music):
        assert _found(wm.detect(attacks.room(y, rate, rt60, drr_db=10.0, seed=1), rate, scale_search=False))


def test_speaker_to_microphone_path_then_mp3(wm, speech, music):
    for _, y, rate in (speech, music):
        recorded = attacks.speaker_mic(y, rate, seed=3, drr_db=10.0)
        assert _found(wm.detect(recorded, rate, scale_search=False))
        assert _found(wm.detect(_mp3(recorded, rate), rate, scale_search=False))


@pytest.mark.xfail(strict=True, reason="issue 25 open: at 0 dB direct-to-reverberant the tail fills the quiet "
                                       "cells that carry the mark; needs a new scheme (longer slots alone do not "
                                       "suffice: docs/audio-watermark.md)")
@pytest.mark.parametrize("edit", ["room_rt0.6", "speaker_mic"])
def test_at_the_critical_distance(wm, speech, edit):
    _, y, rate = speech
    a = attacks.room(y, rate, 0.6, seed=2) if edit == "room_rt0.6" else attacks.speaker_mic(y, rate, seed=3)
    assert _found(wm.detect(a, rate, scale_search=False))


def test_reverberant_unmarked_audio_stays_negative(wm, speech, music):
    for x, _, rate in (speech, music):
        for a in (attacks.room(x, rate, 0.6, seed=4), attacks.speaker_mic(x, rate, seed=5, drr_db=10.0)):
            res = wm.detect(a, rate, scale_search=False)
            assert not res.detected and res.p_value > FALSE_POSITIVE_RATE
    _, y, rate = speech  # a mark under another key is not this key's mark
    other = AudioWatermarker(bytes(range(1, 33)))
    assert not other.detect(attacks.room(y, rate, 0.3, drr_db=10.0, seed=1), rate, scale_search=False).detected
