"""``<modality>.metadata``: the implicit GB 45438 Annex E label, written once for every container (LM-10, issue 23).

:class:`AIGCMetadataMarker` holds the label logic -- building the :class:`~synthguard.marking.aigc.AIGCLabel`, the
propagator fields (GB-11, LM-17), ``ReservedCode1``/``ReservedCode2`` over the content digest (GB-12), exactly one
block (GB-08), character rules (GB-10), verification (LM-22) -- and is parameterised by an :class:`AIGCCodec`, the
small per-container part that finds the raw AIGC blocks in a file and replaces them with one. The codecs live
with their modality: ``image/metadata.py``, ``audio/marker.py``, ``video/marker.py``, ``text/metadata.py`` (the
container walkers they call are ``image/containers``, ``audio/metadata.py``, ``video/metadata.py``, ``text/*``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from synthguard.errors import KeyMissingError, MetadataError, SynthGuardError, ValidationError
from synthguard.limits import DEFAULT_MAX_DEPTH
from synthguard.marking import aigc
from synthguard.marking.aigc import (
    DST_TRAINED,
    AIGCLabel,
    char_problems,
    integrity_code,
    propagator_integrity_code,
    verify_codes,
)
from synthguard.marking.base import LabelContext, Reading
from synthguard.media import Media, Modality

CHARS_HINT = "AIGC values must be single-byte printable codes (GB-10): use provider codes, not names."


@dataclass(frozen=True)
class Blocks:
    """What a codec found in a file: (location, JSON text) of each readable AIGC block, how many blocks there are
    (GB-08; more than ``found`` when a codec counts a block it cannot hand over), the IPTC digital source type
    where the container has one, and problems met while reading."""

    found: list[tuple[str, str]]
    count: int
    digital_source_type: str | None = None
    problems: list[str] = field(default_factory=list)


class AIGCCodec(Protocol):
    """Where one modality's containers keep the AIGC JSON. ``what`` names the content in messages ("image")."""

    modality: Modality
    what: str

    def handles(self, media: Media) -> bool:
        """True when ``read`` should look in ``media`` (else the reading is "not found", no problems)."""
        ...

    def check_writable(self, media: Media) -> None:
        """Raise when ``media`` must not be labeled (unsupported format, too long, macros...)."""
        ...

    def blocks(self, media: Media) -> Blocks:
        """Every AIGC block in ``media``; raises a SynthGuardError on a file it cannot read."""
        ...

    def write(self, media: Media, label: AIGCLabel, digital_source_type: str | None) -> Media:
        """``media`` with every AIGC block removed and exactly ``label`` added; the content digest unchanged."""
        ...


