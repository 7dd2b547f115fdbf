"""The public contract checks every plugin must pass, plus synthetic media for plugin authors' tests.

One check per plugin group (docs/plugins.md): :func:`check_marker`, :func:`check_detector`, :func:`check_hasher`,
:func:`check_index` and :func:`check_identity_verifier`. The plugin registry (:mod:`synthguard.plugins`) runs them on
every third-party plugin the first time it is built and refuses one that fails; use them from a plugin's own test
suite too::

    from synthguard.testing import check_marker
    def test_contract(): check_marker(MyMarker(...))

A failed check raises ``AssertionError`` with the reason (explicit raises, so ``python -O`` keeps them).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import numpy as np
from PIL import Image

from synthguard.detection import Detection, Detector
from synthguard.fingerprint import Hash, Hasher
from synthguard.fingerprint.index import Index
from synthguard.identity import IdentityVerifier
from synthguard.marking.base import LabelContext, Marker, Reading
from synthguard.media import Media, Modality


def synthetic_image(fmt: str = "PNG", size: tuple[int, int] = (640, 400), seed: int = 7) -> Media:
    """Gradients plus noise: enough texture for watermarks, deterministic for tests."""
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h) + 64], axis=-1)
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, fmt)
    return Media.from_bytes(buf.getvalue(), name=f"synthetic.{fmt.lower()}")


def sample_context(content_id: str = "SG01TESTCONTENTID0000000000") -> LabelContext:
    return LabelContext(content_id=content_id, producer="TESTPRODUCER", created=datetime.now(UTC),
                        watermark_payload=bytes.fromhex("0123456789abcdef"), ledger_ref=f"test#{content_id}")


IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")


def synthetic_media(fmt: str = "PNG") -> Media:
    """A small deterministic sample of any modality, by format name ("PNG", "WAV", "MP4", "MD", ...).

    Images are made here; audio, video and text samples come from their modules' ``synthetic_*`` makers."""
    f = fmt.upper()
    if f in IMAGE_FORMATS:
        return synthetic_image(f)
    from importlib import import_module

    for module, maker in (("synthguard.marking.audio.io", "synthetic_audio"),
                          ("synthguard.marking.video.io", "synthetic_video"),
                          ("synthguard.marking.text.io", "synthetic_text")):
        try:
            mod = import_module(module)
        except ImportError:
            continue
        formats = getattr(mod, "SYNTHETIC_FORMATS", ())
        if f in formats:
            return getattr(mod, maker)(f)  # type: ignore[no-any-return]
    raise ValueError(f"no synthetic sample for format {fmt!r}")


# The sample format a check uses for each modality (the first modality a plugin declares, in this order).
SAMPLE_FORMATS = {Modality.IMAGE: "PNG", Modality.AUDIO: "WAV", Modality.VIDEO: "MP4", Modality.TEXT: "TXT"}
HASH_KIND = re.compile(r"^[a-z0-9][a-z0-9_-]{0,15}$")  # stored in 16-character columns (fingerprints, banks)


