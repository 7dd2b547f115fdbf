"""Face detection and 128-d face embeddings with dlib, offline, from models that ship in packages.

- detection: dlib's built-in HOG + linear SVM frontal face detector (part of the dlib library, Boost licence);
- alignment: ``shape_predictor_5_face_landmarks.dat`` and embedding: ``dlib_face_recognition_resnet_model_v1.dat``,
  both trained and released by Davis King into the public domain (CC0), shipped by ``face_recognition_models``.
  The 68-point landmark model in the same package is never loaded: its iBUG 300-W training data is licensed for
  non-commercial use only.  See docs/consent.md for the licences and the calibration.

Two faces are the same person when the Euclidean distance of their embeddings is below ``FACE_THRESHOLD`` (dlib's
published operating point: 99.38% on LFW).  Faces narrower than ``MIN_FACE_PX`` are reported but not identified.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from synthguard.errors import ConfigError, UnsupportedMediaError, optional_module
from synthguard.i18n import N_
from synthguard.media import Media

MODEL_FILES = {"landmarks": "shape_predictor_5_face_landmarks.dat",
               "embedding": "dlib_face_recognition_resnet_model_v1.dat"}
FACE_MODEL = "dlib_face_recognition_resnet_model_v1"
FACE_THRESHOLD = 0.6  # Euclidean; dlib's operating point, checked in bench/consent.py
MIN_FACE_PX = 48  # narrower detections are too coarse to identify anyone
MAX_DETECT_SIDE = 1600  # larger images are downscaled for detection (boxes mapped back)
_HINT = N_("Install the faces extra: pip install 'synthguard[faces]' (dlib-bin and face_recognition_models).")


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, width, height in the original image
    score: float  # detector confidence (HOG SVM margin)
    embedding: np.ndarray | None  # (128,) float32; None when the face is too small to identify

    @property
    def identifiable(self) -> bool:
        return self.embedding is not None


def _dlib() -> Any:
    return optional_module("dlib", N_("face matching needs dlib, which is not installed"), _HINT)


def model_path(name: str) -> Path:
    from importlib.util import find_spec

    spec = find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise UnsupportedMediaError("face matching needs the face_recognition_models package", hint=_HINT)
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL_FILES[name]
    if not path.is_file():
        raise ConfigError("face model file {name} is missing", path=path, hint=_HINT,
                          values={"name": MODEL_FILES[name]})
    return path


@lru_cache(maxsize=1)
def _models() -> tuple[object, object, object]:
    dlib = _dlib()
    return (dlib.get_frontal_face_detector(),  # type: ignore[attr-defined]
            dlib.shape_predictor(str(model_path("landmarks"))),  # type: ignore[attr-defined]
            dlib.face_recognition_model_v1(str(model_path("embedding"))))  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def model_sha256() -> str:
    """SHA-256 over both model files: recorded with every template so a model change is noticed."""
    h = hashlib.sha256()
    for name in ("landmarks", "embedding"):
        h.update(model_path(name).read_bytes())
    return h.hexdigest()


def rgb(media: Media) -> np.ndarray:
    media.require_image()
    return np.ascontiguousarray(np.asarray(media.image().convert("RGB"), dtype=np.uint8))


def detect(img: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
    """Face boxes (left, top, width, height) with detector scores, largest first."""
    detector, _, _ = _models()
    h, w = img.shape[:2]
    scale = min(1.0, MAX_DETECT_SIDE / max(h, w))
    work = img
    if scale < 1.0:
        from PIL import Image

        size = (round(w * scale), round(h * scale))
        work = np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BILINEAR))
    upsample = 1 if max(work.shape[:2]) <= 1000 else 0
    rects, scores, _ = detector.run(work, upsample, 0.0)  # type: ignore[attr-defined]
    boxes = []
    for r, s in zip(rects, scores, strict=True):
        left, top = max(0, r.left()), max(0, r.top())
        right, bottom = min(work.shape[1], r.right()), min(work.shape[0], r.bottom())
        if right <= left or bottom <= top:
            continue
        boxes.append(((round(left / scale), round(top / scale), round((right - left) / scale),
                       round((bottom - top) / scale)), float(s)))
    return sorted(boxes, key=lambda b: -b[0][2] * b[0][3])


def embed(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    _, landmarks, encoder = _models()
    dlib = _dlib()
    left, top, width, height = box
    rect = dlib.rectangle(left, top, left + width, top + height)  # type: ignore[attr-defined]
    shape = landmarks(img, rect)  # type: ignore[operator]
    return np.asarray(encoder.compute_face_descriptor(img, shape, 0), dtype=np.float32)  # type: ignore[attr-defined]


def faces(media: Media, *, limit: int = 64) -> list[Face]:
    """Every frontal face in an image; small faces are reported without an embedding."""
    img = rgb(media)
    out = []
    for box, score in detect(img)[:limit]:
        out.append(Face(box, score, embed(img, box) if box[2] >= MIN_FACE_PX else None))
    return out


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))
