"""Which detectors a scan runs: the built-in mark detectors plus operator-configured ML detectors.

Mark detectors are built from the core object's markers (so they share its keys: our watermark key, the
producer's integrity key). ML detectors are never built in: an operator lists ONNX manifests (``onnx.py``)
and each one must carry its SHA-256 and, to count towards a verdict, a calibrated threshold (LM-15). No
placeholder classifier ships. Mark detectors are the ``synthguard.detectors`` group of the one plugin registry
(:mod:`synthguard.plugins`: factory ``(ctx) -> Detector``, duplicates refused, third-party ones contract-checked).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from synthguard.detection import Detector
from synthguard.plugins import DETECTORS
from synthguard.plugins.builtin import DETECTORS as MARK_DETECTORS
from synthguard.plugins.registry import PluginContext, Registry

if TYPE_CHECKING:
    from synthguard.core import SynthGuard

ENTRY_POINT_GROUP = DETECTORS.entry_point
MODALITY_NAMES = ("image", "audio", "video", "text")
# Per-stage grouping used by the scan timings and the benchmark.
STAGES = {name: ("watermark" if name.endswith((".watermark", ".dwtdct")) else "marks") for name in MARK_DETECTORS}


def mark_detectors(registry: Registry[Detector], ctx: PluginContext, modality: str | None = None) -> list[Detector]:
    """Every registered detector (default), or those of ``modality``: names are "modality.technique", and a
    plugin named otherwise is built for every modality."""
    names = [n for n in registry.names
             if modality is None or n.split(".", 1)[0] == modality or n.split(".", 1)[0] not in MODALITY_NAMES]
    return registry.create_all(ctx, names)


def manifest_paths(sg: SynthGuard) -> list[Path]:
    """Operator-configured ONNX manifests (``settings.detector_manifests``); empty by default."""
    return [Path(p) for p in getattr(sg.settings, "detector_manifests", None) or ()]


def configured_detectors(sg: SynthGuard) -> list[Detector]:
    """The ML detectors the operator configured (none by default); loading verifies each model's SHA-256."""
    from synthguard.detection.onnx import OnnxDetector

    return [OnnxDetector.load(p) for p in manifest_paths(sg)]


__all__ = ["ENTRY_POINT_GROUP", "MARK_DETECTORS", "STAGES", "configured_detectors", "manifest_paths",
           "mark_detectors"]
