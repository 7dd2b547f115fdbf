"""``image.metadata``: the implicit file-metadata label for images (Labeling Measures Art. 5, LM-10).

Writes the GB 45438 Annex E AIGC JSON as ``TC260:AIGC`` in XMP (GB-15) plus the IPTC DigitalSourceType, into the
existing packet (GB-15), keeping exactly one AIGC block (GB-08). On first write the propagator fields repeat the
producer's (GB-11); ``ReservedCode1`` is a keyed integrity code over the producer fields and the pixel hash
(GB-12). Platforms call :meth:`MetadataMarker.propagate` to write their own fields (LM-17). :meth:`read` finds
XMP and in-the-wild blocks, counts them and verifies integrity (LM-13, LM-22).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthguard.errors import CorruptMediaError, KeyMissingError, MetadataError, UnsupportedMediaError, ValidationError
from synthguard.limits import DEFAULT_MAX_DEPTH
from synthguard.marking import aigc, containers
from synthguard.marking.aigc import (
    AIGCLabel,
    char_problems,
    integrity_code,
    propagator_integrity_code,
    verify_codes,
)
from synthguard.marking.base import LabelContext, Reading
from synthguard.marking.xmp import DST_TRAINED, read_properties, scrape_aigc, set_properties
from synthguard.media import Media, Modality


@dataclass(frozen=True)
class _Scan:
    blocks: list[tuple[str, str]]  # (location, JSON text)
    digital_source_type: str | None
    problems: list[str]


class MetadataMarker:
    """Marker "image.metadata" for JPEG, PNG and WebP.

    ``integrity_key`` signs and verifies ``ReservedCode1``; ``propagator_key`` (optional) does the same for
    ``ReservedCode2``. ``producer``, when given, limits verification to labels naming that ContentProducer
    (others read as integrity "unknown"). ``replace_malformed`` lets the writer discard an unparsable XMP
    packet instead of raising MetadataError.
    """

    name = "image.metadata"
    modalities = frozenset({Modality.IMAGE})

    def __init__(
        self, integrity_key: bytes | None, *, strict_chars: bool = True, propagator_key: bytes | None = None,
        producer: str | None = None, replace_malformed: bool = False, max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self.integrity_key = aigc.check_integrity_key(integrity_key)
        self.strict_chars = strict_chars
        self.propagator_key = propagator_key
        self.producer = producer
        self.replace_malformed = replace_malformed
        self.max_depth = max_depth  # nesting limit for AIGC JSON (Settings.max_metadata_depth)

    # --- writing ----------------------------------------------------------------------------
    def mark(self, media: Media, ctx: LabelContext) -> Media:
        """Label ``media`` as produced by ``ctx.producer`` under ``ctx.content_id`` (LM-10, GB-11, GB-12)."""
        self._require(media)
        label = AIGCLabel(
            Label=ctx.label, ContentProducer=ctx.producer, ProduceID=ctx.content_id,
            ContentPropagator=ctx.propagator or ctx.producer, PropagateID=ctx.propagate_id or ctx.content_id,
        )
        self._check_chars(label)
        pixels = media.pixel_sha256
        if self.integrity_key is None:
            raise KeyMissingError("no integrity key: this marker can only read labels (GB-12)")
        label = label.with_(ReservedCode1=integrity_code(self.integrity_key, label, pixels))
        if self.propagator_key:
            label = label.with_(ReservedCode2=propagator_integrity_code(self.propagator_key, label, pixels))
        dst = ctx.extra.get("digital_source_type", DST_TRAINED if label.Label == "1" else None)
        return self._write(media, label, dst)

    def propagate(
        self, media: Media, propagator_code: str, propagate_id: str, key: bytes | None = None,
        *, label: str | None = None,
    ) -> Media:
        """Overwrite only the propagator fields (GB-11, LM-17), keeping producer fields and ReservedCode1.

        ``key`` signs ``ReservedCode2`` (else it is emptied). Without an existing label, ``label`` ("1"/"2"/"3"
        per the platform's tier, LM-13..LM-15) is required and a new block with empty producer fields is made.
        """
        self._require(media)
        scan = self._scan(media)
        existing = next((lab for _, lab in self._parsed(scan.blocks, []) if lab is not None), None)
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
            new = new.with_(ReservedCode2=propagator_integrity_code(key, new, media.pixel_sha256))
        dst = DST_TRAINED if scan.digital_source_type is None and new.Label == "1" else None
        return self._write(media, new, dst)

    def _require(self, media: Media) -> None:
        if media.format not in containers.FORMATS:
            raise UnsupportedMediaError(
                "image.metadata supports JPEG, PNG and WebP, not {format}", path=media.name,
                values={"format": media.format},
            )

    def _check_chars(self, label: AIGCLabel) -> None:
        problems = char_problems(label, strict=self.strict_chars)
        if problems:
            raise ValidationError(
                "; ".join(problems),
                hint="AIGC values must be single-byte printable codes (GB-10): use provider codes, not names.",
            )

    def _write(self, media: Media, label: AIGCLabel, dst: str | None) -> Media:
        packets = containers.read_xmp(media.data, media.format)
        packet = set_properties(
            packets[0] if packets else None, label.to_json(), dst, replace_malformed=self.replace_malformed,
            max_depth=self.max_depth,
        )
        out = media.replace(containers.write_xmp(media.data, media.format, packet), same_pixels=True)
        back = self._scan(out).blocks  # always read back (GB-08: exactly one block, ours)
        if len(back) != 1 or back[0][1] != label.to_json():
            raise MetadataError("read-back after writing found {count} AIGC blocks", path=media.name,
                                values={"count": len(back)})
        return out

    # --- reading ----------------------------------------------------------------------------
    def _scan(self, media: Media) -> _Scan:
        blocks: list[tuple[str, str]] = []
        problems: list[str] = []
        dst = None
        for packet in containers.read_xmp(media.data, media.format):
            try:
                props = read_properties(packet, max_depth=self.max_depth)
            except MetadataError as exc:
                problems.append(f"malformed XMP packet: {exc.message}")
                blocks += [("xmp(malformed)", v) for v in scrape_aigc(packet)]
                continue
            blocks += [("xmp", v) for v in props.aigc]
            dst = dst or props.digital_source_type
        blocks += containers.read_wild_aigc(media.data, media.format)
        return _Scan(blocks, dst, problems)

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
        """Find AIGC blocks (XMP and in-the-wild), count them (GB-08), validate (GB-09, GB-10), verify (GB-12)."""
        data: dict[str, Any] = {"aigc": None, "digital_source_type": None, "count": 0, "integrity": "unknown",
                                "propagator_integrity": "unknown", "locations": []}
        if media.format not in containers.FORMATS:
            return Reading(self.name, found=False, data=data)
        try:
            scan = self._scan(media)
        except (CorruptMediaError, MetadataError) as exc:
            return Reading(self.name, found=False, data=data, valid=False, problems=(exc.message,))
        problems = list(scan.problems)
        data.update(digital_source_type=scan.digital_source_type, count=len(scan.blocks),
                    locations=[where for where, _ in scan.blocks])
        if not scan.blocks:
            return Reading(self.name, found=False, data=data, valid=False if problems else None,
                           problems=tuple(problems))
        if len(scan.blocks) > 1:
            problems.append(f"{len(scan.blocks)} AIGC blocks found; a file must keep only one (GB-08)")
        label = next((lab for _, lab in self._parsed(scan.blocks, problems) if lab is not None), None)
        if label is not None:
            data["aigc"] = label.to_dict()
            problems += char_problems(label, strict=self.strict_chars)
            self._verify(media, label, data, problems)
        return Reading(self.name, found=True, data=data, valid=not problems, problems=tuple(problems))

    def _verify(self, media: Media, label: AIGCLabel, data: dict[str, Any], problems: list[str]) -> None:
        verify_codes(label, lambda: media.content_sha256, integrity_key=self.integrity_key,
                     propagator_key=self.propagator_key, producer=self.producer, what="image", data=data,
                     problems=problems)

