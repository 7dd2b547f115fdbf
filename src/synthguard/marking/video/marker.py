"""The video markers: ``video.visible``, ``video.watermark``, ``video.metadata``, ``video.c2pa`` (LM-06, LM-10,
LM-11, GB-05, GB-16, EU-09).

One decode, one encode.  ``video.visible`` and ``video.watermark`` both change pixels, and core.label runs them one
after the other.  Each works alone (its output is a finished file), but the visible marker also leaves an *edit
note* on the Media it returns: the source Media and its frame operation.  The watermark marker, given a Media with
such a note, starts again from the source and applies the label and the watermark in a single pass, so the labelled
and watermarked output is one generation away from the input (no double H.264 loss; the visible marker's own
encode is the price of keeping each marker complete on its own).  The audio track gets the audio watermark in the
same pass; otherwise it is copied packet for packet.  ``video.metadata`` and ``video.c2pa`` never touch the coded
pictures (stream-copy remux, manifest box), so the AIGC integrity code binds the packets' digest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.codecs import video as vio
from synthguard.codecs.av import audio_samples
from synthguard.errors import (
    MediaTooLargeError,
    UnsupportedMediaError,
    ValidationError,
    WatermarkError,
)
from synthguard.marking import aigc
from synthguard.marking.aigc import AIGCLabel
from synthguard.marking.aigc_marker import Blocks, DurationLimitedMarker
from synthguard.marking.base import LabelContext, Reading
from synthguard.marking.c2pa import C2PAMarker
from synthguard.marking.image.visible import VisibleLabelMarker
from synthguard.marking.video import encode
from synthguard.marking.video.metadata import aigc_blocks
from synthguard.marking.video.visible import MIN_SECONDS, FrameLabeller, LabelOverlay
from synthguard.marking.watermark.audio import MIN_SECONDS as AUDIO_MIN_SECONDS
from synthguard.marking.watermark.audio import AudioWatermarker
from synthguard.marking.watermark.image import FALSE_POSITIVE_RATE
from synthguard.marking.watermark.video import MAX_FRAMES, VideoWatermarker
from synthguard.media import Media, Modality

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.keys import Keys

log = logging.getLogger(__name__)
_EDIT = "video_edit"  # Media._cache key of the edit note (see the module docstring)
C2PA_FORMATS = ("mp4", "mov")


@dataclass(frozen=True)
class _EditNote:
    source: Media
    ops: tuple[Any, ...]


def _check_length(media: Media, max_seconds: float) -> Any:
    info = media.video()
    if info.duration > max_seconds:
        raise MediaTooLargeError("video is {duration:.0f} s, over the limit of {max_seconds:.0f} s",
                                 path=media.name, hint="Raise SYNTHGUARD_MAX_VIDEO_SECONDS or cut the video.",
                                 values={"duration": info.duration, "max_seconds": max_seconds})
    return info


def _with_note(media: Media, data: bytes, source: Media, ops: tuple[Any, ...]) -> Media:
    out = media.replace(data)
    out._cache[_EDIT] = _EditNote(source, ops)
    return out


class VideoVisibleMarker:
    """The explicit label on the opening frames, >= 2 s, glyphs >= 5% of the shorter side (GB-05, LM-06)."""

    name = "video.visible"
    modalities = frozenset({Modality.VIDEO})

    def __init__(self, label: VisibleLabelMarker, seconds: float = 3.0, persistent: bool = False, crf: int = 18,
                 max_seconds: float = vio.DEFAULT_MAX_SECONDS):
        if seconds < MIN_SECONDS:
            raise ValidationError("the video label must show for at least {MIN_SECONDS:.0f} s (GB-05)",
                                  values={"MIN_SECONDS": MIN_SECONDS})
        self.label, self.seconds, self.persistent, self.crf, self.max_seconds = (
            label, float(seconds), persistent, crf, max_seconds)

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> VideoVisibleMarker:
        label = VisibleLabelMarker(settings.label_text, settings.label_position, settings.label_height_ratio,
                                   settings.font_path)
        return cls(label, settings.video_label_seconds, settings.video_label_persistent, settings.video_crf,
                   settings.max_video_seconds)

    def layout(self, size: tuple[int, int]) -> dict[str, Any]:
        """The label geometry plus its timing, for the record (DS-19: text, position, ratio, duration)."""
        return self.label.layout(size).to_dict() | {"start": 0.0, "seconds": self.seconds,
                                                    "persistent": self.persistent}

    def frame_op(self, media: Media) -> FrameLabeller:
        info = media.video()
        overlay = LabelOverlay.render(self.label, info.width, info.height, info.rotation)
        return FrameLabeller(overlay, info.width, info.height, np.inf if self.persistent else self.seconds)

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        _check_length(media, self.max_seconds)
        op = self.frame_op(media)
        return _with_note(media, encode.transcode(media, op, crf=self.crf), media, (op,))

    def read(self, media: Media) -> Reading:
        """Look for the label on frames at 0 s, 1 s and just before 2 s (GB-05), and after the labelled span."""
        info = media.video()
        overlay = LabelOverlay.render(self.label, info.width, info.height, info.rotation)
        times = [t for t in (0.0, 1.0, MIN_SECONDS - 0.1) if t < info.duration] or [0.0]
        later = self.seconds + 0.5 if info.duration > self.seconds + 0.5 else None
        frames = vio.frames_at(media, times + ([later] if later else []))
        corr = [round(overlay.correlation(rgb), 4) for t, rgb in frames if later is None or t < later - 1e-3]
        found = bool(corr) and min(corr) > 0.6
        data: dict[str, Any] = {"correlation": min(corr) if corr else 0.0, "frames_checked": len(corr)}
        problems: list[str] = []
        if found:
            lay = overlay.layout
            shown = min(info.duration, MIN_SECONDS)
            data |= {"text": lay.text, "position": lay.position, "ratio": lay.ratio, "box": list(lay.box),
                     "seconds_checked": round(shown, 2)}
            if later is not None and frames[-1][0] >= later - 1e-3:
                data["persistent"] = overlay.correlation(frames[-1][1]) > 0.6
            if info.duration < MIN_SECONDS:
                problems.append(f"the video is {info.duration:.2f} s long: the label cannot show for "
                                f"{MIN_SECONDS:.0f} s (GB-05); it shows throughout")
        valid = (overlay.layout.ratio >= 0.05 and not problems) if found else None
        return Reading(self.name, found, data, valid, tuple(problems))


class VideoWatermarkMarker:
    """The robust watermark on every frame (and the audio watermark on the sound, when available) (LM-11)."""

    name = "video.watermark"
    modalities = frozenset({Modality.VIDEO})

    def __init__(self, key: bytes, strength: float = 1.0, crf: int = 18, max_seconds: float = vio.DEFAULT_MAX_SECONDS):
        self.watermarker = VideoWatermarker(key, strength)
        self.key, self.strength, self.crf, self.max_seconds = key, strength, crf, max_seconds
        self._audio: Any = None
        self.audio_scale_search = False  # settings.audio_scale_search: the soundtrack's time/pitch-scale stage

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> VideoWatermarkMarker:
        marker = cls(keys.watermark, settings.watermark_strength, settings.video_crf, settings.max_video_seconds)
        marker.audio_scale_search = settings.audio_scale_search
        return marker

    def audio_watermarker(self) -> Any | None:
        """The audio engineer's AudioWatermarker, made on first use."""
        if self._audio is None:
            self._audio = AudioWatermarker(self.key, self.strength)
        return self._audio

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        if ctx.watermark_payload is None:
            raise WatermarkError("no watermark payload in the label context")
        note = media._cache.get(_EDIT)
        source, ops = (note.source, note.ops) if isinstance(note, _EditNote) else (media, ())
        info = _check_length(source, self.max_seconds)
        embed = self.watermarker.embedder(ctx.watermark_payload, info.width, info.height)

        def watermark(index: int, t: float, yuv420: np.ndarray) -> None:
            embed(yuv420[: info.height])

        all_ops = (*ops, watermark)

        def frame_fn(index: int, t: float, yuv420: np.ndarray) -> None:
            for op in all_ops:
                op(index, t, yuv420)

        audio_fn = self._audio_fn(ctx.watermark_payload) if info.audio and self._audio_fits(info) else None
        return _with_note(media, encode.transcode(source, frame_fn, crf=self.crf, audio_fn=audio_fn), source, all_ops)

    @staticmethod
    def _audio_fits(info: Any) -> bool:
        """Too short for the audio watermark: copy the sound untouched rather than re-encode it for nothing."""
        return bool(info.duration >= AUDIO_MIN_SECONDS)

    def _audio_fn(self, payload: bytes) -> Any:
        audio = self.audio_watermarker()
        if audio is None:
            return None

        def fn(samples: np.ndarray, rate: int) -> np.ndarray:
            try:
                return np.asarray(audio.embed(samples, rate, payload), np.float32)
            except WatermarkError as exc:  # e.g. too short: the picture still carries the mark
                log.info("audio watermark skipped: %s", exc.message)
                return samples

        return fn

    def read(self, media: Media) -> Reading:
        try:
            frames = vio.sample_lumas(media, MAX_FRAMES)
            result = self.watermarker.detect_frames(luma for _, luma in frames)
        except WatermarkError as exc:  # too small to carry a mark: absent, with the reason
            return Reading(self.name, False, {"detected": False, "payload": None}, None, (exc.message,))
        data = result.to_dict() | {"seconds_tested": round(frames[-1][0] - frames[0][0], 3) if frames else 0.0}
        audio = self._read_audio(media)
        if audio is not None:
            data |= _combine(data, audio) if "p_value" in audio else {"audio": audio}
        found = bool(data["detected"])
        return Reading(self.name, found, data, valid=data.get("payload") is not None if found else None)

    def _read_audio(self, media: Media) -> dict[str, Any] | None:
        audio = self.audio_watermarker()
        if audio is None or not media.video().audio:
            return None
        try:
            rate = 16000
            return dict(audio.detect(audio_samples(media, rate), rate,
                                     scale_search=self.audio_scale_search).to_dict())
        except (WatermarkError, UnsupportedMediaError) as exc:
            return {"detected": False, "payload": None, "problem": exc.message}


