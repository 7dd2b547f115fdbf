"""Edits that reposts and re-recordings apply to audio, for the watermark's tests and benchmark (issue 25).

Why here: tests and ``bench/watermark_audio.py`` must perform the same attacks, and the attacks need FFmpeg's
``atempo`` (WSOLA), which PyAV bundles, so no ffmpeg binary is required.

- :func:`speed`: playback ``factor`` times faster by resampling (tempo and pitch move together: a sped-up repost).
- :func:`tempo`: ``factor`` times faster, pitch kept (FFmpeg ``atempo``).
- :func:`pitch`: pitch times ``factor``, duration kept (``asetrate`` + ``atempo``, i.e. :func:`speed` then
  :func:`tempo` by ``1/factor``).
- :func:`room`: convolution with a synthesised room impulse response of a given RT60 (direct path plus an
  exponentially decaying diffuse tail; the direct-to-reverberant ratio is a parameter, 0 dB by default).
- :func:`echo`: one delayed copy (the independent check's "60 ms, decay 0.4").
- :func:`speaker_mic`: a loudspeaker-to-microphone path: band limit (small speaker, phone microphone), a room
  (0 dB direct-to-reverberant by default),
  background noise and a gain change.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from synthguard.errors import WatermarkError


def _mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=1) if x.ndim == 2 else x


def _check_factor(factor: float) -> Fraction:
    if not 0.5 <= float(factor) <= 2.0:
        raise WatermarkError("attack factor must be in [0.5, 2], got {factor}", values={"factor": repr(factor)})
    return Fraction(float(factor)).limit_denominator(200)


def speed(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Play ``factor`` times faster at the same sample rate (resampling: duration / factor, pitch x factor)."""
    f = _check_factor(factor)
    return resample_poly(_mono(x), f.denominator, f.numerator).astype(np.float32)


def tempo(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """``factor`` times faster with the pitch kept: FFmpeg's ``atempo`` filter (WSOLA) through PyAV."""
    _check_factor(factor)
    import av
    import av.filter

    y = np.ascontiguousarray(_mono(x).astype(np.float32))
    graph = av.filter.Graph()
    src = graph.add_abuffer(format="flt", sample_rate=rate, layout="mono")
    atempo = graph.add("atempo", f"{float(factor):.6f}")
    sink = graph.add("abuffersink")
    src.link_to(atempo)
    atempo.link_to(sink)
    graph.configure()
    out: list[np.ndarray] = []
    for i in range(0, len(y), 4096):
        frame = av.AudioFrame.from_ndarray(y[None, i:i + 4096], format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = i
        frame.time_base = Fraction(1, rate)
        graph.push(frame)
        out += _drain(graph)
    graph.push(None)
    out += _drain(graph)
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)


def _drain(graph) -> list[np.ndarray]:  # noqa: ANN001 - av.filter.Graph
    import av

    got: list[np.ndarray] = []
    while True:
        try:
            frame = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return got
        got.append(frame.to_ndarray().reshape(-1))


def pitch(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Pitch x ``factor`` with the duration kept (``asetrate=rate*factor,aresample=rate,atempo=1/factor``)."""
    return tempo(speed(x, rate, factor), rate, 1.0 / float(factor))


def room_impulse(rate: int, rt60: float, drr_db: float = 0.0, seed: int = 0) -> np.ndarray:
    """A synthetic room impulse response: direct path, then Gaussian noise decaying 60 dB in ``rt60`` seconds
    from 2 ms on (the diffuse field, Polack's model), scaled so direct / tail energy is ``drr_db``."""
    if not 0.05 <= rt60 <= 3.0:
        raise WatermarkError("RT60 must be in [0.05, 3] s, got {rt60}", values={"rt60": repr(rt60)})
    rng = np.random.default_rng(seed)
    n = int(rate * rt60 * 1.2)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-3.0 * np.log(10.0) * t / rt60)
    tail[: max(1, int(0.002 * rate))] = 0.0
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    tail[0] = 1.0
    return tail


def room(x: np.ndarray, rate: int, rt60: float, drr_db: float = 0.0, seed: int = 0) -> np.ndarray:
    """``x`` played in a room (convolution with :func:`room_impulse`), trimmed to its length, same RMS."""
    y0 = _mono(x)
    y = fftconvolve(y0, room_impulse(rate, rt60, drr_db, seed))[: len(y0)]
    return (y * np.sqrt(np.mean(y0**2) / max(float(np.mean(y**2)), 1e-20))).astype(np.float32)


def echo(x: np.ndarray, rate: int, delay: float = 0.06, decay: float = 0.4) -> np.ndarray:
    y = _mono(x).copy()
    d = int(round(delay * rate))
    y[d:] += decay * y[: len(y) - d]
    return y.astype(np.float32)


def speaker_mic(x: np.ndarray, rate: int, seed: int = 0, rt60: float = 0.3, snr_db: float = 25.0,
                gain: float = 0.5, band: tuple[float, float] = (200.0, 7000.0), drr_db: float = 0.0) -> np.ndarray:
    """Loudspeaker -> room -> microphone: 4th-order band limit ``band`` (capped below Nyquist), a room with
    ``rt60`` at ``drr_db`` direct-to-reverberant ratio (0 dB: the microphone at the critical distance),
    pink-ish background noise at ``snr_db`` and a gain change."""
    hi = min(band[1], 0.45 * rate)
    y = sosfilt(butter(4, [band[0], hi], btype="bandpass", fs=rate, output="sos"), _mono(x))
    y = room(y, rate, rt60, drr_db, seed).astype(np.float64)
    rng = np.random.default_rng(seed + 1)
    noise = np.cumsum(rng.standard_normal(len(y)))  # brown, then high-passed: a low rumble with a 1/f-ish slope
    noise = sosfilt(butter(1, 100.0, btype="highpass", fs=rate, output="sos"), noise)
    noise += 0.05 * rng.standard_normal(len(y)) * np.std(noise)
    noise *= np.sqrt(np.mean(y**2) / max(float(np.mean(noise**2)), 1e-20) * 10 ** (-snr_db / 10))
    return (gain * (y + noise)).astype(np.float32)
