"""Audio fingerprints: spectral-peak landmarks (Wang 2003, "An Industrial-Strength Audio Search Algorithm").

Hashing: decode to mono, resample to 8 kHz (polyphase, anti-aliased: :mod:`synthguard.codecs.av`), take a
log-magnitude STFT (512-point Hann window, hop 256 = 32 ms), keep local maxima of the spectrogram (largest in a
window of 21 bins x 11 frames and above a per-block level floor), thinned to at most ``density`` peaks per second
with a few per each second of sound.  Each peak (the anchor) is paired with up to ``fan_out`` later peaks in a
target zone (1..63 frames later, within 63 bins); a landmark is the 22-bit hash ``f1 << 14 | f2 << 6 | dt`` with the
anchor's frame time.  Peaks and their spacing survive MP3, resampling, volume changes and cropping; loudness does
not enter the hash.

Matching: landmarks with equal hashes vote for the time offset ``t_target - t_query``; a copy piles its votes on
one offset (within one frame), unrelated audio scatters a few.  ``votes`` counts query landmarks agreeing with the
best offset, ``score`` is votes over the query's landmarks.  The query is hashed at ``shifts`` sub-hop offsets
(default 4) and the best is kept, so an excerpt cut anywhere lines up with the reference's frame grid.

Serialised form (:attr:`Hash.value` of :meth:`AudioHasher.hash`): hex of ``b"SGA1"``, then little-endian
``uint32`` sample rate, hop, landmark count, then ``count`` pairs of ``uint32`` (anchor frame, hash).
Platform scan (DS-09 feature library, DS-21 trace of stripped copies).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from synthguard.codecs.av import audio_samples
from synthguard.errors import ValidationError
from synthguard.fingerprint import Hash
from synthguard.i18n import N_
from synthguard.media import Media, Modality

RATE = 8000
N_FFT = 512
HOP = 256
MIN_VOTES = 12  # an unrelated 10 s clip reaches ~3 votes
MIN_SCORE = 0.02  # at least 2% of the query's landmarks must agree
_MAGIC = b"SGA1"
_HEADER = struct.Struct("<4sIII")
_F_BITS, _DT_BITS = 8, 6
_MAX_DT, _MAX_DF = (1 << _DT_BITS) - 1, 63
_PEAK_BINS, _PEAK_FRAMES = 21, 11  # neighbourhood a peak must dominate
_MIN_BIN = 3  # ignore < ~50 Hz (DC, hum)


@dataclass(frozen=True)
class AudioFingerprint:
    times: np.ndarray  # uint32 anchor frame of each landmark (frame = hop / rate seconds)
    hashes: np.ndarray  # uint32 22-bit landmark hash
    rate: int = RATE
    hop: int = HOP
    duration: float = 0.0  # seconds of audio hashed (not serialised)

    @property
    def frame_seconds(self) -> float:
        return self.hop / self.rate

    def __len__(self) -> int:
        return len(self.hashes)

    def to_bytes(self) -> bytes:
        pairs = np.stack([self.times, self.hashes], axis=1).astype("<u4")
        return _HEADER.pack(_MAGIC, self.rate, self.hop, len(self.hashes)) + pairs.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> AudioFingerprint:
        if len(data) < _HEADER.size:
            raise ValidationError("not an audio fingerprint: too short", hint="Pass the hex from AudioHasher.hash.")
        magic, rate, hop, count = _HEADER.unpack_from(data)
        if magic != _MAGIC or len(data) != _HEADER.size + 8 * count or not rate or not hop:
            raise ValidationError("not an audio fingerprint: bad header or length",
                                  hint="Pass the hex from AudioHasher.hash.")
        pairs = np.frombuffer(data, "<u4", offset=_HEADER.size).reshape(-1, 2).astype(np.uint32)
        return cls(pairs[:, 0].copy(), pairs[:, 1].copy(), rate, hop)

    def to_hex(self) -> str:
        return self.to_bytes().hex()

    @classmethod
    def from_hex(cls, text: str) -> AudioFingerprint:
        try:
            return cls.from_bytes(bytes.fromhex(text))
        except ValueError as exc:
            raise ValidationError("not an audio fingerprint: {exc}", values={"exc": exc}) from exc


@dataclass(frozen=True)
class AudioMatch:
    votes: int  # query landmarks agreeing on the best offset
    offset: float  # seconds: where the query starts in the target
    score: float  # votes / query landmarks
    is_match: bool

    def to_dict(self) -> dict[str, float | int | bool]:
        return {"votes": self.votes, "offset": self.offset, "score": self.score, "is_match": self.is_match}


def spectrogram(x: np.ndarray) -> np.ndarray:
    """(frames, bins) log magnitude, Hann window ``N_FFT``, hop ``HOP``."""
    if len(x) < N_FFT:
        x = np.pad(x, (0, N_FFT - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    spec = np.abs(np.fft.rfft(frames * np.hanning(N_FFT).astype(np.float32), axis=1))
    return np.log(spec + 1e-6).astype(np.float32)


def find_peaks(logspec: np.ndarray, density: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """(frame, bin) of the landmark peaks, in time order."""
    from scipy.ndimage import maximum_filter

    s = logspec[:, : 1 << _F_BITS]
    local = maximum_filter(s, size=(_PEAK_FRAMES, _PEAK_BINS), mode="constant", cval=-np.inf)
    floor = np.median(s) + 2.0  # ~17 dB above the typical cell: skip silence and dither
    mask = (s == local) & (s > floor) & (s > np.log(1e-4))
    mask[:, :_MIN_BIN] = False
    t, f = np.nonzero(mask)
    if len(t) == 0:
        return t, f
    # thin to `density` peaks per second, per one-second block, strongest first
    per_block = max(1, int(round(density)))
    block = np.maximum(1, int(round(RATE / HOP)))
    strength = s[t, f]
    order = np.lexsort((-strength, t // block))
    t, f, b = t[order], f[order], (t // block)[order]
    rank = np.arange(len(b)) - np.searchsorted(b, b, side="left")
    keep = rank < per_block
    t, f = t[keep], f[keep]
    order = np.lexsort((f, t))
    return t[order], f[order]


def landmarks(t: np.ndarray, f: np.ndarray, fan_out: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(anchor time, hash) for each anchor paired with up to ``fan_out`` later peaks in its target zone."""
    times: list[np.ndarray] = []
    hashes: list[np.ndarray] = []
    n = len(t)
    found = np.zeros(n, np.int64)
    for k in range(1, 8 * fan_out + 1):  # the k-th next peak in time order
        if k >= n:
            break
        a = np.arange(n - k)
        dt = t[a + k] - t[a]
        df = f[a + k].astype(np.int64) - f[a]
        ok = (dt >= 1) & (dt <= _MAX_DT) & (np.abs(df) <= _MAX_DF) & (found[a] < fan_out)
        a = a[ok]
        found[a] += 1
        times.append(t[a])
        hashes.append((f[a].astype(np.uint32) << 14) | (f[a + k].astype(np.uint32) << 6) | dt[ok].astype(np.uint32))
    if not times:
        return np.zeros(0, np.uint32), np.zeros(0, np.uint32)
    tt, hh = np.concatenate(times).astype(np.uint32), np.concatenate(hashes)
    order = np.lexsort((hh, tt))
    return tt[order], hh[order]


