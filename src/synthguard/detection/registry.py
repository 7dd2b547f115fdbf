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

if TYPE_CHECKING:
    from synthguard.core import SynthGuard


def manifest_paths(sg: SynthGuard) -> list[Path]:
    """Operator-configured ONNX manifests (``settings.detector_manifests``); empty by default."""
    return [Path(p) for p in sg.settings.detector_manifests]


def configured_detectors(sg: SynthGuard) -> list[Detector]:
    """The ML detectors the operator configured (none by default); loading verifies each model's SHA-256."""
    from synthguard.detection.onnx import OnnxDetector

    return [OnnxDetector.load(p) for p in manifest_paths(sg)]


__all__ = ["configured_detectors", "manifest_paths"]
