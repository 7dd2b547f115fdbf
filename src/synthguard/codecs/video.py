"""Reading videos: probe, content digest, frame sampling (writing lives in ``marking/video/encode.py``).

PyAV (FFmpeg in the wheel) does the work; every FFmpeg failure becomes a CorruptMediaError or
UnsupportedMediaError with a hint.  ``Media.video()`` calls :func:`probe_video` and ``Media.content_sha256``
:func:`content_digest`; the video markers sample frames with :func:`sample_lumas` and :func:`frames_at`.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from synthguard.codecs.av import require_av
from synthguard.codecs.formats import Modality
from synthguard.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError

if TYPE_CHECKING:
    import numpy as np

    from synthguard.media import Media

DEFAULT_MAX_SECONDS = 4 * 3600.0
# our format name -> (FFmpeg muxer, video encoder)
CONTAINERS = {"mp4": ("mp4", "libx264"), "mov": ("mov", "libx264"), "mkv": ("matroska", "libx264"),
              "webm": ("webm", "libvpx-vp9")}
REENCODE_HINT = "Re-export the video as H.264 MP4 (e.g. ffmpeg -i in -c:v libx264 -c:a aac out.mp4) and retry."


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` found; the first frame was decoded, so the codec is known to work."""

    width: int
    height: int
    fps: float  # average frame rate
    duration: float  # seconds
    frames: int  # declared or estimated frame count
    codec: str
    pix_fmt: str
    variable_frame_rate: bool
    audio: dict[str, Any] | None = field(default=None)  # codec, rate, channels
    rotation: int = 0  # display rotation, degrees counterclockwise (FFmpeg's display matrix; phones: -90)

    def to_dict(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "fps": round(self.fps, 3),
                "duration": round(self.duration, 3), "frames": self.frames, "codec": self.codec,
                "pix_fmt": self.pix_fmt, "variable_frame_rate": self.variable_frame_rate, "audio": self.audio,
                "rotation": self.rotation}


def open_input(media: Media) -> Any:
    """An input container over the media's bytes; CorruptMediaError when FFmpeg cannot parse it."""
    if media.modality is not Modality.VIDEO:
        raise UnsupportedMediaError("expected a video, got {mime}", path=media.name, values={"mime": media.mime})
    av = require_av()
    try:
        container = av.open(io.BytesIO(media.data), mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise CorruptMediaError("cannot open the {format} container: {exc}", path=media.name,
                                hint=REENCODE_HINT, values={"format": media.format, "exc": exc}) from exc
    if not container.streams.video:
        container.close()
        raise UnsupportedMediaError("the file has no video stream", path=media.name,
                                    hint="Label audio-only files as audio (WAV, MP3, FLAC, M4A).")
    return container


def probe_video(media: Media, max_seconds: float = DEFAULT_MAX_SECONDS) -> VideoInfo:
    """Open the file, check its streams and limits and decode the first frame (DS-19 needs a decodable video).

    Fails with CorruptMediaError (unparsable, zero-length, no decodable frame), UnsupportedMediaError (no video
    stream, a codec this FFmpeg cannot decode) or MediaTooLargeError (frames over the pixel limit, too long)."""
    av = require_av()
    container = open_input(media)
    try:
        stream = container.streams.video[0]
        cc = stream.codec_context
        if cc is None or not _has_decoder(av, cc.name):
            raise UnsupportedMediaError("the video codec is unknown or has no decoder in this FFmpeg build",
                                        path=media.name, hint=REENCODE_HINT)
        duration = _duration(container, stream)
        if duration > max_seconds:
            raise MediaTooLargeError("video is {duration:.0f} s, over the limit of {max_seconds:.0f} s",
                                     path=media.name, hint="Raise SYNTHGUARD_MAX_VIDEO_SECONDS or cut the video.",
                                     values={"duration": duration, "max_seconds": max_seconds})
        first = _first_frame(container, stream, media)
        width, height = first.width, first.height
        if width * height > media.max_pixels:
            raise MediaTooLargeError("video frames are {width}x{height}, over the pixel limit", path=media.name,
                                     values={"width": width, "height": height})
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        frames = stream.frames or max(1, round(duration * float(rate)))
        guessed = stream.guessed_rate or rate
        vfr = bool(stream.average_rate and abs(float(stream.average_rate) - float(guessed)) > 0.01 * float(guessed))
        audio = None
        if container.streams.audio:
            a = container.streams.audio[0].codec_context
            audio = {"codec": a.name, "rate": a.sample_rate, "channels": a.channels}
        rotation = int(round((first.rotation or 0) / 90.0)) * 90 % 360
        return VideoInfo(width, height, float(rate), duration, int(frames), cc.name, first.format.name, vfr, audio,
                         rotation - 360 if rotation > 180 else rotation)
    finally:
        container.close()


def _has_decoder(av: Any, name: str) -> bool:
    try:
        return bool(av.codec.Codec(name, "r"))
    except (av.error.FFmpegError, ValueError):  # UnknownCodecError is a ValueError
        return False


def _duration(container: Any, stream: Any) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def _first_frame(container: Any, stream: Any, media: Media) -> Any:
    av = require_av()
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.InvalidDataError as exc:
        raise CorruptMediaError("video data is corrupt: {exc}", path=media.name, hint=REENCODE_HINT,
                                values={"exc": exc}) from exc
    except av.error.FFmpegError as exc:
        if "decoder" in str(exc).lower() or "codec" in str(exc).lower():
            raise UnsupportedMediaError("cannot decode the {name} video: {exc}",
                                        path=media.name, hint=REENCODE_HINT,
                                        values={"name": stream.codec_context.name, "exc": exc}) from exc
        raise CorruptMediaError("video data is corrupt: {exc}", path=media.name, hint=REENCODE_HINT,
                                values={"exc": exc}) from exc
    raise CorruptMediaError("the video stream holds no decodable frame (zero-length video)", path=media.name,
                            hint="Export the video again; it has no frames.")


def content_digest(media: Media) -> str:
    """SHA-256 over the demuxed video and audio packets (codec, size, payloads), per stream, no decoding.

    Metadata writes (stream-copy remux) and the C2PA manifest (a box beside the media data) leave packets as they
    are, so this binds the AIGC integrity code (GB-12) to the audiovisual content, not to the container bytes."""
    av = require_av()
    container = open_input(media)
    try:
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        hashes = {s.index: hashlib.sha256(f"{s.type}:{s.codec_context.name}:".encode()) for s in streams}
        try:
            for packet in container.demux(streams):
                if packet.size:
                    hashes[packet.stream.index].update(bytes(packet))
        except av.error.FFmpegError as exc:
            raise CorruptMediaError("video container is corrupt: {exc}", path=media.name, hint=REENCODE_HINT,
                                    values={"exc": exc}) from exc
        top = hashlib.sha256(b"synthguard/video-content/v1\x00")
        for s in streams:
            top.update(hashes[s.index].digest())
        return top.hexdigest()
    finally:
        container.close()


# --- reading frames ---------------------------------------------------------------------------------------------
SEEK_ABOVE_SECONDS = 40.0  # longer videos are sampled by seeking (runs of frames after keyframes), not decoded whole
_RUNS = 8


def luma_plane(frame: Any) -> np.ndarray:
    """The frame's luminance as (h, w) uint8, without colour conversion for 8-bit YUV frames."""
    import numpy as np

    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"):
        plane = frame.planes[0]
        return np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width].copy()
    return frame.to_ndarray(format="gray")


