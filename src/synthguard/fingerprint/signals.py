"""Long fingerprints in hash banks: vPDQ for video and spectral landmarks for audio (issue 20).

A PDQ or SHA-256 hash fits a 64-character key; a video or audio fingerprint does not.  A bank of kind ``vpdq`` or
``audio`` keeps each entry's fingerprint in ``data`` and its SHA-256 as the key (duplicates, removal).

- ``vpdq``: Meta's vPDQ exchange format, as python-threatexchange's ``VPDQSignal`` reads and writes it: a JSON list
  of ``"<pdq hex>,<quality>,<seconds with 3 decimals>"`` strings (our own ``{"v":1,...}`` JSON is accepted too).
  Matching follows vPDQ's frame-share rule (``match_VPDQ_hash_brute``): both sides deduplicated and stripped of
  frames below quality 50, a frame matches within the bank's distance (31), and the query matches when at least
  80% of its frames do (the stored side's share is reported but not required, as in ThreatExchange, so an excerpt
  of a removed video still matches).  ``distance`` is the share of query frames left unmatched, in percent.
  The quality filter and both shares are ThreatExchange's defaults (``VPDQ_QUALITY_THRESHOLD``,
  ``VPDQ_QUERY_MATCH_THRESHOLD_PERCENT``, ``VPDQ_INDEX_MATCH_THRESHOLD_PERCENT``) and configurable
  (:class:`VpdqRule`, settings ``vpdq_quality``, ``vpdq_query_share``, ``vpdq_compared_share``).

  Known limit, as in the reference: a large opaque overlay defeats per-frame PDQ.  Meta's TMK sample
  ``chair-22-with-large-logo-bar`` against ``chair-orig-22-sd-bar`` matches 11.04% of query frames and 10.27% of
  compared frames with ThreatExchange's own vPDQ hashes (``vpdq/sample-hashes``, every frame, distance 31, quality
  50), far below 80%; TMK's README leaves it out of the chair cluster too.  Grey, sepia and small-logo variants
  match (100%, 100%, 95.08%).
- ``audio``: the landmark fingerprint of :mod:`synthguard.fingerprint.audio` (hex); a query is hashed at the
  hasher's sub-hop shifts once and compared with each entry by offset votes.  ``distance`` is
  ``100 - round(100 * score)``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from synthguard.errors import ValidationError
from synthguard.fingerprint.audio import HOP, AudioFingerprint, AudioHasher, fingerprint_samples
from synthguard.fingerprint.audio import match as audio_match
from synthguard.fingerprint.pdq import MATCH_THRESHOLD, MIN_QUALITY
from synthguard.fingerprint.video import FrameHash, VideoFingerprint, VideoHasher
from synthguard.fingerprint.video import match as video_match
from synthguard.media import Media

LONG_KINDS = {"vpdq": MATCH_THRESHOLD, "audio": 0}  # kind -> default max distance
VPDQ_QUERY_SHARE = 0.8  # VPDQ_QUERY_MATCH_THRESHOLD_PERCENT
VPDQ_COMPARED_SHARE = 0.0  # VPDQ_INDEX_MATCH_THRESHOLD_PERCENT
MAX_CHARS = 8_000_000  # a submitted fingerprint: ~3 hours of vPDQ at 1 fps, or ~7 hours of audio landmarks
FORMATS = {"vpdq": 'Meta\'s vPDQ JSON: ["<64 hex pdq>,<quality>,<seconds>", ...] (ThreatExchange VPDQSignal)',
           "audio": "the hex of an audio landmark fingerprint (`synthguard hash FILE --json`, key audio)"}


@dataclass(frozen=True)
class VpdqRule:
    """vPDQ's match thresholds besides the per-frame distance (a bank's ``max_distance``).

    ``quality``: frames below it on either side are not compared; ``query_share``: the share of the query's
    (deduplicated, filtered) frames that must have a frame within the distance; ``compared_share``: the same for the
    banked video.  Defaults: ThreatExchange's ``VPDQSignal.compare_hash`` (50, 80%, 0%).
    """

    quality: int = MIN_QUALITY
    query_share: float = VPDQ_QUERY_SHARE
    compared_share: float = VPDQ_COMPARED_SHARE

    def __post_init__(self) -> None:
        if isinstance(self.quality, bool) or not isinstance(self.quality, int) or not 0 <= self.quality <= 100:
            raise ValidationError("vPDQ quality filter must be within 0..100, got {q!r}", values={"q": self.quality})
        if not 0.0 < self.query_share <= 1.0:
            raise ValidationError("vPDQ query share must be within (0, 1], got {v!r}", values={"v": self.query_share},
                                  hint="0 would match every video; ThreatExchange uses 0.8.")
        if not 0.0 <= self.compared_share <= 1.0:
            raise ValidationError("vPDQ compared share must be within [0, 1], got {v!r}",
                                  values={"v": self.compared_share}, hint="ThreatExchange uses 0.")

    @classmethod
    def from_settings(cls, settings: Any) -> VpdqRule:
        """From the percent settings ``vpdq_quality``, ``vpdq_query_share``, ``vpdq_compared_share``."""
        return cls(int(settings.vpdq_quality), float(settings.vpdq_query_share) / 100,
                   float(settings.vpdq_compared_share) / 100)


DEFAULT_RULE = VpdqRule()


def to_vpdq(fp: VideoFingerprint) -> str:
    """Meta's vPDQ exchange JSON (``vpdq_to_json`` of compact features)."""
    return json.dumps([f"{f.pdq},{f.quality},{f.t:.3f}" for f in fp.frames])


