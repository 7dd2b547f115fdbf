"""Which ML detectors a scan runs besides the mark detectors (those are the ``synthguard.detectors`` plugin group:
``synthguard.plugins.mark_detectors``, built from the core object's markers so they share its keys).

ML detectors are never built in: an operator lists ONNX manifests (``onnx.py``)
and each one must carry its SHA-256 and, to count towards a verdict, a calibrated threshold (LM-15). No
placeholder classifier ships.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from synthguard.detection import Detector
from synthguard.detection.onnx import OnnxDetector  # numpy and yaml only: onnxruntime loads with a model

if TYPE_CHECKING:
    from synthguard.config import Settings


def manifest_paths(settings: Settings) -> list[Path]:
    """Operator-configured ONNX manifests (``settings.detector_manifests``); empty by default."""
    return [Path(p) for p in settings.detector_manifests]


def configured_detectors(settings: Settings) -> list[Detector]:
    """The ML detectors the operator configured (none by default); loading verifies each model's SHA-256.
    Only the settings are needed, so a caller hands those and not its core object (issue 23)."""
    return [OnnxDetector.load(p) for p in manifest_paths(settings)]


__all__ = ["configured_detectors", "manifest_paths"]
