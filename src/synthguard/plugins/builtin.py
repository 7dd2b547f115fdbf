"""The built-in plugins of every group, as ``factory(ctx) -> T`` like any third-party plugin.

Markers that need optional heavy libraries (the watermark: OpenCV; C2PA: c2pa; audio/video/text: their decoders and
office formats) are imported by name on first use, so the core imports without them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeGuard

from synthguard.detection import Detector
from synthguard.detection.federated import Covered, FederatedWatermarkDetector, Resolver
from synthguard.detection.marks import AIGCDetector, C2PADetector, DwtDctDetector, IPTCDetector, WatermarkDetector
from synthguard.errors import KeyMissingError
from synthguard.fingerprint import Hasher
from synthguard.fingerprint.hashers import BUILTIN as BUILTIN_HASHERS
from synthguard.fingerprint.index import Index, make_index
from synthguard.identity import IdentityVerifier, OperatorAttestedVerifier
from synthguard.marking.base import Marker
from synthguard.marking.metadata import MetadataMarker
from synthguard.marking.visible import VisibleLabelMarker
from synthguard.media import Modality

if TYPE_CHECKING:
    from synthguard.plugins.registry import Factory, PluginContext


def _load(module: str, cls: str) -> Any:
    """A class of a module that needs optional heavy libraries, imported on first use."""
    return getattr(import_module(module), cls)


# --- markers (synthguard.markers) ------------------------------------------------------------------
def _visible(ctx: PluginContext) -> Marker:
    s = ctx.settings
    return VisibleLabelMarker(s.label_text, s.label_position, s.label_height_ratio, s.font_path, s.jpeg_quality)


def _watermark(ctx: PluginContext) -> Marker:
    marker: Marker = _load("synthguard.marking.watermark.marker", "WatermarkMarker")(
        ctx.keys.watermark, ctx.settings.watermark_strength, ctx.settings.jpeg_quality, ctx.settings.watermark_mode)
    return marker


def _metadata(ctx: PluginContext) -> Marker:
    try:
        key: bytes | None = ctx.keys.integrity
    except KeyMissingError:  # a platform without the provider's key still reads labels (integrity "unknown")
        key = None
    return MetadataMarker(key, max_depth=ctx.settings.max_metadata_depth)


def _c2pa(ctx: PluginContext) -> Marker:
    k = ctx.keys
    marker: Marker = _load(C2PA_MODULE, "C2PAMarker")(k.c2pa_chain, k.c2pa_key, k.c2pa_anchors, ctx.settings.tsa_url)
    return marker


C2PA_MODULE = "synthguard.marking.c2pa"


def _from_settings(module: str, cls: str) -> Factory[Marker]:
    """A marker of another modality: ``cls.from_settings(settings, keys)`` from ``module``, imported on first use."""

    def factory(ctx: PluginContext) -> Marker:
        made: Marker = _load(module, cls).from_settings(ctx.settings, ctx.keys)
        return made

    factory.__name__ = f"_{cls}"
    return factory


_AUDIO, _VIDEO, _TEXT = "synthguard.marking.audio.marker", "synthguard.marking.video.marker", \
    "synthguard.marking.text.marker"
# Labeling order lives in inspection.LABEL_ORDERS: explicit -> watermark -> metadata -> C2PA (binds the final bytes).
MARKERS: dict[str, Factory[Marker]] = {
    "image.visible": _visible,
    "image.watermark": _watermark,
    "image.metadata": _metadata,
    "image.c2pa": _c2pa,
    "audio.notice": _from_settings(_AUDIO, "AudioNoticeMarker"),
    "audio.watermark": _from_settings(_AUDIO, "AudioWatermarkMarker"),
    "audio.metadata": _from_settings(_AUDIO, "AudioMetadataMarker"),
    "video.visible": _from_settings(_VIDEO, "VideoVisibleMarker"),
    "video.watermark": _from_settings(_VIDEO, "VideoWatermarkMarker"),
    "video.metadata": _from_settings(_VIDEO, "VideoMetadataMarker"),
    "video.c2pa": _from_settings(_VIDEO, "VideoC2PAMarker"),
    "text.notice": _from_settings(_TEXT, "TextNoticeMarker"),
    "text.metadata": _from_settings(_TEXT, "TextMetadataMarker"),
}


def legacy_marker(factory: Any) -> Factory[Marker]:
    """Adapter for the entry-point group ``synthguard`` (documented before issue 23): ``(settings, keys) -> Marker``."""

    def adapted(ctx: PluginContext) -> Marker:
        made: Marker = factory(ctx.settings, ctx.keys)
        return made

    adapted.__name__ = getattr(factory, "__name__", "legacy_marker")
    return adapted


# --- detectors (synthguard.detectors) --------------------------------------------------------------
def _aigc_of(modality: str) -> Factory[Detector]:
    def factory(ctx: PluginContext) -> Detector:
        marker = ctx.marker(f"{modality}.metadata")
        return AIGCDetector(marker) if modality == "image" else AIGCDetector(marker, name=f"{modality}.aigc")

    return factory


def _iptc(ctx: PluginContext) -> Detector:
    return IPTCDetector(ctx.marker("image.metadata"))


def _c2pa_of(modality: Modality) -> Factory[Detector]:
    def factory(ctx: PluginContext) -> Detector:
        anchors = ctx.keys.c2pa_anchors
        return C2PADetector(anchors) if modality is Modality.IMAGE else C2PADetector(anchors, modality)

    return factory


def _watermark_of(modality: str) -> Factory[Detector]:
    def factory(ctx: PluginContext) -> Detector:
        if modality == "image" and ctx.settings.watermark_mode != "private" and _resolves(ctx):
            # our own mark is federated (issue 19): one search for our key and every trusted provider's
            return FederatedWatermarkDetector(ctx, name="image.watermark", include_own=True,
                                              search=ctx.settings.scan_watermark_search)
        marker = ctx.marker(f"{modality}.watermark")
        if modality == "image":
            return WatermarkDetector(marker, search=ctx.settings.scan_watermark_search)
        return WatermarkDetector(marker)

    return factory


def _federated(ctx: PluginContext) -> Detector:
    """Trusted providers' shared/public-mode marks (issue 19); covered by ``image.watermark`` when our own mark is
    federated too, and not read where no core object can resolve a token (a bare inspection)."""
    if ctx.settings.watermark_mode != "private" or not _resolves(ctx):
        return Covered()
    return FederatedWatermarkDetector(ctx, search=ctx.settings.scan_watermark_search)


def _resolves(ctx: PluginContext) -> TypeGuard[Resolver]:
    """A core object (records, ledger origin): what the federated detector resolves marks with."""
    return hasattr(ctx, "record") and hasattr(ctx, "ledger_origin")


def _dwtdct(ctx: PluginContext) -> Detector:
    return DwtDctDetector()


# Scan order per modality: cheap metadata first, then the signal-domain readers. The name's prefix is the
# modality a detector reads; a scan builds only the detectors of the upload's modality (lazily, so an image
# platform never needs the audio/video extras).
DETECTORS: dict[str, Factory[Detector]] = {
    "image.aigc": _aigc_of("image"),
    "image.iptc": _iptc,
    "image.c2pa": _c2pa_of(Modality.IMAGE),
    "image.watermark": _watermark_of("image"),
    "image.federated.watermark": _federated,
    "image.dwtdct": _dwtdct,
    "audio.aigc": _aigc_of("audio"),
    "audio.watermark": _watermark_of("audio"),
    "video.aigc": _aigc_of("video"),
    "video.c2pa": _c2pa_of(Modality.VIDEO),
    "video.watermark": _watermark_of("video"),
    "text.aigc": _aigc_of("text"),
}
MODALITY_NAMES = tuple(m.value for m in Modality)
# Per-stage grouping used by the scan timings and the benchmark.
STAGES = {name: ("watermark" if name.endswith((".watermark", ".dwtdct")) else "marks") for name in DETECTORS}


# --- hashers (synthguard.hashers) ------------------------------------------------------------------
def _hasher(cls: type[Hasher]) -> Factory[Hasher]:
    def factory(ctx: PluginContext) -> Hasher:
        return cls()

    factory.__name__ = f"_{cls.__name__}"
    return factory


# Order matters: per modality, the first perceptual hasher is the one a generation record keeps (pdq for images,
# vpdq for video, audio for audio); the exact sha256 comes last (fingerprint/hashers.py).
HASHERS: dict[str, Factory[Hasher]] = {kind: _hasher(cls) for kind, cls in BUILTIN_HASHERS.items()}


# --- identity verifiers (synthguard.identity_verifiers) ----------------------------------------------
def _operator(ctx: PluginContext) -> IdentityVerifier:
    return OperatorAttestedVerifier()


IDENTITY_VERIFIERS: dict[str, Factory[IdentityVerifier]] = {"operator": _operator}


# --- PDQ indexes (synthguard.indexes) --------------------------------------------------------------
def _index(name: str) -> Factory[Index]:
    def factory(ctx: PluginContext) -> Index:
        return make_index(name)  # "faiss" falls back to "mih" when faiss-cpu is not installed

    factory.__name__ = f"_{name}_index"
    return factory


INDEXES: dict[str, Factory[Index]] = {name: _index(name) for name in ("mih", "flat", "prefix", "faiss")}

__all__ = ["DETECTORS", "HASHERS", "IDENTITY_VERIFIERS", "INDEXES", "MARKERS", "MODALITY_NAMES", "STAGES",
           "legacy_marker"]
