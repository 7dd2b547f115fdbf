"""The image watermark as a Marker: embeds ``ctx.watermark_payload``, reads it back (LM-11, GB-13)."""

from __future__ import annotations

from synthguard.codecs.image import encode_like
from synthguard.errors import WatermarkError
from synthguard.marking.base import LabelContext, Reading
from synthguard.marking.watermark.federated import FederatedWatermarker, derive
from synthguard.marking.watermark.image import ImageWatermarker
from synthguard.media import Media, Modality


class WatermarkMarker:
    name = "image.watermark"
    modalities = frozenset({Modality.IMAGE})

    def __init__(self, key: bytes, strength: float = 1.0, jpeg_quality: int = 92, mode: str = "private"):
        """``mode`` (settings.watermark_mode): ``private`` marks with the scheme key's own pattern; ``shared`` and
        ``public`` with the federated scheme (common sync pattern, payload keyed by the detection key derived from
        ``key`` for that mode; ``federated.py``, docs/federation.md)."""
        self.mode = mode
        if mode == "private":
            self.watermarker = ImageWatermarker(key, strength)
        else:
            self.watermarker = FederatedWatermarker(derive(key, mode), strength)
        self.jpeg_quality = jpeg_quality

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        media.require_image()
        if ctx.watermark_payload is None:
            raise WatermarkError("no watermark payload in the label context")
        out = self.watermarker.embed(media.image(), ctx.watermark_payload)
        return media.replace(encode_like(out, media, quality=self.jpeg_quality))

    def read(self, media: Media, search: str = "full") -> Reading:
        media.require_image()
        try:
            result = self.watermarker.detect(media.image(), search=search)
        except WatermarkError as exc:  # e.g. too small to carry a mark: absent, with the reason
            return Reading(self.name, False, {"detected": False, "payload": None}, None, (exc.message,))
        return Reading(self.name, result.detected, result.to_dict() | {"search": search},
                       valid=result.payload is not None if result.detected else None)
