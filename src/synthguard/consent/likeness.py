"""Find the faces and voices in media and compare them with templates: the biometric half of the consent gate.

Images give faces, audio gives one voice, video gives the faces of frames sampled every two seconds (the same
person across frames counted once) and the voice of its audio track.  Each model has a card (name, file hash,
metric, threshold) recorded with every template, so templates made by another model version are never compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.codecs.av import video_frames
from synthguard.consent.faces import FACE_THRESHOLD, MIN_FACE_PX, Face, detect, embed, faces
from synthguard.consent.faces import model_sha256 as face_sha
from synthguard.consent.voices import NoSpeechError, embed_media
from synthguard.consent.voices import model_sha256 as voice_sha
from synthguard.errors import UnsupportedMediaError, ValidationError
from synthguard.i18n import N_
from synthguard.media import Media, Modality

FACE_TOO_SMALL = N_("face too small to identify ({width} px wide, {needed} px needed)")
MAX_FACES = 32  # more faces than this in one source is refused rather than half-checked
VIDEO_FPS, VIDEO_MAX_FRAMES = 0.5, 20

if TYPE_CHECKING:
    from synthguard.config import Settings


@dataclass(frozen=True)
class ModelCard:
    modality: str
    name: str
    metric: str  # euclidean (lower = closer) | cosine (higher = closer)
    threshold: float
    calibration: str

    def matches(self, score: float) -> bool:
        return score < self.threshold if self.metric == "euclidean" else score >= self.threshold

    def score(self, a: np.ndarray, b: np.ndarray) -> float:
        if self.metric == "euclidean":
            return float(np.linalg.norm(a - b))
        return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))

    def better(self, a: float, b: float) -> bool:
        return a < b if self.metric == "euclidean" else a > b

    def to_dict(self, sha256: str | None = None) -> dict[str, Any]:
        return {"modality": self.modality, "model": self.name, "metric": self.metric, "threshold": self.threshold,
                "calibration": self.calibration} | ({"model_sha256": sha256} if sha256 else {})


FACE_CARD = ModelCard("face", "dlib_face_recognition_resnet_model_v1", "euclidean", 0.6,
                      "dlib's LFW operating point (99.38%); bench/consent.py: genuine <= 0.454, impostor >= 0.642")
VOICE_CARD = ModelCard("voice", "resemblyzer-ge2e-0.1.4", "cosine", 0.90,
                       "bench/consent.py: 8 espeak-ng speakers x 3 sentences (+MP3 64k): all genuine pairs >= 0.916, "
                       "3.2% of impostor pairs >= 0.90; see docs/consent.md")


def cards(settings: Settings | None = None) -> dict[str, ModelCard]:
    """The model cards, with the operator's threshold overrides (face_match_threshold, voice_match_threshold)."""
    from dataclasses import replace

    face, voice = FACE_CARD, VOICE_CARD
    if settings is not None and settings.face_match_threshold:
        face = replace(face, threshold=float(settings.face_match_threshold), calibration="operator setting")
    if settings is not None and settings.voice_match_threshold:
        voice = replace(voice, threshold=float(settings.voice_match_threshold), calibration="operator setting")
    return {"face": face, "voice": voice}


def model_sha256(modality: str) -> str:
    if modality == "face":
        return face_sha()
    return voice_sha()


@dataclass(frozen=True)
class Likeness:
    """One face or voice found in a source file."""

    modality: str  # face | voice
    source: str  # file name
    source_sha256: str
    role: str  # source | target
    embedding: np.ndarray | None  # None: found but not identifiable (too small)
    where: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    problem_values: dict[str, Any] = field(default_factory=dict, repr=False)  # ``problem`` is FACE_TOO_SMALL over these

    def describe(self) -> dict[str, Any]:
        return {"modality": self.modality, "file": self.source, "sha256": self.source_sha256, "role": self.role,
                **self.where} | ({"problem": self.problem} if self.problem else {})


def find(media: Media, role: str = "source") -> tuple[list[Likeness], list[str]]:
    """Every face and voice in ``media``, plus notes on what could not be found (no face, no speech...)."""
    if media.modality is Modality.IMAGE:
        return _image_faces(media, role)
    if media.modality is Modality.AUDIO:
        return _voice(media, role)
    if media.modality is Modality.VIDEO:
        faces, notes = _video_faces(media, role)
        voices, vnotes = _voice(media, role)
        return faces + voices, notes + vnotes
    raise UnsupportedMediaError("{mime} cannot carry a face or voice", path=media.name,
                                hint="Pass the images, audio or video the edit uses as sources.",
                                values={"mime": media.mime})