def sample_lumas(media: Media, max_frames: int) -> list[tuple[float, np.ndarray]]:
    """Up to ``max_frames`` (seconds, luminance) pairs spread evenly over the whole video.

    Short videos are decoded once, start to end; long ones by seeking to ``_RUNS`` evenly spaced positions (decoding
    from the keyframe before each) and taking a run of frames there, so detection costs about the same for any
    length (at most ``_RUNS`` GOPs)."""
    import numpy as np

    av = require_av()
    info = media.video()
    container = open_input(media)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            if info.duration <= SEEK_ABOVE_SECONDS:
                step = max(1, -(-info.frames // max_frames))  # frames is an estimate: cap the count as well
                out = [(float(f.time or 0.0), luma_plane(f)) for i, f in enumerate(container.decode(stream))
                       if i % step == 0]
                if len(out) > max_frames:
                    keep = np.linspace(0, len(out) - 1, max_frames).round().astype(int)
                    out = [out[k] for k in keep]
                return out
            out, per_run = [], max(1, max_frames // _RUNS)
            for k in range(_RUNS):
                target = info.duration * (k + 0.5) / _RUNS
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
                run = 0
                for f in container.decode(stream):  # from the keyframe before the target, decode up to it
                    if f.time is not None and f.time < target - 1e-6:
                        continue
                    out.append((float(f.time or 0.0), luma_plane(f)))
                    run += 1
                    if run >= per_run:
                        break
            return out
        except av.error.FFmpegError as exc:
            raise CorruptMediaError("video data is corrupt: {exc}", path=media.name, hint=REENCODE_HINT,
                                    values={"exc": exc}) from exc
    finally:
        container.close()


def frames_at(media: Media, times: list[float]) -> list[tuple[float, np.ndarray]]:
    """The first decoded frame at or after each time (seconds, ascending), as (seconds, rgb24 array)."""

    av = require_av()
    container = open_input(media)
    out: list[tuple[float, np.ndarray]] = []
    try:
        stream = container.streams.video[0]
        pending = sorted(times)
        for f in container.decode(stream):
            t = float(f.time or 0.0)
            if pending and t + 1e-6 >= pending[0]:
                out.append((t, f.to_ndarray(format="rgb24")))
                while pending and t + 1e-6 >= pending[0]:
                    pending.pop(0)
            if not pending:
                break
    except av.error.FFmpegError as exc:
        raise CorruptMediaError("video data is corrupt: {exc}", path=media.name, hint=REENCODE_HINT,
                                values={"exc": exc}) from exc
    finally:
        container.close()
    return out


__all__ = ["CONTAINERS", "VideoInfo", "content_digest", "frames_at", "open_input",
           "probe_video", "sample_lumas"]