def fingerprint_samples(x: np.ndarray, shift: int = 0, density: float = 30.0, fan_out: int = 5) -> AudioFingerprint:
    """Landmarks of mono float samples at ``RATE`` Hz, skipping the first ``shift`` samples."""
    x = np.asarray(x, np.float32)[shift:]
    t, f = find_peaks(spectrogram(x), density)
    times, hashes = landmarks(t, f, fan_out)
    return AudioFingerprint(times, hashes, RATE, HOP, duration=len(x) / RATE)


def match(query: AudioFingerprint, target: AudioFingerprint, min_votes: int = MIN_VOTES,
          min_score: float = MIN_SCORE) -> AudioMatch:
    """Offset-consistent votes of the query's landmarks in the target (the Shazam histogram of time offsets)."""
    if (query.rate, query.hop) != (target.rate, target.hop):
        raise ValidationError("audio fingerprints made with different settings cannot be compared",
                              hint=N_("query {rate} Hz/{hop}, target {rate_target} Hz/{hop_target}"),
                              values={"rate": query.rate, "hop": query.hop, "rate_target": target.rate,
                                      "hop_target": target.hop})
    if len(query) == 0 or len(target) == 0:
        return AudioMatch(0, 0.0, 0.0, False)
    order = np.argsort(target.hashes, kind="stable")
    th, tt = target.hashes[order], target.times[order].astype(np.int64)
    lo = np.searchsorted(th, query.hashes, "left")
    counts = np.searchsorted(th, query.hashes, "right") - lo
    total = int(counts.sum())
    if total == 0:
        return AudioMatch(0, 0.0, 0.0, False)
    qi = np.repeat(np.arange(len(query)), counts)
    idx = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
    offsets = tt[idx] - query.times.astype(np.int64)[qi]
    base = offsets.min()
    hist = np.bincount(offsets - base)
    smooth = hist + np.concatenate([[0], hist[:-1]]) + np.concatenate([hist[1:], [0]])
    best = int(np.argmax(smooth)) + int(base)
    near = np.abs(offsets - best) <= 1
    votes = len(np.unique(qi[near]))
    exact = offsets[near]
    offset_frames = float(np.median(exact)) if len(exact) else float(best)
    score = votes / len(query)
    return AudioMatch(votes, offset_frames * query.frame_seconds, score, votes >= min_votes and score >= min_score)


