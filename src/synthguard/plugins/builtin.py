"""The built-in plugins of every group, as ``factory(ctx) -> T`` like any third-party plugin.

Every class is named by its module path and imported when its factory first runs, as an entry point would be:
a command that hashes an image does not import the watermark search (OpenCV), C2PA, the trust list or the
decoders of other modalities (issue 22: the CLI starts in a fraction of a second), and the core imports without
the optional heavy libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeGuard

from synthguard.errors import KeyMissingError
from synthguard.media import Modality

if TYPE_CHECKING:
    from synthguard.detection import Detector
    from synthguard.detection.federated import Resolver
    from synthguard.fingerprint import Hasher
    from synthguard.fingerprint.index import Index
    from synthguard.identity import IdentityVerifier
    from synthguard.marking.base import Marker
    from synthguard.plugins.registry import Factory, PluginContext


def _load(path: str) -> Any:
    """``"package.module:Name"``, imported on first use (the form of an entry point's value)."""
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


_MARKS, _FED = "synthguard.detection.marks", "synthguard.detection.federated"


# --- markers (synthguard.markers) ------------------------------------------------------------------
def _visible(ctx: PluginContext) -> Marker:
    s = ctx.settings
    marker: Marker = _load("synthguard.marking.image.visible:VisibleLabelMarker")(
        s.label_text, s.label_position, s.label_height_ratio, s.font_path, s.jpeg_quality)
    return marker


def _watermark(ctx: PluginContext) -> Marker:
    marker: Marker = _load("synthguard.marking.watermark.marker:WatermarkMarker")(
        ctx.keys.watermark, ctx.settings.watermark_strength, ctx.settings.jpeg_quality, ctx.settings.watermark_mode)
    return marker


def _metadata(ctx: PluginContext) -> Marker:
    try:
        key: bytes | None = ctx.keys.integrity
    except KeyMissingError:  # a platform without the provider's key still reads labels (integrity "unknown")
        key = None
    marker: Marker = _load("synthguard.marking.image.metadata:MetadataMarker")(
        key, max_depth=ctx.settings.max_metadata_depth)
    return marker


def _c2pa(ctx: PluginContext) -> Marker:
    k = ctx.keys
    marker: Marker = _load(f"{C2PA_MODULE}:C2PAMarker")(k.c2pa_chain, k.c2pa_key, k.c2pa_anchors, ctx.settings.tsa_url)
    return marker


C2PA_MODULE = "synthguard.marking.c2pa"


def _from_settings(module: str, cls: str) -> Factory[Marker]:
    """A marker of another modality: ``cls.from_settings(settings, keys)`` from ``module``, imported on first use."""

    def factory(ctx: PluginContext) -> Marker:
        made: Marker = _load(f"{module}:{cls}").from_settings(ctx.settings, ctx.keys)
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
        marker, cls = ctx.marker(f"{modality}.metadata"), _load(f"{_MARKS}:AIGCDetector")
        made: Detector = cls(marker) if modality == "image" else cls(marker, name=f"{modality}.aigc")
        return made

    return factory


def _iptc(ctx: PluginContext) -> Detector:
    made: Detector = _load(f"{_MARKS}:IPTCDetector")(ctx.marker("image.metadata"))
    return made


def _c2pa_of(modality: Modality) -> Factory[Detector]:
    def factory(ctx: PluginContext) -> Detector:
        anchors, cls = ctx.keys.c2pa_anchors, _load(f"{_MARKS}:C2PADetector")
        made: Detector = cls(anchors) if modality is Modality.IMAGE else cls(anchors, modality)
        return made

    return factory


def _watermark_of(modality: str) -> Factory[Detector]:
    def factory(ctx: PluginContext) -> Detector:
        if modality == "image" and ctx.settings.watermark_mode != "private" and _resolves(ctx):
            # our own mark is federated (issue 19): one search for our key and every trusted provider's
            fed: Detector = _load(f"{_FED}:FederatedWatermarkDetector")(
                ctx, name="image.watermark", include_own=True, search=ctx.settings.scan_watermark_search)
            return fed
        marker, cls = ctx.marker(f"{modality}.watermark"), _load(f"{_MARKS}:WatermarkDetector")
        made: Detector = cls(marker, search=ctx.settings.scan_watermark_search) if modality == "image" else cls(marker)
        return made

    return factory


def _federated(ctx: PluginContext) -> Detector:
    """Trusted providers' shared/public-mode marks (issue 19); covered by ``image.watermark`` when our own mark is
    federated too, and not read where no core object can resolve a token (a bare inspection)."""
    if ctx.settings.watermark_mode != "private" or not _resolves(ctx):
        covered: Detector = _load(f"{_FED}:Covered")()
        return covered
    made: Detector = _load(f"{_FED}:FederatedWatermarkDetector")(ctx, search=ctx.settings.scan_watermark_search)
    return made


def _resolves(ctx: PluginContext) -> TypeGuard[Resolver]:
    """A core object (records, ledger origin): what the federated detector resolves marks with."""
    return hasattr(ctx, "record") and hasattr(ctx, "ledger_origin")


def _dwtdct(ctx: PluginContext) -> Detector:
    made: Detector = _load(f"{_MARKS}:DwtDctDetector")()
    return made


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
def _hasher(path: str) -> Factory[Hasher]:
    def factory(ctx: PluginContext) -> Hasher:
        made: Hasher = _load(path)()
        return made

    factory.__name__ = f"_{path.rsplit(':', 1)[1]}"
    return factory


# fingerprint/hashers.py's BUILTIN by module path (tests/test_plugins.py keeps the two equal, order included):
# per modality, the first perceptual hasher is the one a generation record keeps (pdq for images, vpdq for video,
# audio for audio); the exact sha256 comes last.
HASHER_PATHS = {"pdq": "synthguard.fingerprint.pdq:PDQHasher", "vpdq": "synthguard.fingerprint.video:VideoHasher",
                "audio": "synthguard.fingerprint.audio:AudioHasher", "sha256": "synthguard.fingerprint:Sha256Hasher"}
HASHERS: dict[str, Factory[Hasher]] = {kind: _hasher(path) for kind, path in HASHER_PATHS.items()}


# --- identity verifiers (synthguard.identity_verifiers) ----------------------------------------------
def _operator(ctx: PluginContext) -> IdentityVerifier:
    made: IdentityVerifier = _load("synthguard.identity:OperatorAttestedVerifier")()
    return made


IDENTITY_VERIFIERS: dict[str, Factory[IdentityVerifier]] = {"operator": _operator}


# --- PDQ indexes (synthguard.indexes) --------------------------------------------------------------
def _index(name: str) -> Factory[Index]:
    def factory(ctx: PluginContext) -> Index:
        made: Index = _load("synthguard.fingerprint.index:make_index")(name)  # "faiss" falls back to "mih"
        return made

    factory.__name__ = f"_{name}_index"
    return factory


INDEXES: dict[str, Factory[Index]] = {name: _index(name) for name in ("mih", "flat", "prefix", "faiss")}

__all__ = ["DETECTORS", "HASHERS", "HASHER_PATHS", "IDENTITY_VERIFIERS", "INDEXES", "MARKERS", "MODALITY_NAMES",
           "STAGES", "legacy_marker"]