def _require(condition: object, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _modalities(plugin: Any) -> list[Modality]:
    mods = getattr(plugin, "modalities", None)
    if not (isinstance(mods, frozenset) and mods and all(isinstance(m, Modality) for m in mods)):
        raise AssertionError(f"modalities must be a non-empty frozenset of Modality, got {mods!r}")
    return [m for m in SAMPLE_FORMATS if m in mods]


def sample_format(plugin: Any) -> str:
    """The synthetic sample format a plugin is checked on: PNG for image plugins, else WAV, MP4 or TXT."""
    return SAMPLE_FORMATS[_modalities(plugin)[0]]


def check_marker(marker: Marker, fmt: str | None = None) -> None:
    """The Marker contract: named modality.technique; mark returns new Media of the same format; read finds
    the mark on marked media and returns a not-found Reading (never raises) on clean media.

    ``fmt``: the sample format (default: PNG for image markers, WAV, MP4 or TXT for the others)."""
    _require(isinstance(marker, Marker), f"{type(marker).__name__} does not implement the Marker protocol")
    modality, _, technique = str(marker.name).partition(".")
    _require(technique and modality in {m.value for m in Modality} and Modality(modality) in marker.modalities,
             f"bad name {marker.name!r}: use modality.technique with a modality the marker declares")
    clean = synthetic_media(fmt or sample_format(marker))
    before = marker.read(clean)
    _require(isinstance(before, Reading) and before.marker == marker.name and not before.found,
             f"{marker.name}: read on clean media must return a not-found Reading named {marker.name!r}, "
             f"got {before!r}")
    marked = marker.mark(clean, sample_context())
    _require(isinstance(marked, Media) and marked is not clean and marked.format == clean.format,
             f"{marker.name}: mark must return new Media of the same format ({clean.format})")
    after = marker.read(marked)
    _require(isinstance(after, Reading) and after.found,
             f"{marker.name} cannot read back its own mark: {getattr(after, 'problems', after)}")


def check_detector(detector: Detector, media: Media | None = None) -> None:
    """The Detector contract: a name, the modalities it reads, and ``detect`` returning a list of Detection on
    clean media without raising and without claiming a label the file does not carry (LM-13)."""
    _require(isinstance(detector, Detector), f"{type(detector).__name__} does not implement the Detector protocol")
    _require(isinstance(detector.name, str) and detector.name, "a detector needs a non-empty name")
    clean = media if media is not None else synthetic_media(sample_format(detector))
    found = detector.detect(clean)
    _require(isinstance(found, list) and all(isinstance(d, Detection) for d in found),
             f"{detector.name}: detect must return a list of Detection, got {type(found).__name__}")
    labels = [d for d in found if d.kind == "label"]
    _require(not labels, f"{detector.name} reports a label on clean media: {labels[:1]}")


def check_hasher(hasher: Hasher, media: Media | None = None) -> None:
    """The Hasher contract: a short lowercase ``kind`` (stored in 16-character columns), the modalities it hashes,
    a non-negative ``match_threshold``; ``hash`` is deterministic and returns a Hash of its kind; ``distance`` of
    a hash to itself is 0 and within the threshold."""
    _require(isinstance(hasher, Hasher), f"{type(hasher).__name__} does not implement the Hasher protocol")
    _require(isinstance(hasher.kind, str) and HASH_KIND.fullmatch(hasher.kind),
             f"bad hash kind {hasher.kind!r}: 1-16 lowercase letters, digits, '_' or '-'")
    threshold = hasher.match_threshold
    _require(isinstance(threshold, int) and not isinstance(threshold, bool) and threshold >= 0,
             f"{hasher.kind}: match_threshold must be a non-negative int, got {threshold!r}")
    sample = media if media is not None else synthetic_media(sample_format(hasher))
    h = hasher.hash(sample)
    _require(isinstance(h, Hash) and h.kind == hasher.kind and isinstance(h.value, str) and h.value,
             f"{hasher.kind}: hash must return a Hash of kind {hasher.kind!r} with a non-empty value, got {h!r}")
    _require(h.quality is None or (isinstance(h.quality, int) and 0 <= h.quality <= 100),
             f"{hasher.kind}: quality must be None or 0..100, got {h.quality!r}")
    again = hasher.hash(sample)
    _require(again.value == h.value, f"{hasher.kind}: hashing the same file twice gave different values")
    d = hasher.distance(h.value, h.value)
    _require(isinstance(d, int) and not isinstance(d, bool) and d == 0,
             f"{hasher.kind}: the distance of a hash to itself must be 0, got {d!r}")


def _brute(rows: dict[int, bytes], query: bytes, radius: int) -> list[tuple[int, int]]:
    q = int.from_bytes(query, "big")
    hits = [(i, (int.from_bytes(h, "big") ^ q).bit_count()) for i, h in rows.items()]
    return sorted(((i, d) for i, d in hits if d <= radius), key=lambda p: (p[1], p[0]))


def check_index(index: Index) -> None:
    """The Index contract: an exact Hamming-radius search over 256-bit hashes giving the brute-force answer
    (every ``(id, distance)`` within the radius, closest first, ties by id), before and after removals."""
    _require(isinstance(index, Index), f"{type(index).__name__} does not implement the Index protocol")
    _require(len(index) == 0 and index.query("00" * 32, 31) == [], "a new index must be empty")
    rng = np.random.default_rng(23)
    base = rng.integers(0, 256, size=(300, 32), dtype=np.uint8)
    near = []
    for i, d in enumerate((0, 1, 5, 17, 31, 32, 40)):  # planted near-duplicates of the first rows
        bits = np.unpackbits(base[i].copy())
        bits[rng.choice(256, size=d, replace=False)] ^= 1
        near.append(np.packbits(bits))
    data = np.vstack([base, np.array(near)])
    ids = np.arange(len(data), dtype=np.int64) * 7 + 3
    index.add(ids[:150], data[:150])
    index.add(ids[150:].tolist(), [bytes(r).hex() for r in data[150:]])
    _require(len(index) == len(data), f"len is {len(index)} after adding {len(data)} hashes")
    rows = {int(i): bytes(r) for i, r in zip(ids, data, strict=True)}
    queries = [bytes(base[i]) for i in range(7)] + [bytes(rng.integers(0, 256, 32, dtype=np.uint8))]
    for radius in (0, 31, 40):
        for q in queries:
            got, want = index.query(q.hex(), radius), _brute(rows, q, radius)
            _require(got == want, f"query at radius {radius} gave {got[:4]}, expected {want[:4]}")
    gone = int(ids[0])
    _require(index.remove(gone) is True and index.remove(gone) is False, "remove must return True, then False")
    del rows[gone]
    _require(index.query(queries[0].hex(), 40) == _brute(rows, queries[0], 40), "a removed id is still found")


def check_identity_verifier(verifier: IdentityVerifier) -> None:
    """The IdentityVerifier contract (structure only: a verifier may call a remote service, so it is not run):
    a non-empty ``name`` recorded as the verifier of each result, and a callable ``verify``."""
    _require(isinstance(verifier, IdentityVerifier),
             f"{type(verifier).__name__} does not implement the IdentityVerifier protocol")
    _require(isinstance(verifier.name, str) and verifier.name.strip(), "an identity verifier needs a non-empty name")
    _require(callable(getattr(verifier, "verify", None)), f"{verifier.name}: verify is not callable")


__all__ = ["IMAGE_FORMATS", "SAMPLE_FORMATS", "check_detector", "check_hasher", "check_identity_verifier",
           "check_index", "check_marker", "sample_context", "sample_format", "synthetic_image", "synthetic_media"]
