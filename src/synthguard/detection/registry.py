"""Which detectors a scan runs: the built-in mark detectors plus operator-configured ML detectors.

Mark detectors are built from the core object's markers (so they share its keys: our watermark key, the
producer's integrity key). ML detectors are never built in: an operator lists ONNX manifests (``onnx.py``)
and each one must carry its SHA-256 and, to count towards a verdict, a calibrated threshold (LM-15). No
placeholder classifier ships. Third-party detectors come from the entry-point group ``synthguard.detectors``
(factory ``(sg) -> Detector``); duplicate names are rejected, as for markers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthguard.detection import Detector
from synthguard.detection.federated import Covered, FederatedWatermarkDetector
from synthguard.errors import ConfigError

if TYPE_CHECKING:
    from synthguard.core import SynthGuard

Factory = Callable[["SynthGuard"], Detector]
ENTRY_POINT_GROUP = "synthguard.detectors"


def _aigc(sg: SynthGuard) -> Detector:
    from synthguard.detection.marks import AIGCDetector

    return AIGCDetector(sg.marker("image.metadata"))


def _iptc(sg: SynthGuard) -> Detector:
    from synthguard.detection.marks import IPTCDetector

    return IPTCDetector(sg.marker("image.metadata"))


def _c2pa(sg: SynthGuard) -> Detector:
    from synthguard.detection.marks import C2PADetector

    return C2PADetector(sg.keys.c2pa_anchors)


def _watermark(sg: SynthGuard) -> Detector:
    from synthguard.detection.marks import WatermarkDetector

    if sg.settings.watermark_mode != "private":  # our own mark is federated: one search for our key and the trusted
        return FederatedWatermarkDetector(sg, name="image.watermark", include_own=True,
                                          search=sg.settings.scan_watermark_search)
    return WatermarkDetector(sg.marker("image.watermark"), search=sg.settings.scan_watermark_search)


def _federated(sg: SynthGuard) -> Detector:
    """Trusted providers' shared/public-mode marks (issue 19); covered by ``image.watermark`` when our own mark
    is federated too."""
    if sg.settings.watermark_mode != "private":
        return Covered()
    return FederatedWatermarkDetector(sg, search=sg.settings.scan_watermark_search)


def _dwtdct(sg: SynthGuard) -> Detector:
    from synthguard.detection.marks import DwtDctDetector

    return DwtDctDetector()


def _aigc_of(modality: str) -> Factory:
    def factory(sg: SynthGuard) -> Detector:
        from synthguard.detection.marks import AIGCDetector

        return AIGCDetector(sg.marker(f"{modality}.metadata"), name=f"{modality}.aigc")

    return factory


def _watermark_of(modality: str) -> Factory:
    def factory(sg: SynthGuard) -> Detector:
        from synthguard.detection.marks import WatermarkDetector

        return WatermarkDetector(sg.marker(f"{modality}.watermark"))

    return factory


def _video_c2pa(sg: SynthGuard) -> Detector:
    from synthguard.detection.marks import C2PADetector
    from synthguard.media import Modality

    return C2PADetector(sg.keys.c2pa_anchors, Modality.VIDEO)


# Scan order per modality: cheap metadata first, then the signal-domain readers. The name's prefix is the
# modality a detector reads; a scan builds only the detectors of the upload's modality (lazily, so an image
# platform never needs the audio/video extras).
MARK_DETECTORS: dict[str, Factory] = {
    "image.aigc": _aigc,
    "image.iptc": _iptc,
    "image.c2pa": _c2pa,
    "image.watermark": _watermark,
    "image.federated.watermark": _federated,
    "image.dwtdct": _dwtdct,
    "audio.aigc": _aigc_of("audio"),
    "audio.watermark": _watermark_of("audio"),
    "video.aigc": _aigc_of("video"),
    "video.c2pa": _video_c2pa,
    "video.watermark": _watermark_of("video"),
    "text.aigc": _aigc_of("text"),
}
# Per-stage grouping used by the scan timings and the benchmark.
STAGES = {name: ("watermark" if name.endswith((".watermark", ".dwtdct")) else "marks") for name in MARK_DETECTORS}


class DetectorRegistry:
    def __init__(self, factories: dict[str, Factory] | None = None, *, load_entry_points: bool = True):
        self.factories: dict[str, Factory] = dict(MARK_DETECTORS if factories is None else factories)
        if load_entry_points:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                self.add(ep.name, ep.load())

    def add(self, name: str, factory: Any) -> None:
        if name in self.factories:
            raise ConfigError("a detector named {name!r} is already registered", values={"name": name},
                              hint="Rename the plugin's entry point; built-in names cannot be replaced.")
        if not callable(factory):
            raise ConfigError("detector plugin {name!r} is not callable", values={"name": name})
        self.factories[name] = factory

    def create(self, sg: SynthGuard, names: Iterable[str] | None = None, *, modality: str | None = None
               ) -> list[Detector]:
        """The named detectors (default: all, or all for ``modality`` -- names are "modality.technique")."""
        if names is None:
            kinds = {"image", "audio", "video", "text"}  # a plugin named otherwise is built for every modality
            names = [n for n in self.factories
                     if modality is None or n.split(".", 1)[0] == modality or n.split(".", 1)[0] not in kinds]
        wanted = list(names)
        unknown = [n for n in wanted if n not in self.factories]
        if unknown:
            raise ConfigError("unknown detectors {unknown}; known: {factories}",
                              values={"unknown": unknown, "factories": ', '.join(self.factories)})
        return [self.factories[n](sg) for n in wanted]


def manifest_paths(sg: SynthGuard) -> list[Path]:
    """Operator-configured ONNX manifests (``settings.detector_manifests``); empty by default."""
    return [Path(p) for p in sg.settings.detector_manifests]


def configured_detectors(sg: SynthGuard) -> list[Detector]:
    """The ML detectors the operator configured (none by default); loading verifies each model's SHA-256."""
    from synthguard.detection.onnx import OnnxDetector

    return [OnnxDetector.load(p) for p in manifest_paths(sg)]


__all__ = ["ENTRY_POINT_GROUP", "MARK_DETECTORS", "STAGES", "DetectorRegistry", "configured_detectors",
           "manifest_paths"]
