"""Long fingerprints in hash banks: vPDQ for video and spectral landmarks for audio (issue 20).

A PDQ or SHA-256 hash fits a 64-character key; a video or audio fingerprint does not.  A bank of kind ``vpdq`` or
``audio`` keeps each entry's fingerprint in ``data`` and its SHA-256 as the key (duplicates, removal).

- ``vpdq``: Meta's vPDQ exchange format, as python-threatexchange's ``VPDQSignal`` reads and writes it: a JSON list
  of ``"<pdq hex>,<quality>,<seconds with 3 decimals>"`` strings (our own ``{"v":1,...}`` JSON is accepted too).
  Matching follows vPDQ's frame-share rule (``match_VPDQ_hash_brute``): both sides deduplicated and stripped of
  frames below quality 50, a frame matches within the bank's distance (31), and the query matches when at least
  80% of its frames do (the stored side's share is reported but not required, as in ThreatExchange, so an excerpt
  of a removed video still matches).  ``distance`` is the share of query frames left unmatched, in percent.
- ``audio``: the landmark fingerprint of :mod:`synthguard.fingerprint.audio` (hex); a query is hashed at the
  hasher's sub-hop shifts once and compared with each entry by offset votes.  ``distance`` is
  ``100 - round(100 * score)``.
"""

from __future__ import annotations

import hashlib
import json
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
MAX_CHARS = 8_000_000  # a submitted fingerprint: ~3 hours of vPDQ at 1 fps, or ~7 hours of audio landmarks
FORMATS = {"vpdq": 'Meta\'s vPDQ JSON: ["<64 hex pdq>,<quality>,<seconds>", ...] (ThreatExchange VPDQSignal)',
           "audio": "the hex of an audio landmark fingerprint (`synthguard hash FILE --json`, key audio)"}


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


def _vpdq_filtered(fp: VideoFingerprint) -> VideoFingerprint:
    seen: set[str] = set()
    keep = []
    for f in fp.frames:
        if f.pdq not in seen and f.quality >= MIN_QUALITY:
            seen.add(f.pdq)
            keep.append(f)
    return VideoFingerprint(frames=tuple(keep), fps=fp.fps)


def compare(kind: str, queries: list[Any], target: Any, max_distance: int) -> tuple[int, dict[str, Any]] | None:
    """(distance, details) when the query matches ``target`` under the kind's rule, else None."""
    if kind == "vpdq":
        q, t = _vpdq_filtered(queries[0]), _vpdq_filtered(target)
        if not q.frames or not t.frames:
            return None
        m = video_match(q, t, distance=max_distance, threshold=1.0)
        if m.query_share < VPDQ_QUERY_SHARE:
            return None
        return round(100 * (1 - m.query_share)), {"query_share": round(m.query_share, 3),
                                                  "target_share": round(m.target_share, 3)}
    best = max((audio_match(q, target) for q in queries), key=lambda m: (m.votes, m.score))
    if not best.is_match:
        return None
    return 100 - round(100 * best.score), {"votes": best.votes, "offset": round(best.offset, 3)}


def kinds_for(media: Media) -> list[str]:
    """The long kinds a file can be matched by, as their hashers declare: vPDQ and its sound for video, landmarks
    for audio."""
    return [h.kind for h in (VideoHasher, AudioHasher) if media.modality in h.modalities]


__all__ = ["FORMATS", "LONG_KINDS", "canonical", "compare", "fingerprint_text", "kinds_for", "media_query",
           "parse", "parse_vpdq", "to_vpdq"]
