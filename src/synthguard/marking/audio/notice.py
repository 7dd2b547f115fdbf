"""The explicit audio label (LM Art. 4(1)(2), LM-04, GB-04, EU-12): a spoken notice or the rhythm cue.

- ``speech``: a voice label naming both the AI element and the generation element (GB-04(b)), e.g.
  "本内容由人工智能生成 This audio is AI-generated", synthesised offline with espeak-ng at a normal speech rate
  (GB-04(e): Chinese at 140 wpm-equivalent, within the 120-160 characters/min of Note 4).  Chinese runs are spoken
  with the ``cmn`` voice and the rest with ``en``; renderings are cached per text/voice/rate under
  ``$SYNTHGUARD_HOME/cache/audio-notice`` so labelling and reading reuse the same waveform.  Without espeak-ng
  the marker falls back to the rhythm cue and says so in a warning (the rhythm cue is an equally valid GB-04(a)
  label), rather than refusing to label.
- ``rhythm``: the "short-long-short-short" cue (Morse "·− ··" for "AI", GB-04(c)); no source gives pulse
  lengths, so they are configurable constants here (120 ms / 360 ms tones of 1 kHz, 120 ms gaps).

The notice is placed at the start, the end or both (GB-04(d)), separated from the content by 300 ms of silence,
at the loudness of the content's active part so it is as conspicuous as the content itself.  Detection is a
normalised cross-correlation with the same rendering at 8 kHz, so it survives lossy re-encoding and resampling.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.signal import fftconvolve, resample_poly

from synthguard.errors import ConfigError, ValidationError

log = logging.getLogger(__name__)
NoticeKind = Literal["speech", "rhythm"]
NoticePosition = Literal["start", "end", "start_end"]
DEFAULT_TEXT = "本内容由人工智能生成 This audio is AI-generated"
RHYTHM = (("tone", 0.12), ("gap", 0.12), ("tone", 0.36), ("gap", 0.12), ("tone", 0.12), ("gap", 0.12),
          ("tone", 0.12))  # short-long-short-short (GB-04(c))
TONE_HZ = 1000.0
RENDER_RATE = 22050
DETECT_RATE = 8000
GAP_SECONDS = 0.3
SPEECH_WPM = {"cmn": 140, "en": 150}
THRESHOLD = 0.6  # normalised cross-correlation; clean copies score ~1, MP3 64k copies > 0.9
MAX_SEARCH_SECONDS = 600.0  # longer files are searched in their first and last minute
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


@dataclass(frozen=True)
class NoticeFound:
    at: float  # seconds from the start
    where: str  # "start", "end" or "middle"
    score: float


def _resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return x.astype(np.float64)
    g = gcd(rate, target)
    return resample_poly(x.astype(np.float64), target // g, rate // g)


def espeak_path() -> str | None:
    return shutil.which("espeak-ng")


class NoticeRenderer:
    """Renders (and caches) the notice waveform for one configuration."""

    def __init__(self, kind: NoticeKind = "speech", text: str = DEFAULT_TEXT, cache_dir: Path | None = None):
        if kind not in ("speech", "rhythm"):
            raise ConfigError("audio_notice must be 'speech' or 'rhythm', not {kind!r}", values={"kind": kind})
        if kind == "speech" and not text.strip():
            raise ValidationError("the spoken notice text is empty", hint="Set audio_notice_text (GB-04(b)).")
        self.requested = kind
        self.text = text
        self.cache_dir = cache_dir
        self.warning: str | None = None
        self.kind: NoticeKind = kind
        if kind == "speech" and espeak_path() is None:
            self.kind = "rhythm"
            self.warning = ("espeak-ng is not installed: using the rhythm cue (short-long-short-short) instead of "
                            "the spoken notice (apt-get install espeak-ng)")
            log.warning(self.warning)
        self._cache: dict[int, np.ndarray] = {}

    def waveform(self, rate: int) -> np.ndarray:
        """Mono float waveform at ``rate`` with unit peak."""
        if rate not in self._cache:
            base = self._rhythm() if self.kind == "rhythm" else self._speech()
            w = _resample(base, RENDER_RATE, rate)
            self._cache[rate] = w / max(float(np.max(np.abs(w))), 1e-9)
        return self._cache[rate]

    def _rhythm(self) -> np.ndarray:
        parts = []
        for what, seconds in RHYTHM:
            n = int(seconds * RENDER_RATE)
            if what == "gap":
                parts.append(np.zeros(n))
                continue
            t = np.arange(n) / RENDER_RATE
            ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms ramps: no clicks
            parts.append(np.sin(2 * np.pi * TONE_HZ * t) * ramp)
        return np.concatenate(parts)

    def _speech(self) -> np.ndarray:
        segments = []
        pos = 0
        for m in _CJK.finditer(self.text):
            if self.text[pos:m.start()].strip():
                segments.append(("en", self.text[pos:m.start()].strip()))
            segments.append(("cmn", m.group()))
            pos = m.end()
        if self.text[pos:].strip():
            segments.append(("en", self.text[pos:].strip()))
        gap = np.zeros(int(0.15 * RENDER_RATE))
        parts = []
        for voice, text in segments:
            parts += [self._espeak(voice, text), gap]
        return np.concatenate(parts[:-1])

    def _espeak(self, voice: str, text: str) -> np.ndarray:
        import soundfile

        exe = espeak_path()
        if exe is None:
            raise ConfigError("espeak-ng is not installed", hint="apt-get install espeak-ng, or set "
                                                                 "SYNTHGUARD_AUDIO_NOTICE=rhythm.")
        speed = SPEECH_WPM[voice]
        key = hashlib.sha256(f"{voice}|{speed}|{RENDER_RATE}|{text}".encode()).hexdigest()[:32]
        cached = self.cache_dir / f"{key}.wav" if self.cache_dir else None
        if cached is not None and cached.is_file():
            x, _ = soundfile.read(cached, dtype="float32")
            return x.astype(np.float64)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "notice.wav"
            try:
                subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(out), text], check=True,
                               capture_output=True, timeout=60)
            except (subprocess.SubprocessError, OSError) as exc:
                raise ConfigError("espeak-ng failed to render the notice: {exc}",
                                  hint="Check the espeak-ng installation (voices en and cmn).",
                                  values={"exc": exc}) from exc
            x, rate = soundfile.read(out, dtype="float32")
        x = _resample(x.reshape(len(x), -1).mean(axis=1), int(rate), RENDER_RATE)
        nz = np.flatnonzero(np.abs(x) > 1e-4)  # trim espeak's leading/trailing silence
        x = x[nz[0]: nz[-1] + 1] if nz.size else x
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp_path = cached.with_suffix(f".{np.random.randint(1 << 30)}.tmp")
            soundfile.write(tmp_path, x.astype(np.float32), RENDER_RATE, format="WAV", subtype="FLOAT")
            tmp_path.replace(cached)
        return x


def active_rms(mono: np.ndarray, rate: int) -> float:
    """RMS over the 50-ms blocks that are not near-silent (the loudness a listener hears)."""
    n = max(1, int(0.05 * rate))
    blocks = mono[: len(mono) // n * n].reshape(-1, n) if len(mono) >= n else mono.reshape(1, -1)
    rms = np.sqrt(np.mean(blocks.astype(np.float64) ** 2, axis=1))
    top = float(rms.max()) if rms.size else 0.0
    active = rms[rms > top * 0.1]
    return float(np.sqrt(np.mean(active**2))) if active.size else 0.0


def insert(samples: np.ndarray, rate: int, notice: np.ndarray, position: NoticePosition) -> np.ndarray:
    """Samples (n, channels) with the notice (mono, unit peak) at ``position``, level-matched to the content."""
    level = active_rms(samples.mean(axis=1), rate)
    w_rms = float(np.sqrt(np.mean(notice**2)))
    gain = min(0.9, max(level, 0.03) / max(w_rms, 1e-9))  # audible even after near-silent content; no clipping
    block = np.repeat((notice * gain)[:, None], samples.shape[1], axis=1).astype(np.float32)
    gap = np.zeros((int(GAP_SECONDS * rate), samples.shape[1]), dtype=np.float32)
    parts = [samples.astype(np.float32)]
    if position in ("start", "start_end"):
        parts = [block, gap, *parts]
    if position in ("end", "start_end"):
        parts = [*parts, gap, block]
    return np.concatenate(parts)


def find(mono: np.ndarray, rate: int, notice: np.ndarray, threshold: float = THRESHOLD) -> list[NoticeFound]:
    """Where ``notice`` (rendered at ``rate``) occurs in ``mono``: normalised cross-correlation at 8 kHz."""
    x = _resample(mono, rate, DETECT_RATE)
    t = _resample(notice, rate, DETECT_RATE)
    if len(x) < len(t) or not np.any(t):
        return []
    total = len(x) / DETECT_RATE
    spans = [(0, len(x))]
    if total > MAX_SEARCH_SECONDS:
        edge = int(60 * DETECT_RATE) + len(t)
        spans = [(0, edge), (len(x) - edge, len(x))]
    found: list[NoticeFound] = []
    for a, b in spans:
        seg = x[a:b]
        corr = fftconvolve(seg, t[::-1], mode="valid")
        c2 = np.concatenate([[0.0], np.cumsum(seg * seg)])
        energy = c2[len(t):] - c2[: len(c2) - len(t)]
        ncc = corr / (np.linalg.norm(t) * np.sqrt(np.maximum(energy, 1e-12)))
        ncc[energy < 1e-10 * len(t)] = 0.0
        while True:
            i = int(np.argmax(ncc))
            if ncc[i] < threshold:
                break
            at = (a + i) / DETECT_RATE
            end = at + len(t) / DETECT_RATE
            where = "start" if at < 1.0 else "end" if end > total - 1.0 else "middle"
            found.append(NoticeFound(round(at, 3), where, round(float(ncc[i]), 3)))
            ncc[max(0, i - len(t)): i + len(t)] = 0.0
    return sorted(found, key=lambda f: f.at)
