"""Bring-your-own-weights ML detectors: an ONNX model plus a manifest that says how to use it (LM-15).

SynthGuard ships no classifier. The operator supplies the weights and a manifest (YAML or JSON)::

    name: image.acme-forensic          # detector name, "modality.technique"
    version: "2025-06"
    model: acme.onnx                   # relative to the manifest
    sha256: 9f2c...                    # of the weights; checked on every load
    licence: Apache-2.0
    benchmark: {dataset: GenImage, metric: AUC, value: 0.97}   # what the authors claim (recorded, not trusted)
    input: {size: [224, 224], layout: NCHW, color: RGB, scale: 255, mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225], name: null}
    output: {index: 0, class: 1, activation: softmax, meaning: probability the image is AI-generated}
    threshold: 0.81                    # written by `synthguard detectors evaluate` (calibration block beside it)

Scores are always *advisory*: they go to human review, and only count as a "suspected" trace (label "3") when
the manifest carries a threshold calibrated on the operator's own labelled data (``evaluate.py``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from synthguard.detection import Detection
from synthguard.errors import ConfigError
from synthguard.media import Media, Modality

LAYOUTS = ("NCHW", "NHWC")
ACTIVATIONS = ("none", "sigmoid", "softmax")


@dataclass(frozen=True)
class InputSpec:
    size: tuple[int, int]  # width, height
    layout: str = "NCHW"
    color: str = "RGB"
    scale: float = 255.0
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)
    name: str | None = None


@dataclass(frozen=True)
class OutputSpec:
    index: int = 0
    cls: int | None = None  # column of the "AI-generated" class; None for a single value
    activation: str = "none"
    meaning: str = "score; higher means more likely AI-generated"


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    model: Path
    sha256: str
    licence: str
    input: InputSpec
    output: OutputSpec
    version: str = ""
    benchmark: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    calibration: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def read_document(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("cannot read detector manifest: {strerror}",
                          values={"strerror": exc.strerror}, path=path) from exc
    try:
        doc = json.loads(text) if Path(path).suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError("detector manifest is not valid YAML/JSON: {exc}", values={"exc": exc}, path=path) from exc
    if not isinstance(doc, dict):
        raise ConfigError("detector manifest must be a mapping", path=path)
    return doc


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    doc = read_document(path)

    def need(key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in doc or not isinstance(doc[key], kind):
            raise ConfigError("detector manifest needs {key!r} ({getattr})",
                              values={"key": key, "getattr": getattr(kind, '__name__', kind)}, path=path,
                              hint="See the manifest format in synthguard/detection/onnx.py.")
        return doc[key]

    name, model, sha, licence = need("name", str), need("model", str), need("sha256", str), need("licence", str)
    ins, outs = need("input", dict), doc.get("output") or {}
    try:
        size = [int(v) for v in ins["size"]]
        if len(size) != 2:
            raise ValueError(f"input size must be [width, height], got {size}")
        spec = InputSpec(size=(size[0], size[1]), layout=str(ins.get("layout", "NCHW")).upper(),
                         color=str(ins.get("color", "RGB")).upper(), scale=float(ins.get("scale", 255.0)),
                         mean=tuple(float(v) for v in ins.get("mean", (0.0, 0.0, 0.0))),
                         std=tuple(float(v) for v in ins.get("std", (1.0, 1.0, 1.0))), name=ins.get("name"))
        out = OutputSpec(index=int(outs.get("index", 0)),
                         cls=None if outs.get("class") is None else int(outs["class"]),
                         activation=str(outs.get("activation", "none")).lower(),
                         meaning=str(outs.get("meaning", OutputSpec.meaning)))
        threshold = None if doc.get("threshold") is None else float(doc["threshold"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError("detector manifest has a malformed input/output/threshold: {exc}",
                          values={"exc": exc}, path=path) from exc
    if min(spec.size) <= 0 or spec.layout not in LAYOUTS or spec.color not in ("RGB", "BGR"):
        raise ConfigError("input spec {ins} must give size [w, h], layout NCHW|NHWC, color RGB|BGR",
                          values={"ins": ins}, path=path)
    if len(spec.mean) != 3 or len(spec.std) != 3 or 0.0 in spec.std:
        raise ConfigError("input mean and std need 3 values each, std non-zero", path=path)
    if out.activation not in ACTIVATIONS:
        raise ConfigError("output activation must be one of {activations}",
                          values={"activations": ACTIVATIONS}, path=path)
    return Manifest(path=path, name=name, model=(path.parent / model).resolve(), sha256=sha.lower(),
                    licence=licence, input=spec, output=out, version=str(doc.get("version", "")),
                    benchmark=dict(doc.get("benchmark") or {}), threshold=threshold,
                    calibration=dict(doc.get("calibration") or {}), raw=doc)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class OnnxDetector:
    """An operator's ONNX classifier; ``detect`` returns one advisory ``classifier`` detection."""

    modalities = frozenset({Modality.IMAGE})

    def __init__(self, manifest: Manifest, session: Any):
        self.manifest = manifest
        self.name = manifest.name
        self.session = session
        self._input = manifest.input.name or session.get_inputs()[0].name

    @classmethod
    def load(cls, manifest_path: str | Path) -> OnnxDetector:
        m = load_manifest(manifest_path)
        if not m.model.is_file():
            raise ConfigError("model file {model} named by the manifest does not exist",
                              values={"model": m.model}, path=m.path)
        actual = file_sha256(m.model)
        if actual != m.sha256:
            raise ConfigError(
                "model weights {name} do not match the manifest: SHA-256 is {actual}, the manifest expects {sha256}",
                values={"name": m.model.name, "actual": actual, "sha256": m.sha256}, path=m.path,
                hint="The weights were replaced or corrupted. Restore the file the manifest was written for, or "
                     "review the new weights, update sha256 and re-run `synthguard detectors evaluate`.")
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ConfigError("onnxruntime is not installed", hint="pip install 'synthguard[ml]'") from exc
        try:
            session = ort.InferenceSession(str(m.model), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad graph
            raise ConfigError("onnxruntime cannot load {name}: {exc}",
                              values={"name": m.model.name, "exc": exc}, path=m.path) from exc
        return cls(m, session)

    def preprocess(self, media: Media) -> np.ndarray:
        spec = self.manifest.input
        img = media.image().convert("RGB").resize(spec.size)
        x: np.ndarray = np.asarray(img, dtype=np.float32)
        if spec.color == "BGR":
            x = x[:, :, ::-1]
        x = (x / spec.scale - np.array(spec.mean, np.float32)) / np.array(spec.std, np.float32)
        if spec.layout == "NCHW":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None], dtype=np.float32)

    def score(self, media: Media) -> float:
        out = self.manifest.output
        y = np.asarray(self.session.run(None, {self._input: self.preprocess(media)})[out.index], np.float64)
        y = y.reshape(-1)
        if out.activation == "softmax":
            e = np.exp(y - y.max())
            y = e / e.sum()
        elif out.activation == "sigmoid":
            y = 1.0 / (1.0 + np.exp(-y))
        return float(y[out.cls if out.cls is not None else 0])

    def detect(self, media: Media) -> list[Detection]:
        m = self.manifest
        s = self.score(media)
        over = m.threshold is not None and s >= m.threshold
        ev = {"model": m.model.name, "version": m.version, "sha256": m.sha256, "licence": m.licence,
              "meaning": m.output.meaning, "threshold": m.threshold, "calibrated": m.threshold is not None,
              "calibration": m.calibration, "claimed_benchmark": m.benchmark}
        problems = () if m.threshold is not None else (
            "no calibrated threshold: run `synthguard detectors evaluate`; the score is recorded only",)
        return [Detection(self.name, "classifier", s, min(max(s, 0.0), 1.0) if over else 0.0,
                          "3" if over else None, ev, advisory=True, problems=problems)]


__all__ = ["InputSpec", "Manifest", "OnnxDetector", "OutputSpec", "file_sha256", "load_manifest", "read_document"]
