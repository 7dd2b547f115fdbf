"""Speaker embeddings: resemblyzer's GE2E voice encoder re-implemented in numpy (no torch at run time).

Front end as resemblyzer 0.1.4 with librosa >= 0.10: 16 kHz mono, volume raised (never lowered) to -30 dBFS,
long silences cut with the WebRTC VAD (30 ms windows, mode 3, 8-window moving average, 6-window dilation), then a
40-band Slaney mel power spectrogram (25 ms Hann window, 10 ms hop, centred with zero padding).  The utterance is
cut into 1.6 s partials at 1.3 partials/s; each goes through a 3-layer LSTM (256 units) and a ReLU linear layer;
the L2-normalised mean of the partial embeddings is the 256-d utterance embedding.  ``scripts/check_voice_encoder.py``
compares this against the original torch model; similarity between two voices is the cosine (dot product).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from synthguard.codecs.av import audio_samples
from synthguard.consent.voice_weights import load_state_dict, locate_weights
from synthguard.errors import UnsupportedMediaError
from synthguard.i18n import N_
from synthguard.media import Media

RATE = 16_000
N_FFT, HOP, N_MELS = 400, 160, 40
PARTIAL_FRAMES = 160  # 1.6 s
PARTIAL_RATE, MIN_COVERAGE = 1.3, 0.75
VAD_WINDOW = 480  # 30 ms at 16 kHz
MIN_SPEECH_SECONDS = 1.0  # less voiced audio than this cannot be matched reliably
MIN_VOICED_FRACTION, MIN_RHYTHM_DB = 0.2, 4.0  # see speech_likeness(); espeak and real speech: >= 0.4 and >= 7 dB
TARGET_DBFS = -30.0
_INT16_MAX = 2**15 - 1


@dataclass(frozen=True)
class VoicePrint:
    embedding: np.ndarray  # (256,) float32, unit norm
    speech_seconds: float
    total_seconds: float


class NoSpeechError(UnsupportedMediaError):
    """The audio holds too little speech to identify a speaker (music, tones, noise, silence)."""

    http_status = 422
    hint = N_("Pass a recording with at least one second of clear speech by one person.")


@lru_cache(maxsize=1)
def _encoder() -> tuple[dict[str, np.ndarray], str]:
    return load_state_dict(locate_weights())


def model_sha256() -> str:
    return _encoder()[1]


def _vad() -> object:
    try:
        import webrtcvad
    except ImportError as exc:
        raise UnsupportedMediaError("voice matching needs the WebRTC VAD, which is not installed",
                                    hint="Install the voice extra: pip install 'synthguard[voice]'.") from exc
    return webrtcvad.Vad(3)


def voiced_mask(wav: np.ndarray) -> np.ndarray:
    """Per-sample mask of the regions resemblyzer keeps (speech plus short pauses)."""
    from scipy.ndimage import binary_dilation

    n = len(wav) - len(wav) % VAD_WINDOW
    pcm = np.round(np.clip(wav[:n], -1, 1) * _INT16_MAX).astype("<i2").tobytes()
    vad = _vad()
    flags = np.array([float(vad.is_speech(pcm[i * 2:(i + VAD_WINDOW) * 2], RATE))  # type: ignore[attr-defined]
                      for i in range(0, n, VAD_WINDOW)], dtype=np.float64)
    if flags.size == 0:
        return np.zeros(0, bool)
    width = 8
    padded = np.concatenate([np.zeros((width - 1) // 2), flags, np.zeros(width // 2)])
    c = np.cumsum(padded)
    c[width:] = c[width:] - c[:-width]
    mask = np.round(c[width - 1:] / width).astype(bool)
    mask = binary_dilation(mask, np.ones(7))
    return np.repeat(mask, VAD_WINDOW)


def speech_likeness(wav: np.ndarray) -> tuple[float, float]:
    """(fraction of loud 40 ms frames that are voiced, std of the frame log-energy in dB).

    The WebRTC VAD alone accepts steady noise as speech.  Speech has both pitch (a normalised autocorrelation peak
    between 70 and 400 Hz in many frames) and a syllabic rhythm (frame energies varying by several dB); white noise
    has neither and a steady tone has no rhythm.
    """
    frame, hop = 640, 320
    n = 1 + (len(wav) - frame) // hop if len(wav) >= frame else 0
    if n < 5:
        return 0.0, 0.0
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    frames = wav[idx].astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    energy = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = energy > energy.max() - 35
    spec = np.fft.rfft(frames[loud], n=2 * frame, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :frame]
    ac /= np.maximum(ac[:, :1], 1e-12)
    lo, hi = RATE // 400, RATE // 70
    voiced = float(np.mean(ac[:, lo:hi].max(axis=1) > 0.5)) if loud.any() else 0.0
    return voiced, float(np.std(energy[loud])) if loud.sum() > 1 else 0.0


def preprocess(wav: np.ndarray) -> tuple[np.ndarray, float]:
    """Volume-normalised, silence-trimmed waveform and the seconds of speech the VAD found."""
    wav = np.asarray(wav, np.float32)
    rms = float(np.sqrt(np.mean((wav.astype(np.float64) * _INT16_MAX) ** 2))) if wav.size else 0.0
    if rms > 0:
        change = TARGET_DBFS - 20 * np.log10(rms / _INT16_MAX)
        if change > 0:
            wav = wav * np.float32(10 ** (change / 20))
    mask = voiced_mask(wav)
    kept = wav[: len(mask)][mask]
    return kept.astype(np.float32), len(kept) / RATE


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney mel scale and area normalisation."""
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, np.float64)
        mel = f / (200.0 / 3)
        log = f >= 1000.0
        return np.where(log, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, np.float64)
        return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))

    fft_f = np.linspace(0, RATE / 2, 1 + N_FFT // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(RATE / 2)), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram, as librosa.feature.melspectrogram with resemblyzer's parameters."""
    from scipy.signal import get_window

    y = np.pad(np.asarray(wav, np.float32), (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + (len(y) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    frames = y[idx] * get_window("hann", N_FFT, fftbins=True).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return (power.astype(np.float32) @ mel_filters().T).astype(np.float32)


def partial_slices(n_samples: int) -> list[slice]:
    """Mel-frame slices of the 1.6 s partials (resemblyzer's compute_partial_slices)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((RATE / PARTIAL_RATE) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + step + 1)
    slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, steps, step)]
    last = slices[-1]
    coverage = (n_samples - last.start * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(slices) > 1:
        slices = slices[:-1]
    return slices


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def encode_partials(mels: np.ndarray) -> np.ndarray:
    """(batch, 160, 40) mels -> (batch, 256) unit embeddings: torch.nn.LSTM gate order i, f, g, o.

    The recurrence is 480 small matrix products; a multi-threaded BLAS spends far longer synchronising its threads
    than computing them (70x slower on a loaded 2-core machine), so BLAS runs single-threaded here."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # still correct, only slower
        return _encode_partials(mels)
    with threadpool_limits(1, user_api="blas"):
        return _encode_partials(mels)


def _encode_partials(mels: np.ndarray) -> np.ndarray:
    w, _ = _encoder()
    x = mels.astype(np.float32)
    batch, steps, _ = x.shape
    for layer in range(3):
        w_ih, w_hh_t = w[f"lstm.weight_ih_l{layer}"], np.ascontiguousarray(w[f"lstm.weight_hh_l{layer}"].T)
        bias = w[f"lstm.bias_ih_l{layer}"] + w[f"lstm.bias_hh_l{layer}"]
        hidden = w_hh_t.shape[0]
        pre = x @ w_ih.T + bias  # input projections for every step at once
        h = np.zeros((batch, hidden), np.float32)
        c = np.zeros((batch, hidden), np.float32)
        out = np.empty((batch, steps, hidden), np.float32)
        for t in range(steps):
            g = pre[:, t] + h @ w_hh_t
            i, f, gg, o = np.split(g, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(gg)
            h = _sigmoid(o) * np.tanh(c)
            out[:, t] = h
        x = out
    raw = np.maximum(h @ w["linear.weight"].T + w["linear.bias"], 0)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    return raw / np.maximum(norms, 1e-12)


def embed_wav(wav: np.ndarray, *, trim: bool = True) -> VoicePrint:
    """Embed a 16 kHz mono waveform; NoSpeechError when the VAD finds under one second of speech."""
    total = len(wav) / RATE
    speech, seconds = preprocess(wav) if trim else (np.asarray(wav, np.float32), total)
    if seconds < MIN_SPEECH_SECONDS:
        raise NoSpeechError("only {seconds:.2f} s of speech found in {total:.2f} s of audio (at least "
                            "{MIN_SPEECH_SECONDS:.0f} s needed)",
                            values={"seconds": seconds, "total": total, "MIN_SPEECH_SECONDS": MIN_SPEECH_SECONDS})
    voiced, rhythm = speech_likeness(speech)
    if voiced < MIN_VOICED_FRACTION or rhythm < MIN_RHYTHM_DB:
        raise NoSpeechError("the audio does not sound like speech (pitched frames {voiced:.0%}, energy variation "
                            "{rhythm:.1f} dB; speech has >= {MIN_VOICED_FRACTION:.0%} and >= {MIN_RHYTHM_DB:.0f} dB)",
                            values={"voiced": voiced, "rhythm": rhythm, "MIN_VOICED_FRACTION": MIN_VOICED_FRACTION,
                                    "MIN_RHYTHM_DB": MIN_RHYTHM_DB})
    slices = partial_slices(len(speech))
    need = slices[-1].stop * HOP
    if need >= len(speech):
        speech = np.pad(speech, (0, need - len(speech)))
    mel = mel_spectrogram(speech)
    partials = encode_partials(np.stack([mel[s] for s in slices]))
    mean = partials.mean(axis=0)
    return VoicePrint((mean / np.linalg.norm(mean)).astype(np.float32), seconds, total)


def embed_media(media: Media) -> VoicePrint:
    return embed_wav(audio_samples(media, RATE, max_seconds=600.0))