def _combine(picture: dict[str, Any], audio: dict[str, Any]) -> dict[str, Any]:
    """Picture and sound are two tests of "this key's mark is here": Bonferroni over both keeps the reported
    p-value a bound on the false-positive rate (detected means p <= 1e-6, as for a single test)."""
    p = min(1.0, 2 * min(picture["p_value"], audio["p_value"]))
    best = picture if picture["p_value"] <= audio["p_value"] else audio
    detected = p <= FALSE_POSITIVE_RATE
    return {"detected": detected, "p_value": p, "payload": best["payload"] if detected else picture["payload"],
            "picture_p_value": picture["p_value"], "audio": audio}


class VideoAIGCCodec:
    """The AIGC tag in MP4/MOV ``moov/udta/meta`` keys or Matroska/WebM tags (``metadata.py``, GB-16), written by a
    stream-copy remux: the packets, and so the content digest ``ReservedCode1`` binds, are unchanged."""

    modality = Modality.VIDEO
    what = "video"

    def __init__(self, max_seconds: float = vio.DEFAULT_MAX_SECONDS) -> None:
        self.max_seconds = max_seconds

    def handles(self, media: Media) -> bool:
        return media.modality is Modality.VIDEO

    def check_writable(self, media: Media) -> None:
        _check_length(media, self.max_seconds)

    def blocks(self, media: Media) -> Blocks:
        found = aigc_blocks(media)
        return Blocks(found, len(found))

    def write(self, media: Media, label: AIGCLabel, digital_source_type: str | None) -> Media:
        out = media.replace(encode.remux(media, {"AIGC": label.to_json()}))
        out.__dict__["content_sha256"] = media.content_sha256  # stream copy: the packets are the same
        return out