class AudioHasher:
    """Hasher for audio (kind ``audio``); also hashes the sound track of MP4/WebM videos.

    The :class:`~synthguard.fingerprint.Hasher` protocol's ``distance`` is ``100 - round(100 * score)`` (100 when
    fewer than ``MIN_VOTES`` landmarks agree), so ``distance <= match_threshold`` is this module's match rule.
    """

    kind = "audio"
    modalities = frozenset({Modality.AUDIO, Modality.VIDEO})
    match_threshold = 100 - round(100 * MIN_SCORE)
    bank_distance = 0  # an audio bank matches by the landmark votes rule (signals.py); no radius to set
    bank_max_distance = 0

    def __init__(self, density: float = 30.0, fan_out: int = 5, shifts: int = 4):
        if density <= 0 or fan_out < 1 or not 1 <= shifts <= HOP:
            raise ValidationError("bad audio hasher settings density={density!r} fan_out={fan_out!r} shifts={shifts!r}",
                                  values={"density": density, "fan_out": fan_out, "shifts": shifts})
        self.density, self.fan_out, self.shifts = density, fan_out, shifts

    def samples(self, media: Media) -> np.ndarray:
        return audio_samples(media, RATE)

    def fingerprint(self, media: Media, shift: int = 0) -> AudioFingerprint:
        return fingerprint_samples(self.samples(media), shift, self.density, self.fan_out)

    def hash(self, media: Media) -> Hash:
        """value: hex of the serialised landmarks (see the module doc); quality: landmarks per second, max 100."""
        fp = self.fingerprint(media)
        quality = min(100, round(len(fp) / max(fp.duration, 1e-9)))
        return Hash(self.kind, fp.to_hex(), quality)

    def query(self, media: Media, target: AudioFingerprint) -> AudioMatch:
        """Match a file against a stored fingerprint, trying ``shifts`` sub-hop alignments of the query."""
        x = self.samples(media)
        return self.match_samples(x, target)

    def match_samples(self, x: np.ndarray, target: AudioFingerprint) -> AudioMatch:
        results = []
        for k in range(self.shifts):
            shift = k * HOP // self.shifts
            m = match(fingerprint_samples(x, shift, self.density, self.fan_out), target)
            results.append(AudioMatch(m.votes, m.offset - shift / RATE, m.score, m.is_match))
        return max(results, key=lambda m: (m.votes, m.score))

    def match(self, query: AudioFingerprint | str, target: AudioFingerprint | str) -> AudioMatch:
        return match(_fp(query), _fp(target))

    def distance(self, a: str, b: str) -> int:
        m = self.match(a, b)
        return 100 - round(100 * m.score) if m.votes >= MIN_VOTES else 100


def _fp(x: AudioFingerprint | str) -> AudioFingerprint:
    return x if isinstance(x, AudioFingerprint) else AudioFingerprint.from_hex(x)


__all__ = ["AudioFingerprint", "AudioHasher", "AudioMatch", "fingerprint_samples", "match"]
