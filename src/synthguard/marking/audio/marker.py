"""The audio markers: ``audio.notice`` (explicit), ``audio.watermark`` and ``audio.metadata`` (implicit).

Each follows the Marker contract (marking/base.py): ``mark`` returns a new Media of the same format and keeps the
marks applied before it; ``read`` never raises for a merely absent mark.  core.LABEL_ORDERS runs them as notice ->
watermark -> metadata, so the metadata's integrity code binds the final PCM (GB-12).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthguard.codecs import audio as aio
from synthguard.errors import (
    CorruptMediaError,
    MediaTooLargeError,
    UnsupportedMediaError,
    ValidationError,
    WatermarkError,
)
from synthguard.marking import aigc
from synthguard.marking.aigc import AIGCLabel
from synthguard.marking.aigc_marker import Blocks, DurationLimitedMarker
from synthguard.marking.audio import metadata as containers
from synthguard.marking.audio import notice as notice_mod
from synthguard.marking.base import LabelContext, Reading
from synthguard.marking.watermark.audio import AudioWatermarker
from synthguard.media import Media, Modality

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.keys import Keys

DEFAULT_MAX_SECONDS = 3600.0


def _audio(media: Media, max_seconds: float) -> aio.Audio:
    aio.require_audio(media)
    audio: aio.Audio = media.audio()
    if audio.duration > max_seconds:
        raise MediaTooLargeError("audio is {duration:,.0f} s long, over the limit of {max_seconds:,.0f} s",
                                 path=media.name, hint="Raise SYNTHGUARD_MAX_AUDIO_SECONDS if you trust the source.",
                                 values={"duration": audio.duration, "max_seconds": max_seconds})
    return audio


class AudioNoticeMarker:
    """Marker "audio.notice": the spoken or rhythm notice at the start, the end or both (LM-04, GB-04)."""

    name = "audio.notice"
    modalities = frozenset({Modality.AUDIO})

    def __init__(self, kind: notice_mod.NoticeKind = "speech", text: str = notice_mod.DEFAULT_TEXT,
                 position: notice_mod.NoticePosition = "start", cache_dir: Path | None = None,
                 max_seconds: float = DEFAULT_MAX_SECONDS):
        if position not in ("start", "end", "start_end"):
            raise ValidationError("audio notice position must be start, end or start_end, not {position!r}",
                                  values={"position": position})
        self.renderer = notice_mod.NoticeRenderer(kind, text, cache_dir)
        self.position = position
        self.max_seconds = max_seconds

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> AudioNoticeMarker:
        return cls(settings.audio_notice, settings.audio_notice_text, settings.audio_notice_position,
                   settings.home / "cache" / "audio-notice", settings.max_audio_seconds)

    @property
    def kind(self) -> str:
        return self.renderer.kind

    def spec(self) -> dict[str, Any]:
        """The label spec applied (DS-19 asks to store text, position and duration)."""
        wave = self.renderer.waveform(notice_mod.RENDER_RATE)
        return {"kind": self.kind, "text": self.renderer.text if self.kind == "speech" else None,
                "position": self.position, "duration": round(len(wave) / notice_mod.RENDER_RATE, 3),
                "warning": self.renderer.warning}

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        audio = _audio(media, self.max_seconds)
        wave = self.renderer.waveform(audio.rate)
        out = audio.with_samples(notice_mod.insert(audio.samples, audio.rate, wave, self.position))
        return media.replace(aio.encode_like(out, media))

    def read(self, media: Media) -> Reading:
        data: dict[str, Any] = {"kind": None, "text": None, "positions": [], "score": 0.0}
        try:
            audio = _audio(media, self.max_seconds)
        except (CorruptMediaError, UnsupportedMediaError, MediaTooLargeError) as exc:
            return Reading(self.name, False, data, None, (exc.message,))
        mono = audio.mono()
        kinds = [self.renderer] + ([] if self.renderer.kind == "rhythm" else [notice_mod.NoticeRenderer("rhythm")])
        for renderer in kinds:
            hits = notice_mod.find(mono, audio.rate, renderer.waveform(audio.rate))
            if hits:
                data.update(kind=renderer.kind, text=renderer.text if renderer.kind == "speech" else None,
                            positions=[{"at": h.at, "where": h.where, "score": h.score} for h in hits],
                            score=max(h.score for h in hits))
                return Reading(self.name, True, data, True)
        return Reading(self.name, False, data)


class AudioWatermarkMarker:
    """Marker "audio.watermark": the robust 64-bit pointer (LM-11, GB-13, EU Art. 50(2)); see watermark/audio.py."""

    name = "audio.watermark"
    modalities = frozenset({Modality.AUDIO})

    def __init__(self, key: bytes, strength: float = 1.0, max_seconds: float = DEFAULT_MAX_SECONDS,
                 scale_search: bool = False):
        self.watermarker = AudioWatermarker(key, strength)
        self.max_seconds = max_seconds
        self.scale_search = scale_search  # the time/pitch-scale stage (settings.audio_scale_search)

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> AudioWatermarkMarker:
        return cls(keys.watermark, settings.watermark_strength, settings.max_audio_seconds,
                   settings.audio_scale_search)

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        audio = _audio(media, self.max_seconds)
        if ctx.watermark_payload is None:
            raise WatermarkError("no watermark payload in the label context")
        marked = self.watermarker.embed(audio.samples, audio.rate, ctx.watermark_payload)
        return media.replace(aio.encode_like(audio.with_samples(marked), media))

    def read(self, media: Media) -> Reading:
        absent = {"detected": False, "payload": None, "score": 0.0, "p_value": 1.0}
        try:
            audio = _audio(media, self.max_seconds)
            result = self.watermarker.detect(audio.samples, audio.rate, scale_search=self.scale_search)
        except (WatermarkError, CorruptMediaError, UnsupportedMediaError, MediaTooLargeError) as exc:
            return Reading(self.name, False, absent, None, (exc.message,))
        data = result.to_dict() | {"offset_seconds": result.offset_seconds}
        return Reading(self.name, result.detected, data, valid=(result.payload is not None) if result.detected
                       else None)


class AudioAIGCCodec:
    """Where the AIGC JSON lives in WAV, MP3, FLAC, OGG and M4A (``metadata.py``, GB-17). Only tags change, so the
    decoded PCM's digest (``Media.content_sha256``, which ``ReservedCode1`` binds) carries over to the output."""

    modality = Modality.AUDIO
    what = "audio"

    def __init__(self, max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self.max_seconds = max_seconds

    def handles(self, media: Media) -> bool:
        return media.modality is Modality.AUDIO and media.format in containers.FORMATS

    def check_writable(self, media: Media) -> None:
        _audio(media, self.max_seconds)

    def blocks(self, media: Media) -> Blocks:
        found = containers.read_blocks(media)
        return Blocks(found, len(found))

    def write(self, media: Media, label: AIGCLabel, digital_source_type: str | None) -> Media:
        digest = media.content_sha256
        out = media.replace(containers.write_block(media, label.to_json()), same_pixels=True)
        out.__dict__["content_sha256"] = digest  # metadata-only edit: the PCM (and its digest) is unchanged
        return out


class AudioMetadataMarker(DurationLimitedMarker):
    """Marker "audio.metadata": the GB 45438 AIGC JSON in the container's own place (GB-08..GB-12, GB-17).

    ``ReservedCode1`` is a keyed MAC over the producer fields and the decoded PCM's digest
    (``Media.content_sha256``), so editing a label field or the sound makes it "invalid" (LM-22)."""

    codec_type = AudioAIGCCodec
    default_max_seconds = DEFAULT_MAX_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> AudioMetadataMarker:
        return cls(aigc.integrity_key_of(keys), max_seconds=settings.max_audio_seconds)


def strip_metadata(media: Media) -> Media:
    """A copy without any AIGC block (used by tests and the benchmark to simulate a stripping platform)."""
    data = containers.write_block(media, "{}")
    tmp = media.replace(data)
    if media.format == "wav":
        return media.replace(containers.riff_bytes(containers.wav_without_aigc(media), media.name))
    return _strip_tags(tmp)


def _strip_tags(media: Media) -> Media:
    import io as _io

    import mutagen

    f = mutagen.File(_io.BytesIO(media.data))
    buf = _io.BytesIO(media.data)
    if f is not None and f.tags is not None:
        f.delete(buf)
    return media.replace(buf.getvalue())


__all__ = ["AudioAIGCCodec", "AudioMetadataMarker", "AudioNoticeMarker", "AudioWatermarkMarker", "strip_metadata"]