class VideoMetadataMarker(DurationLimitedMarker):
    """GB 45438 AIGC JSON in the container metadata (GB-16), exactly one block (GB-08), integrity code over the
    content digest of the packets (GB-12)."""

    codec_type = VideoAIGCCodec
    default_max_seconds = vio.DEFAULT_MAX_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> VideoMetadataMarker:
        return cls(aigc.integrity_key_of(keys), max_seconds=settings.max_video_seconds)


@dataclass
class VideoC2PAMarker(C2PAMarker):
    """The signed C2PA manifest for MP4/MOV (marking/c2pa.py signs and validates; EU-09, US-10)."""

    name: str = field(default="video.c2pa", init=False)
    modalities: frozenset[Modality] = field(default=frozenset({Modality.VIDEO}), init=False)

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> VideoC2PAMarker:
        return cls(keys.c2pa_chain, keys.c2pa_key, keys.c2pa_anchors, settings.tsa_url)

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        if media.format not in C2PA_FORMATS:
            raise UnsupportedMediaError(
                "C2PA manifests cannot be embedded in {format} files", path=media.name,
                hint="Deliver MP4 or MOV, or label with C2PA off (SYNTHGUARD_C2PA=false); the AIGC tag and the "
                     "watermark still apply.", values={"format": media.format.upper()})
        out = self.signer.sign(media, content_id=ctx.content_id, producer=ctx.producer, ledger_ref=ctx.ledger_ref,
                               model=ctx.model, created=ctx.created, claim={"label": ctx.label})
        if "content_sha256" in media.__dict__:  # the manifest is a box beside the media data
            out.__dict__["content_sha256"] = media.__dict__["content_sha256"]
        return out

    def read(self, media: Media) -> Reading:
        if media.format not in C2PA_FORMATS:
            data = {"present": False, "state": "absent", "assertions": [], "content_id": None, "signer": None,
                    "problems": []}
            return Reading(self.name, False, data)
        return super().read(media)
