"""``image.metadata``: the implicit file-metadata label for images (Labeling Measures Art. 5, LM-10).

:class:`ImageAIGCCodec` writes the GB 45438 Annex E AIGC JSON as ``TC260:AIGC`` in XMP (GB-15) plus the IPTC
DigitalSourceType, into the existing packet (GB-15); reading finds XMP and in-the-wild blocks (EXIF UserComment,
malformed packets) so GB-08 can be checked. The label logic (GB-08..GB-12, LM-17, LM-22) is
:class:`~synthguard.marking.aigc_marker.AIGCMetadataMarker`'s.
"""

from __future__ import annotations

from synthguard.errors import MetadataError, UnsupportedMediaError
from synthguard.limits import DEFAULT_MAX_DEPTH
from synthguard.marking.aigc import AIGCLabel
from synthguard.marking.aigc_marker import AIGCMetadataMarker, Blocks
from synthguard.marking.image import containers
from synthguard.marking.image.xmp import read_properties, scrape_aigc, set_properties
from synthguard.media import Media, Modality


class ImageAIGCCodec:
    """JPEG, PNG and WebP: the AIGC JSON in the XMP packet. ``replace_malformed`` lets the writer discard an
    unparsable XMP packet instead of raising MetadataError; ``max_depth`` bounds the XMP nesting."""

    modality = Modality.IMAGE
    what = "image"

    def __init__(self, *, replace_malformed: bool = False, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self.replace_malformed = replace_malformed
        self.max_depth = max_depth

    def handles(self, media: Media) -> bool:
        return media.format in containers.FORMATS

    def check_writable(self, media: Media) -> None:
        if media.format not in containers.FORMATS:
            raise UnsupportedMediaError(
                "image.metadata supports JPEG, PNG and WebP, not {format}", path=media.name,
                values={"format": media.format},
            )

    def blocks(self, media: Media) -> Blocks:
        found: list[tuple[str, str]] = []
        problems: list[str] = []
        dst = None
        for packet in containers.read_xmp(media.data, media.format):
            try:
                props = read_properties(packet, max_depth=self.max_depth)
            except MetadataError as exc:
                problems.append(f"malformed XMP packet: {exc.message}")
                found += [("xmp(malformed)", v) for v in scrape_aigc(packet)]
                continue
            found += [("xmp", v) for v in props.aigc]
            dst = dst or props.digital_source_type
        found += containers.read_wild_aigc(media.data, media.format)
        return Blocks(found, len(found), dst, problems)

    def write(self, media: Media, label: AIGCLabel, digital_source_type: str | None) -> Media:
        packets = containers.read_xmp(media.data, media.format)
        packet = set_properties(
            packets[0] if packets else None, label.to_json(), digital_source_type,
            replace_malformed=self.replace_malformed, max_depth=self.max_depth,
        )
        return media.replace(containers.write_xmp(media.data, media.format, packet), same_pixels=True)


class MetadataMarker(AIGCMetadataMarker):
    """Marker "image.metadata" for JPEG, PNG and WebP: :class:`AIGCMetadataMarker` over :class:`ImageAIGCCodec`."""

    def __init__(
        self, integrity_key: bytes | None, *, strict_chars: bool = True, propagator_key: bytes | None = None,
        producer: str | None = None, replace_malformed: bool = False, max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        super().__init__(ImageAIGCCodec(replace_malformed=replace_malformed, max_depth=max_depth), integrity_key,
                         strict_chars=strict_chars, propagator_key=propagator_key, producer=producer,
                         max_depth=max_depth)


ImageMetadataMarker = MetadataMarker

__all__ = ["ImageAIGCCodec", "ImageMetadataMarker", "MetadataMarker"]