class AIGCMetadataMarker:
    """Marker "<modality>.metadata" for the containers of ``codec``.

    ``integrity_key`` signs and verifies ``ReservedCode1`` (None: read only); ``propagator_key`` (optional) does
    the same for ``ReservedCode2``. ``producer``, when given, limits verification to labels naming that
    ContentProducer (others read as integrity "unknown"). ``max_depth`` bounds the nesting of a parsed AIGC value.
    """

    modalities: frozenset[Modality]

    def __init__(self, codec: AIGCCodec, integrity_key: bytes | None, *, strict_chars: bool = True,
                 propagator_key: bytes | None = None, producer: str | None = None,
                 max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self.codec = codec
        self.name = f"{codec.modality.value}.metadata"
        self.modalities = frozenset({codec.modality})
        self.integrity_key = aigc.check_integrity_key(integrity_key)
        self.strict_chars = strict_chars
        self.propagator_key = propagator_key
        self.producer = producer
        self.max_depth = max_depth

    # --- writing ------------------------------------------------------------------------------
    def mark(self, media: Media, ctx: LabelContext) -> Media:
        """Label ``media`` as produced by ``ctx.producer`` under ``ctx.content_id`` (LM-10, GB-11, GB-12)."""
        self.codec.check_writable(media)
        if self.integrity_key is None:
            raise KeyMissingError("no integrity key: this marker can only read labels (GB-12)")
        label = AIGCLabel(
            Label=ctx.label, ContentProducer=ctx.producer, ProduceID=ctx.content_id,
            ContentPropagator=ctx.propagator or ctx.producer, PropagateID=ctx.propagate_id or ctx.content_id,
        )
        self._check_chars(label)
        digest = media.content_sha256
        label = label.with_(ReservedCode1=integrity_code(self.integrity_key, label, digest))
        if self.propagator_key:
            label = label.with_(ReservedCode2=propagator_integrity_code(self.propagator_key, label, digest))
        dst = ctx.extra.get("digital_source_type", DST_TRAINED if label.Label == "1" else None)
        return self._write(media, label, dst)

    def propagate(self, media: Media, propagator_code: str, propagate_id: str, key: bytes | None = None,
                  *, label: str | None = None) -> Media:
        """Overwrite only the propagator fields (GB-11, LM-17), keeping producer fields and ReservedCode1.

        ``key`` signs ``ReservedCode2`` (else it is emptied). Without an existing label, ``label`` ("1"/"2"/"3"
        per the platform's tier, LM-13..LM-15) is required and a new block with empty producer fields is made.
        """
        self.codec.check_writable(media)
        found = self.codec.blocks(media)
        existing = next((lab for _, lab in self._parsed(found.found, []) if lab is not None), None)
        if existing is None:
            if label is None:
                raise MetadataError(
                    "the file has no readable AIGC label to propagate",
                    hint="Pass label='1'/'2'/'3' (the platform's tier) to create one (LM-17).", path=media.name,
                )
            existing = AIGCLabel(Label=label, ContentProducer="", ProduceID="")
        new = existing.with_(ContentPropagator=propagator_code, PropagateID=propagate_id, ReservedCode2="")
        self._check_chars(new)
        if key:
            new = new.with_(ReservedCode2=propagator_integrity_code(key, new, media.content_sha256))
        dst = DST_TRAINED if found.digital_source_type is None and new.Label == "1" else None
        return self._write(media, new, dst)

    def _check_chars(self, label: AIGCLabel) -> None:
        problems = char_problems(label, strict=self.strict_chars)
        if problems:
            raise ValidationError("; ".join(problems), hint=CHARS_HINT)

    def _write(self, media: Media, label: AIGCLabel, dst: str | None) -> Media:
        out = self.codec.write(media, label, dst)
        back = self.codec.blocks(out)  # always read back (GB-08: exactly one block, ours)
        if back.count != 1 or len(back.found) != 1 or not self._same(back.found[0][1], label):
            raise MetadataError("read-back after writing found {count} AIGC blocks", path=media.name,
                                values={"count": back.count})
        return out

    def _same(self, text: str, label: AIGCLabel) -> bool:
        """The block holds ``label``: verbatim, or (front matter re-serialises it) as the same parsed value."""
        if text == label.to_json():
            return True
        try:
            return AIGCLabel.parse(text, max_depth=self.max_depth) == label
        except MetadataError:
            return False

    # --- reading ------------------------------------------------------------------------------
    def _parsed(self, blocks: list[tuple[str, str]], problems: list[str]) -> list[tuple[str, AIGCLabel | None]]:
        out: list[tuple[str, AIGCLabel | None]] = []
        for where, text in blocks:
            try:
                out.append((where, AIGCLabel.parse(text, max_depth=self.max_depth)))
                continue
            except MetadataError as exc:
                problems.append(f"{where}: {exc.message}")
            try:  # still report what a lenient reader sees (LM-13 display)
                out.append((where, AIGCLabel.parse(text, strict=False, max_depth=self.max_depth)))
            except MetadataError:
                out.append((where, None))
        return out

    def read(self, media: Media) -> Reading:
        """Find AIGC blocks, count them (GB-08), validate (GB-09, GB-10), verify both reserved codes (GB-12)."""
        data: dict[str, Any] = {"aigc": None, "digital_source_type": None, "count": 0, "integrity": "unknown",
                                "propagator_integrity": "unknown", "locations": []}
        if not self.codec.handles(media):
            return Reading(self.name, found=False, data=data)
        try:
            found = self.codec.blocks(media)
        except SynthGuardError as exc:
            return Reading(self.name, found=False, data=data, valid=False, problems=(exc.message,))
        problems = list(found.problems)
        data.update(digital_source_type=found.digital_source_type, count=found.count,
                    locations=[where for where, _ in found.found])
        if not found.count:
            return Reading(self.name, found=False, data=data, valid=False if problems else None,
                           problems=tuple(problems))
        if found.count > 1:
            problems.append(f"{found.count} AIGC blocks found; a file must keep only one (GB-08)")
        label = next((lab for _, lab in self._parsed(found.found, problems) if lab is not None), None)
        if label is not None:
            data["aigc"] = label.to_dict()
            problems += char_problems(label, strict=self.strict_chars)
            verify_codes(label, lambda: media.content_sha256, integrity_key=self.integrity_key,
                         propagator_key=self.propagator_key, producer=self.producer, what=self.codec.what,
                         data=data, problems=problems)
        return Reading(self.name, found=True, data=data, valid=not problems, problems=tuple(problems))


class DurationLimitedMarker(AIGCMetadataMarker):
    """An AIGCMetadataMarker whose codec refuses to label media longer than ``max_seconds`` (audio, video):
    subclasses name the codec (built from ``max_seconds``) and the default limit."""

    codec_type: ClassVar[Callable[[float], AIGCCodec]]
    default_max_seconds: ClassVar[float]

    def __init__(self, integrity_key: bytes | None, *, strict_chars: bool = True, max_seconds: float | None = None,
                 propagator_key: bytes | None = None, producer: str | None = None) -> None:
        self.max_seconds = self.default_max_seconds if max_seconds is None else max_seconds
        super().__init__(type(self).codec_type(self.max_seconds), integrity_key, strict_chars=strict_chars,
                         propagator_key=propagator_key, producer=producer)


__all__ = ["CHARS_HINT", "AIGCCodec", "AIGCMetadataMarker", "Blocks", "DurationLimitedMarker"]
