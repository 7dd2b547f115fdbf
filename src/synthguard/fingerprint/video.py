"""Video fingerprints in the vPDQ style: PDQ of frames sampled at a fixed rate, matched by shares of frames.

Hashing (Meta's vPDQ, ThreatExchange ``vpdq``): decode frames at ``fps`` (default 1 per second), scale each to
256x256 by area averaging (copies at other resolutions then hash alike; PDQ squashes to 64x64 anyway), PDQ-hash it
(fingerprint/pdq.py, bit-exact with Meta's reference), drop frames whose PDQ quality is below 50 (flat, dark,
blurred: their hashes are unreliable) and drop a frame within ``dedupe_distance`` bits of the last kept frame
(static shots).

Matching (vPDQ's rule): the *query share* is the fraction of the query's frames that have some target frame within
``distance`` (31 of 256 bits, PDQ's own threshold), the *target share* likewise the other way round.  The two are
the same content when both shares reach ``threshold`` (0.8).  Requiring both stops a short clip from matching
every long video that contains it (that is a *partial* match, reported by the shares themselves).

Serialised form (``VideoFingerprint.to_json``, also :attr:`Hash.value` of :meth:`VideoHasher.hash`): compact JSON
``{"v":1,"fps":1.0,"frames":[[t,"<64 hex pdq>",quality],...]}`` with ``t`` in seconds (3 decimals) and frames in
time order.  Platform scan (DS-09 feature library, DS-21 trace of stripped copies).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from synthguard.codecs.av import FRAME_SIZE, video_frames
from synthguard.errors import ValidationError
from synthguard.fingerprint import Hash
from synthguard.fingerprint.pdq import MATCH_THRESHOLD, MIN_QUALITY, bits_to_hex, pdq_hash
from synthguard.media import Media, Modality

MATCH_SHARE = 0.8  # vPDQ: both shares must reach this
FORMAT_VERSION = 1
_CHUNK = 512  # query rows per block of the pairwise distance matrix


@dataclass(frozen=True)
class FrameHash:
    t: float  # seconds from the start of the video
    pdq: str  # 64 hex characters
    quality: int  # PDQ quality 0..100


@dataclass(frozen=True)
class VideoFingerprint:
    frames: tuple[FrameHash, ...]
    fps: float = 1.0

    def to_json(self) -> str:
        frames = [[round(f.t, 3), f.pdq, f.quality] for f in self.frames]
        return json.dumps({"v": FORMAT_VERSION, "fps": self.fps, "frames": frames}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> VideoFingerprint:
        try:
            doc = json.loads(text)
            if doc.get("v") != FORMAT_VERSION:
                raise ValueError(f"unknown version {doc.get('v')!r}")
            frames = tuple(FrameHash(float(t), _check_pdq(str(h)), int(q)) for t, h, q in doc["frames"])
            return cls(frames=frames, fps=float(doc["fps"]))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValidationError("not a video fingerprint: {exc}", values={"exc": exc},
                                  hint='Expected {"v":1,"fps":...,"frames":[[t,"<pdq hex>",quality],...]}.') from exc

    def matrix(self) -> np.ndarray:
        """(n, 4) uint64 words of the frame hashes, for vectorised Hamming distances."""
        raw = b"".join(bytes.fromhex(f.pdq) for f in self.frames)
        return np.frombuffer(raw, np.uint8).reshape(-1, 32).view(np.uint64).reshape(-1, 4)


@dataclass(frozen=True)
class VideoMatch:
    query_share: float  # fraction of query frames with a target frame within distance
    target_share: float  # fraction of target frames with a query frame within distance
    is_match: bool

    def to_dict(self) -> dict[str, float | bool]:
        return {"query_share": self.query_share, "target_share": self.target_share, "is_match": self.is_match}


def _check_pdq(h: str) -> str:
    h = h.lower()
    if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise ValueError(f"frame hash {h[:16]!r}... is not 64 hex characters")
    return h


def _min_distances(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a the nearest distance in b, and for each row of b the nearest in a."""
    best_a = np.full(len(a), 257, np.int64)
    best_b = np.full(len(b), 257, np.int64)
    for i in range(0, len(a), _CHUNK):
        d = np.bitwise_count(a[i:i + _CHUNK, None, :] ^ b[None, :, :]).sum(axis=2, dtype=np.int64)
        best_a[i:i + _CHUNK] = d.min(axis=1)
        np.minimum(best_b, d.min(axis=0), out=best_b)
    return best_a, best_b


