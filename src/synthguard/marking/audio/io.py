"""Synthetic audio for tests, benchmarks and plugin authors (``testing.synthetic_media``): deterministic
speech-like and music-like signals, encoded in each format we read.  Decoding and encoding are ``codecs/audio``.
"""

from __future__ import annotations

import math

import numpy as np

from synthguard.codecs.audio import (
    DEFAULT_BITRATE,
    FORMATS,
    SF_FORMATS,
    Audio,
    decode_audio,
    encode_lossy,
    encode_soundfile,
)
from synthguard.media import Media

SYNTHETIC_FORMATS = ("WAV", "MP3", "FLAC", "OGG", "M4A")


def decode_bytes(data: bytes, name: str = "<bytes>") -> Audio:
    """Decode audio bytes of any supported format (used by tests and the benchmark's attacks)."""
    return decode_audio(Media.from_bytes(data, name=name))


# --- synthetic samples ------------------------------------------------------------------------------------------
def speech_like(seconds: float = 6.0, rate: int = 22050, seed: int = 7) -> np.ndarray:
    """Deterministic speech-like mono signal: a glottal pulse train with a gliding pitch through moving formant
    resonances, in syllables of 120-300 ms with short pauses; peak about -6 dBFS."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t) + 15 * np.sin(2 * np.pi * 2.3 * t)
    phase = np.cumsum(f0 / rate)
    source = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
    source = lfilter([1.0], [1.0, -0.95], source) + 0.05 * rng.standard_normal(n)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.12, 0.3) * rate)
        seg = source[pos:pos + length]
        for f, bw in ((rng.uniform(300, 850), 90), (rng.uniform(900, 2300), 120), (rng.uniform(2400, 3300), 180)):
            r = math.exp(-math.pi * bw / rate)
            a = [1.0, -2 * r * math.cos(2 * math.pi * f / rate), r * r]
            out[pos:pos + len(seg)] += lfilter([1 - r], a, seg)
        env = np.hanning(len(seg)) ** 0.5
        out[pos:pos + len(seg)] *= env
        pos += length + int(rng.uniform(0.02, 0.12) * rate)
    return (0.5 * out / max(float(np.max(np.abs(out))), 1e-9)).astype(np.float32)


def music_like(seconds: float = 6.0, rate: int = 44100, seed: int = 3) -> np.ndarray:
    """Deterministic music-like stereo signal: plucked notes of a pentatonic melody over a bass line and a soft
    noise percussion; peak about -6 dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros((n, 2))
    scale = [220.0, 246.9, 277.2, 329.6, 370.0, 440.0, 493.9, 554.4]
    beat = 0.25
    for i in range(int(seconds / beat)):
        start = int(i * beat * rate)
        seg = t[: n - start][: int(0.6 * rate)]
        f = scale[int(rng.integers(len(scale)))]
        note = sum(np.sin(2 * np.pi * f * k * seg) / k for k in (1, 2, 3, 4)) * np.exp(-seg * 6)
        pan = rng.uniform(0.3, 0.7)
        out[start:start + len(seg), 0] += (1 - pan) * note
        out[start:start + len(seg), 1] += pan * note
        if i % 2 == 0:
            bass = np.sin(2 * np.pi * f / 4 * seg) * np.exp(-seg * 3)
            out[start:start + len(seg)] += 0.6 * bass[:, None]
        hit = rng.standard_normal(min(len(seg), int(0.03 * rate))) * np.exp(-np.arange(min(len(seg),
                                                                                         int(0.03 * rate))) / 200)
        out[start:start + len(hit)] += 0.2 * hit[:, None]
    return (0.5 * out / max(float(np.max(np.abs(out))), 1e-9)).astype(np.float32)


def synthetic_audio(fmt: str = "WAV", seconds: float = 6.0) -> Media:
    """A deterministic speech-like clip (6 s, 22.05 kHz mono: long enough for the watermark) in ``fmt``."""
    f = fmt.lower()
    if f not in FORMATS:
        raise ValueError(f"no synthetic audio for format {fmt!r}; use one of {', '.join(SYNTHETIC_FORMATS)}")
    samples = speech_like(seconds)[:, None]
    rate = 22050
    if f in SF_FORMATS:
        data = encode_soundfile(samples, rate, f, "PCM_16")
    else:
        data = encode_lossy(samples, rate, f, DEFAULT_BITRATE[f])
    return Media.from_bytes(data, name=f"synthetic.{f}")