def parse_vpdq(text: str) -> VideoFingerprint:
    """Meta's vPDQ JSON, or our own fingerprint JSON; ValidationError naming the defect otherwise."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValidationError("not a vPDQ fingerprint: {exc}", values={"exc": exc}, hint=FORMATS["vpdq"]) from exc
    if isinstance(doc, dict):
        return VideoFingerprint.from_json(text)
    if not isinstance(doc, list):
        raise ValidationError("not a vPDQ fingerprint: expected a JSON list", hint=FORMATS["vpdq"])
    frames = []
    for item in doc:
        try:
            h, q, t = str(item).split(",")
            frame = FrameHash(float(t), h.lower(), int(q))
            bytes.fromhex(frame.pdq)
            if len(frame.pdq) != 64 or not 0 <= frame.quality <= 100 or frame.t < 0:
                raise ValueError("bad field")
        except ValueError as exc:
            raise ValidationError("bad vPDQ feature {item!r}: {exc}", values={"item": str(item)[:90], "exc": exc},
                                  hint=FORMATS["vpdq"]) from exc
        frames.append(frame)
    return VideoFingerprint(frames=tuple(frames))


def parse(kind: str, text: str) -> Any:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("a {kind} fingerprint is required", values={"kind": kind}, hint=FORMATS[kind])
    if len(text) > MAX_CHARS:
        raise ValidationError("a {kind} fingerprint longer than {max} characters is refused",
                              values={"kind": kind, "max": MAX_CHARS}, hint="Hash a shorter clip.")
    if kind == "vpdq":
        fp = parse_vpdq(text.strip())
        if not fp.frames:
            raise ValidationError("a vPDQ fingerprint without frames matches nothing", hint=FORMATS["vpdq"])
        return fp
    fa = AudioFingerprint.from_hex(text.strip())
    if len(fa) == 0:
        raise ValidationError("an audio fingerprint without landmarks matches nothing", hint=FORMATS["audio"])
    return fa


def canonical(kind: str, text: str) -> tuple[str, str]:
    """(SHA-256 key, canonical text) of a submitted fingerprint."""
    obj = parse(kind, text)
    data = to_vpdq(obj) if kind == "vpdq" else obj.to_hex()
    return hashlib.sha256(data.encode()).hexdigest(), data


def fingerprint_text(kind: str, media: Media) -> str:
    """The file's fingerprint of ``kind`` in its exchange form."""
    if kind == "vpdq":
        return to_vpdq(VideoHasher().fingerprint(media))
    return AudioHasher().fingerprint(media).to_hex()


def media_query(kind: str, media: Media) -> list[Any]:
    """What a file is compared with: its vPDQ fingerprint, or its landmarks at each sub-hop shift."""
    if kind == "vpdq":
        return [VideoHasher().fingerprint(media)]
    hasher = AudioHasher()
    x = hasher.samples(media)
    return [fingerprint_samples(x, k * HOP // hasher.shifts, hasher.density, hasher.fan_out)
            for k in range(hasher.shifts)]


def _vpdq_filtered(fp: VideoFingerprint, quality: int = MIN_QUALITY) -> VideoFingerprint:
    """ThreatExchange's ``quality_filter(dedupe(...))``: exact duplicates and frames below ``quality`` dropped."""
    seen: set[str] = set()
    keep = []
    for f in fp.frames:
        if f.pdq not in seen and f.quality >= quality:
            seen.add(f.pdq)
            keep.append(f)
    return VideoFingerprint(frames=tuple(keep), fps=fp.fps)


def vpdq_shares(query: VideoFingerprint, target: VideoFingerprint, max_distance: int,
                rule: VpdqRule = DEFAULT_RULE) -> tuple[float, float]:
    """(query share, compared share): ``match_VPDQ_hash_brute``'s percentages as fractions (0, 0 when a side has
    no frame left after the quality filter)."""
    q, t = _vpdq_filtered(query, rule.quality), _vpdq_filtered(target, rule.quality)
    if not q.frames or not t.frames:
        return 0.0, 0.0
    m = video_match(q, t, distance=max_distance, threshold=1.0)
    return m.query_share, m.target_share


def compare(kind: str, queries: list[Any], target: Any, max_distance: int,
            rule: VpdqRule = DEFAULT_RULE) -> tuple[int, dict[str, Any]] | None:
    """(distance, details) when the query matches ``target`` under the kind's rule, else None."""
    if kind == "vpdq":
        q_share, t_share = vpdq_shares(queries[0], target, max_distance, rule)
        if q_share < rule.query_share or t_share < rule.compared_share:
            return None
        return round(100 * (1 - q_share)), {"query_share": round(q_share, 3), "target_share": round(t_share, 3)}
    best = max((audio_match(q, target) for q in queries), key=lambda m: (m.votes, m.score))
    if not best.is_match:
        return None
    return 100 - round(100 * best.score), {"votes": best.votes, "offset": round(best.offset, 3)}


def kinds_for(media: Media) -> list[str]:
    """The long kinds a file can be matched by, as their hashers declare: vPDQ and its sound for video, landmarks
    for audio."""
    return [h.kind for h in (VideoHasher, AudioHasher) if media.modality in h.modalities]


__all__ = ["DEFAULT_RULE", "FORMATS", "LONG_KINDS", "VpdqRule", "canonical", "compare", "fingerprint_text",
           "kinds_for", "media_query", "parse", "parse_vpdq", "to_vpdq", "vpdq_shares"]