def match(query: VideoFingerprint, target: VideoFingerprint, distance: int = MATCH_THRESHOLD,
          threshold: float = MATCH_SHARE) -> VideoMatch:
    """vPDQ comparison: a match when both the query share and the target share reach ``threshold``."""
    if not 0 <= distance <= 256 or not 0.0 < threshold <= 1.0:
        raise ValidationError("bad match parameters distance={distance} threshold={threshold}",
                              values={"distance": distance, "threshold": threshold},
                              hint="distance is 0..256 bits, threshold a share in (0, 1].")
    if not query.frames or not target.frames:
        return VideoMatch(0.0, 0.0, False)
    best_q, best_t = _min_distances(query.matrix(), target.matrix())
    q_share = float(np.mean(best_q <= distance))
    t_share = float(np.mean(best_t <= distance))
    return VideoMatch(q_share, t_share, q_share >= threshold and t_share >= threshold)


class VideoHasher:
    """Hasher for videos (kind ``vpdq``).

    The :class:`~synthguard.fingerprint.Hasher` protocol's ``distance`` is, for videos, the percentage of frames
    left unmatched on the worse side: ``round(100 * (1 - min(query_share, target_share)))``, so
    ``distance <= match_threshold`` (20) is exactly vPDQ's "both shares >= 0.8" rule.
    """

    kind = "vpdq"
    modalities = frozenset({Modality.VIDEO})
    match_threshold = round(100 * (1 - MATCH_SHARE))
    bank_distance = MATCH_THRESHOLD  # a vpdq bank's radius is the per-frame PDQ distance (signals.py)
    bank_max_distance = 128

    def __init__(self, fps: float = 1.0, min_quality: int = MIN_QUALITY, dedupe_distance: int = 4,
                 frame_distance: int = MATCH_THRESHOLD, frame_size: tuple[int, int] | None = FRAME_SIZE):
        if fps <= 0:
            raise ValidationError("fps must be positive, got {fps}", values={"fps": fps})
        self.fps = float(fps)
        self.min_quality = min_quality
        self.dedupe_distance = dedupe_distance
        self.frame_distance = frame_distance
        self.frame_size = frame_size

    def fingerprint(self, media: Media) -> VideoFingerprint:
        kept: list[FrameHash] = []
        last: int | None = None
        for t, rgb in video_frames(media, self.fps, size=self.frame_size):
            bits, quality = pdq_hash(np.ascontiguousarray(rgb))
            if quality < self.min_quality:
                continue
            h = bits_to_hex(bits)
            value = int(h, 16)
            if last is not None and (value ^ last).bit_count() <= self.dedupe_distance:
                continue
            kept.append(FrameHash(round(float(t), 3), h, int(quality)))
            last = value
        return VideoFingerprint(frames=tuple(kept), fps=self.fps)

    def hash(self, media: Media) -> Hash:
        """value: the fingerprint's compact JSON; quality: the median frame quality (0 when no frame qualified)."""
        fp = self.fingerprint(media)
        quality = int(np.median([f.quality for f in fp.frames])) if fp.frames else 0
        return Hash(self.kind, fp.to_json(), quality)

    def match(self, query: VideoFingerprint | str, target: VideoFingerprint | str, distance: int | None = None,
              threshold: float = MATCH_SHARE) -> VideoMatch:
        return match(_fp(query), _fp(target), self.frame_distance if distance is None else distance, threshold)

    def distance(self, a: str, b: str) -> int:
        m = self.match(a, b)
        return round(100 * (1 - min(m.query_share, m.target_share)))


def _fp(x: VideoFingerprint | str) -> VideoFingerprint:
    return x if isinstance(x, VideoFingerprint) else VideoFingerprint.from_json(x)


__all__ = ["FrameHash", "VideoFingerprint", "VideoHasher", "VideoMatch", "match"]
