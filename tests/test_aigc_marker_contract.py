"""One contract for every codec's AIGC metadata marker (issue 23 item 4): the GB 45438 label logic is written once
(``marking/aigc_marker.py``), so every container must round-trip it, honour ``propagator_key`` and ``propagate``
(GB-11, LM-17) and catch a tampered field (GB-12, LM-22) the same way."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from synthguard.errors import KeyMissingError, MetadataError
from synthguard.marking.aigc import AIGCLabel
from synthguard.marking.aigc_marker import AIGCMetadataMarker
from synthguard.marking.audio.marker import AudioMetadataMarker
from synthguard.marking.image.metadata import MetadataMarker
from synthguard.marking.text.metadata import TextMetadataMarker
from synthguard.marking.video.marker import VideoMetadataMarker
from synthguard.media import Media
from synthguard.testing import check_marker, sample_context, synthetic_media

KEY, PLATFORM_KEY = b"k" * 32, b"p" * 32
Make = Callable[..., AIGCMetadataMarker]
CASES: list[tuple[str, Make]] = [
    *((fmt, MetadataMarker) for fmt in ("PNG", "JPEG", "WEBP")),
    *((fmt, AudioMetadataMarker) for fmt in ("WAV", "MP3", "FLAC", "OGG", "M4A")),
    *((fmt, VideoMetadataMarker) for fmt in ("MP4", "MOV", "MKV", "WEBM")),
    *((fmt, TextMetadataMarker) for fmt in ("TXT", "MD", "DOCX", "XLSX", "PPTX")),
]
IDS = [fmt for fmt, _ in CASES]
_samples: dict[str, Media] = {}


def sample(fmt: str) -> Media:
    """One synthetic sample per format for the module (video and audio encodes are the slow part)."""
    if fmt not in _samples:
        _samples[fmt] = synthetic_media(fmt)
    media = _samples[fmt]
    return Media.from_bytes(media.data, name=media.name)


def rewritten(marker: AIGCMetadataMarker, media: Media, **changes: str) -> Media:
    """``media`` with its one AIGC block replaced by the same label with ``changes``, codes kept (a forger's edit)."""
    label = AIGCLabel(**marker.read(media).data["aigc"]).with_(**changes)
    return Media.from_bytes(marker.codec.write(media, label, None).data, name=media.name)


@pytest.mark.parametrize(("fmt", "make"), CASES, ids=IDS)
def test_round_trip(fmt: str, make: Make) -> None:
    marker = make(KEY)
    assert isinstance(marker, AIGCMetadataMarker) and marker.name == f"{marker.codec.modality.value}.metadata"
    check_marker(marker, fmt)
    clean = sample(fmt)
    ctx = sample_context()
    out = Media.from_bytes(marker.mark(clean, ctx).data, name=clean.name)  # decoded afresh: no carried digest
    assert out.content_sha256 == clean.content_sha256  # metadata only: what ReservedCode1 binds is unchanged
    r = marker.read(out)
    assert r.found and r.valid and r.problems == () and r.data["count"] == 1, r
    assert r.data["integrity"] == "valid" and r.data["propagator_integrity"] == "unknown"
    assert r.data["aigc"]["ContentProducer"] == ctx.producer == r.data["aigc"]["ContentPropagator"]
    assert r.data["aigc"]["ProduceID"] == ctx.content_id == r.data["aigc"]["PropagateID"]
    again = marker.read(marker.mark(out, sample_context("SG01OTHERCONTENTID000000000")))
    assert again.data["count"] == 1 and again.data["aigc"]["ProduceID"] == "SG01OTHERCONTENTID000000000"  # GB-08


@pytest.mark.parametrize(("fmt", "make"), CASES, ids=IDS)
def test_propagator_key_and_propagate(fmt: str, make: Make) -> None:
    out = make(KEY, propagator_key=PLATFORM_KEY).mark(sample(fmt), sample_context())
    assert make(KEY, propagator_key=PLATFORM_KEY).read(out).data["propagator_integrity"] == "valid"
    shared = make(KEY).propagate(out, "PLATFORMCODE", "P-0001", key=PLATFORM_KEY)
    r = make(KEY, propagator_key=PLATFORM_KEY).read(shared)
    assert r.valid and r.data["count"] == 1, r
    assert r.data["integrity"] == "valid" and r.data["propagator_integrity"] == "valid"  # producer fields kept
    assert (r.data["aigc"]["ContentPropagator"], r.data["aigc"]["PropagateID"]) == ("PLATFORMCODE", "P-0001")
    other = make(KEY, propagator_key=b"another platform").read(shared)
    assert other.data["propagator_integrity"] == "invalid" and not other.valid


@pytest.mark.parametrize(("fmt", "make"), CASES, ids=IDS)
def test_propagate_needs_a_label_or_a_tier(fmt: str, make: Make) -> None:
    clean = sample(fmt)
    with pytest.raises(MetadataError, match="no readable AIGC label"):
        make(None).propagate(clean, "PLATFORMCODE", "P-0001")
    r = make(None).read(make(None).propagate(clean, "PLATFORMCODE", "P-0001", label="2"))
    assert r.found and r.data["aigc"]["Label"] == "2" and r.data["aigc"]["ContentProducer"] == ""
    with pytest.raises(KeyMissingError):
        make(None).mark(clean, sample_context())


@pytest.mark.parametrize(("fmt", "make"), CASES, ids=IDS)
def test_tampered_fields_are_invalid(fmt: str, make: Make) -> None:
    marker = make(KEY, propagator_key=PLATFORM_KEY)
    out = marker.mark(sample(fmt), sample_context())
    producer = marker.read(rewritten(marker, out, ProduceID="SG01FORGEDCONTENTID00000000"))
    assert producer.found and not producer.valid and producer.data["integrity"] == "invalid"
    assert any("ReservedCode1 does not verify" in p for p in producer.problems)
    propagator = marker.read(rewritten(marker, out, PropagateID="FORGED"))
    assert propagator.data["integrity"] == "valid" and propagator.data["propagator_integrity"] == "invalid"
    assert not propagator.valid