def _face_likeness(media: Media, role: str, face: Any, extra: dict[str, Any] | None = None) -> Likeness:
    where = {"box": list(face.box), "detector_score": round(face.score, 3)} | (extra or {})
    values = {} if face.identifiable else {"width": face.box[2], "needed": MIN_FACE_PX}
    problem = FACE_TOO_SMALL.format(**values) if values else None
    return Likeness("face", media.name, media.sha256, role, face.embedding, where, problem, values)


def _image_faces(media: Media, role: str) -> tuple[list[Likeness], list[str]]:
    found = faces(media, limit=MAX_FACES + 1)
    if len(found) > MAX_FACES:
        raise ValidationError("more than {MAX_FACES} faces in {name}: too many to check one by one",
                              path=media.name, hint="Crop the source to the people the edit uses.",
                              values={"MAX_FACES": MAX_FACES, "name": media.name})
    notes = [] if found else [f"{media.name}: no face found (frontal faces narrower than ~40 px are not detected)"]
    return [_face_likeness(media, role, f) for f in found], notes


def _video_faces(media: Media, role: str) -> tuple[list[Likeness], list[str]]:
    out: list[Likeness] = []
    for n, (t, frame) in enumerate(video_frames(media, VIDEO_FPS, size=None)):
        if n >= VIDEO_MAX_FRAMES:
            break
        if len(out) > MAX_FACES:
            raise ValidationError("more than {MAX_FACES} different faces in {name}", path=media.name,
                                  values={"MAX_FACES": MAX_FACES, "name": media.name})
        img = np.ascontiguousarray(frame)
        for box, score in detect(img):
            face = Face(box, score, embed(img, box) if box[2] >= MIN_FACE_PX else None)
            if face.embedding is not None and any(
                    o.embedding is not None and float(np.linalg.norm(o.embedding - face.embedding)) < FACE_THRESHOLD
                    for o in out):
                continue  # the same person seen in an earlier frame
            out.append(_face_likeness(media, role, face, {"time": round(t, 2)}))
    return out, [] if out else [f"{media.name}: no face found in the sampled frames"]


def _voice(media: Media, role: str) -> tuple[list[Likeness], list[str]]:
    try:
        vp = embed_media(media)
    except NoSpeechError as exc:
        return [], [f"{media.name}: no voice found ({exc.message})"]
    except UnsupportedMediaError as exc:
        if media.modality is Modality.VIDEO and "no audio stream" in exc.message:
            return [], []
        raise
    return [Likeness("voice", media.name, media.sha256, role, vp.embedding,
                     {"speech_seconds": round(vp.speech_seconds, 2), "seconds": round(vp.total_seconds, 2)})], []


def enrolment_embedding(media: Media, modality: str) -> tuple[np.ndarray, dict[str, Any]]:
    """The one template a reference file gives: exactly one identifiable face, or at least 1 s of speech."""
    if modality == "face":
        media.require_image()
        found, _ = _image_faces(media, "reference")
        if len(found) != 1:
            raise ValidationError("a reference photo must show exactly one face; found {count}",
                                  path=media.name, hint="Use a well-lit frontal photo of the subject alone.",
                                  values={"count": len(found)})
        if found[0].embedding is None:
            hint = "Use a photo where the face is at least 48 px wide (150 px or more is best)."
            if found[0].problem_values:
                raise ValidationError(FACE_TOO_SMALL, values=found[0].problem_values, path=media.name, hint=hint)
            raise ValidationError("face too small", path=media.name, hint=hint)
        return found[0].embedding, found[0].where
    if modality == "voice":
        if media.modality is not Modality.AUDIO:
            raise UnsupportedMediaError("a voice sample must be audio, got {mime}", path=media.name,
                                        values={"mime": media.mime})
        vp = embed_media(media)
        return vp.embedding, {"speech_seconds": round(vp.speech_seconds, 2)}
    raise ValidationError("unknown modality {modality!r}", hint="Use face or voice.", values={"modality": modality})


def encode(embedding: np.ndarray) -> bytes:
    return np.asarray(embedding, "<f4").tobytes()


def decode(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
