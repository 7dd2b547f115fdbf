"""Writing videos: one-pass transcode (label + watermark), stream-copy remux (metadata), re-encode (attacks),
synthetic clips.

Frames are handled as yuv420p planes: the luminance carries the watermark and the label is blended per plane, so no
frame is ever converted to RGB and back (speed, no colour drift).  Timestamps are kept frame by frame.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import numpy as np

from synthguard.codecs.av import require_av
from synthguard.codecs.video import CONTAINERS, REENCODE_HINT, open_input
from synthguard.errors import CorruptMediaError, UnsupportedMediaError
from synthguard.i18n import N_
from synthguard.media import Media

DEFAULT_PRESET = "faster"  # x264: about as fast as veryfast here, smaller files
DEFAULT_CRF = 18  # visually lossless-ish: the output is a delivery master, not the final web encode

FrameFn = Callable[[int, float, np.ndarray], None]  # (index, seconds, yuv420p array (h*3/2, w)) -> edit in place
AudioFn = Callable[[np.ndarray, int], np.ndarray]  # (samples (n, ch) float32, rate) -> samples


@contextmanager
def _rewriting(media: Media, out: io.BytesIO, failure: str) -> Iterator[tuple[Any, Any]]:
    """(input, output container writing to ``out``), both closed after; an FFmpeg failure becomes
    CorruptMediaError with ``failure`` (a template over ``format`` and ``error``)."""
    av = require_av()
    src = open_input(media)
    try:
        dst = av.open(out, mode="w", format=CONTAINERS[media.format][0], options=_mux_options(media.format))
        try:
            yield src, dst
        finally:
            dst.close()
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(failure, values={"format": media.format, "error": str(exc)}, path=media.name,
                                hint=REENCODE_HINT) from exc
    finally:
        src.close()


def transcode(media: Media, frame_fn: FrameFn, *, crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
              audio_fn: AudioFn | None = None, metadata: dict[str, str] | None = None) -> bytes:
    """Decode every frame once, let ``frame_fn`` edit its yuv420p planes, encode once (H.264 or VP9 for WebM).

    Timestamps are kept frame by frame (variable frame rates survive), the audio is copied packet for packet, or,
    with ``audio_fn``, decoded, processed and re-encoded (AAC; Opus in WebM).  Container metadata is carried over."""
    av = require_av()
    encoder = CONTAINERS[media.format][1]
    out_buf = io.BytesIO()
    with _rewriting(media, out_buf, N_("video data is corrupt or cannot be re-encoded: {error}")) as (src, dst):
        vin = src.streams.video[0]
        vin.thread_type = "AUTO"
        ain = src.streams.audio[0] if src.streams.audio else None
        dst.metadata.update(_carried(src.metadata, {"AIGC"}) | (metadata or {}))
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        vout = dst.add_stream(encoder, rate=rate)
        vout.width, vout.height = _even(vin.codec_context.width), _even(vin.codec_context.height)
        vout.pix_fmt = "yuv420p"
        vout.time_base = vin.time_base
        vout.codec_context.time_base = vin.time_base
        vout.thread_type = "AUTO"
        vout.options = _encoder_options(encoder, crf, preset)
        if media.video().rotation:  # keep phone videos upright (the display matrix is not in the frames)
            vout.set_display_rotation(media.video().rotation)
        aout, audio_tx = _audio_out(dst, ain, media.format, audio_fn)
        index = 0
        for packet in src.demux([s for s in (vin, ain) if s is not None]):
            if packet.stream.type == "audio":
                if audio_tx is None:
                    if packet.size:
                        packet.stream = aout
                        dst.mux(packet)
                else:
                    audio_tx.push(packet)
                continue
            for frame in packet.decode():
                _check_size(frame, vout, media)
                arr = frame.to_ndarray(format="yuv420p") if frame.format.name != "yuv420p" \
                    else frame.to_ndarray()
                t = float(frame.time) if frame.time is not None else index / float(rate)
                frame_fn(index, t, arr)
                new = av.VideoFrame.from_ndarray(arr, format="yuv420p")
                new.pts, new.time_base = frame.pts, frame.time_base
                dst.mux(vout.encode(new))
                index += 1
        dst.mux(vout.encode(None))
        if audio_tx is not None:
            audio_tx.finish()
        if index == 0:
            raise CorruptMediaError("no video frame could be decoded", path=media.name, hint=REENCODE_HINT)
    return out_buf.getvalue()


def remux(media: Media, metadata: dict[str, str | None]) -> bytes:
    """Stream-copy every video and audio packet into a fresh container with updated metadata (``None`` deletes).

    No decoding, so the content digest is unchanged.  MP4/MOV get ``use_metadata_tags`` (keys ``moov/udta/meta``,
    the TC260 video guide's layout, GB-16: without it FFmpeg silently drops unknown keys)."""
    out_buf = io.BytesIO()
    with _rewriting(media, out_buf, N_("cannot rewrite the {format} container: {error}")) as (src, dst):
        streams = [s for s in src.streams if s.type in ("video", "audio")]
        meta = _carried(src.metadata, set(metadata))
        dst.metadata.update(meta | {k: v for k, v in metadata.items() if v is not None})
        mapping = {s.index: dst.add_stream_from_template(s) for s in streams}
        for s in streams:  # keep language, title, handler; never a second AIGC block at stream level (GB-08)
            mapping[s.index].metadata.update(_carried(s.metadata, set(metadata) | {"AIGC", "DURATION"}))
        for packet in src.demux(streams):
            if not packet.size:  # the demuxer's flush packet
                continue
            packet.stream = mapping[packet.stream_index]
            dst.mux(packet)
    return out_buf.getvalue()


# what FFmpeg's demuxer reports about the container itself; written back as metadata keys they would be junk
_DERIVED = {"MAJOR_BRAND", "MINOR_VERSION", "COMPATIBLE_BRANDS", "ENCODER"}


def _carried(metadata: dict[str, str], replaced: set[str]) -> dict[str, str]:
    """The source's own metadata minus the keys we replace and the demuxer-derived ones."""
    drop = _DERIVED | {k.upper() for k in replaced}
    return {k: v for k, v in metadata.items() if k.upper() not in drop}


def _mux_options(fmt: str) -> dict[str, str]:
    return {"movflags": "use_metadata_tags"} if fmt in ("mp4", "mov") else {}


def _encoder_options(encoder: str, crf: int, preset: str) -> dict[str, str]:
    if encoder == "libvpx-vp9":  # VP9's constant quality is on another scale; realtime speed keeps it usable
        return {"crf": str(min(63, 10 + crf)), "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
    return {"crf": str(crf), "preset": preset}


def _even(n: int) -> int:
    return n - n % 2


def _check_size(frame: Any, vout: Any, media: Media) -> None:
    if (_even(frame.width), _even(frame.height)) != (vout.width, vout.height) or frame.width % 2 or frame.height % 2:
        raise UnsupportedMediaError("video frames change size or have odd dimensions ({width}x{height})",
                                    path=media.name, hint="Re-export at a fixed, even size.",
                                    values={"width": frame.width, "height": frame.height})


class _AudioTranscoder:
    """Decode -> (whole track) process -> encode; the audio watermark needs the whole signal at once."""

    def __init__(self, dst: Any, ain: Any, aout: Any, fn: AudioFn):
        self.dst, self.ain, self.aout, self.fn = dst, ain, aout, fn
        self.chunks: list[np.ndarray] = []
        cc = ain.codec_context
        self.planar = require_av().AudioResampler(format="fltp", layout=cc.layout.name, rate=cc.sample_rate)

    def push(self, packet: Any) -> None:
        for frame in packet.decode():
            for out in self.planar.resample(frame):
                self.chunks.append(out.to_ndarray().T)  # (n, channels)

    def finish(self) -> None:
        av = require_av()
        if not self.chunks:
            return
        rate = self.ain.codec_context.sample_rate
        samples = np.ascontiguousarray(self.fn(np.concatenate(self.chunks).astype(np.float32), rate), np.float32)
        layout = self.aout.codec_context.layout.name
        step = self.aout.codec_context.frame_size or 1024
        for i in range(0, len(samples), step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[i:i + step].T), format="fltp",
                                               layout=layout)
            frame.sample_rate, frame.pts = rate, i
            self.dst.mux(self.aout.encode(frame))
        self.dst.mux(self.aout.encode(None))


def _audio_out(dst: Any, ain: Any, fmt: str, fn: AudioFn | None) -> tuple[Any, _AudioTranscoder | None]:
    if ain is None:
        return None, None
    if fn is None:
        return dst.add_stream_from_template(ain), None
    cc = ain.codec_context
    aout = dst.add_stream("libopus" if fmt == "webm" else "aac", rate=48000 if fmt == "webm" else cc.sample_rate)
    aout.layout = cc.layout.name
    aout.format = "flt" if fmt == "webm" else "fltp"
    aout.bit_rate = 192_000
    return aout, _AudioTranscoder(dst, ain, aout, fn)


def reencode(media: Media, *, crf: int = 28, height: int | None = None, fps: float | None = None,
             start: float = 0.0, duration: float | None = None, preset: str = "veryfast") -> Media:
    """What a platform or a re-uploader does to a video: H.264 at ``crf``, scaled to ``height`` (aspect kept), cut
    to ``[start, start + duration)``, re-timed to ``fps`` (frames dropped or repeated), metadata and audio dropped.

    For the robustness tests and the benchmark; returns an MP4."""
    av = require_av()
    src = open_input(media)
    buf = io.BytesIO()
    try:
        vin = src.streams.video[0]
        vin.thread_type = "AUTO"
        w, h = vin.codec_context.width, vin.codec_context.height
        if height is not None:
            w, h = _even(round(w * height / h)), _even(height)
        rate = Fraction(fps).limit_denominator(1001) if fps else (vin.average_rate or Fraction(25))
        end = math.inf if duration is None else start + duration
        with av.open(buf, mode="w", format="mp4") as dst:
            v = dst.add_stream("libx264", rate=rate)
            v.width, v.height, v.pix_fmt = w, h, "yuv420p"
            v.options = {"crf": str(crf), "preset": preset}
            n = 0
            for frame in src.decode(vin):
                t = float(frame.time or 0.0)
                if t < start - 1e-6 or t >= end:
                    continue
                while start + n / float(rate) < t + 1.0 / float(vin.average_rate or rate) - 1e-6 \
                        and start + n / float(rate) < end:  # output slots this input frame covers
                    out = frame.reformat(width=w, height=h, format="yuv420p", interpolation="AREA")
                    out.pts, out.time_base = n, 1 / rate
                    dst.mux(v.encode(out))
                    n += 1
            dst.mux(v.encode(None))
    finally:
        src.close()
    return Media.from_bytes(buf.getvalue(), name="reencoded.mp4")


def edit_frames(media: Media, op: Callable[[np.ndarray], np.ndarray], *, crf: int = 23,
                preset: str = "veryfast") -> Media:
    """An editor's geometric export: every frame (RGB, h x w x 3) edited alike by ``op`` (mirror, quarter turn,
    crop, resize to any even size), then H.264 at ``crf``, the source's frame rate kept, metadata and audio
    dropped.  For the geometry tests and the benchmark (issue 24); returns an MP4."""
    av = require_av()
    src = open_input(media)
    buf = io.BytesIO()
    try:
        vin = src.streams.video[0]
        with av.open(buf, mode="w", format="mp4") as dst:
            v = None
            for n, frame in enumerate(src.decode(vin)):
                out = np.ascontiguousarray(op(frame.to_ndarray(format="rgb24")))
                if v is None:
                    v = dst.add_stream("libx264", rate=vin.average_rate or Fraction(25))
                    v.width, v.height, v.pix_fmt = out.shape[1], out.shape[0], "yuv420p"
                    v.options = {"crf": str(crf), "preset": preset}
                edited = av.VideoFrame.from_ndarray(out, format="rgb24")
                edited.pts = n
                dst.mux(v.encode(edited))
            if v is not None:
                dst.mux(v.encode(None))
    finally:
        src.close()
    return Media.from_bytes(buf.getvalue(), name="edited.mp4")


def synthetic_clip(fmt: str = "MP4", size: tuple[int, int] = (320, 240), seconds: float = 3.0, fps: int = 30,
                    seed: int = 7, audio: bool = True) -> Media:
    """A deterministic clip: a textured gradient panning slowly (motion, as in real footage); a 440 Hz tone in
    noise as the sound."""
    av = require_av()
    f = fmt.lower()
    if f not in CONTAINERS:
        raise ValueError(f"no synthetic video for {fmt!r}")
    muxer, encoder = CONTAINERS[f]
    w, h = size
    rng = np.random.default_rng(seed)
    big_h, big_w = h + 64, w + 4 * int(seconds * fps) + 64
    y, x = np.mgrid[0:big_h, 0:big_w]
    base = np.stack([x * 255 / big_w, y * 255 / big_h, (x + y) * 127 / (big_w + big_h) + 64], axis=-1)
    texture = rng.normal(0, 14, (big_h // 4 + 1, big_w // 4 + 1, 3)).repeat(4, 0).repeat(4, 1)[:big_h, :big_w]
    canvas = np.clip(base + texture + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=muxer) as dst:
        v = dst.add_stream(encoder, rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = _encoder_options(encoder, 18, "veryfast")
        a = None
        if audio:
            a = dst.add_stream("libopus" if f == "webm" else "aac", rate=48000)
            a.layout = "mono"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(canvas[32:32 + h, 4 * i:4 * i + w]), "rgb24")
            frame.pts = i
            dst.mux(v.encode(frame))
        dst.mux(v.encode(None))
        if a is not None:
            rate, n = 48000, int(48000 * seconds)
            noise = np.random.default_rng(seed).standard_normal(n)  # broadband: a host for the audio watermark
            tone = (0.15 * np.sin(2 * np.pi * 440 * np.arange(n) / rate) + 0.08 * noise).astype(np.float32)
            step = a.codec_context.frame_size or 960
            for i in range(0, n, step):
                fr = av.AudioFrame.from_ndarray(tone[None, i:i + step], format="flt", layout="mono")
                fr.sample_rate, fr.pts = rate, i
                dst.mux(a.encode(fr))
            dst.mux(a.encode(None))
    return Media.from_bytes(buf.getvalue(), name=f"synthetic.{f}")


__all__ = ["DEFAULT_CRF", "DEFAULT_PRESET", "reencode", "remux", "synthetic_clip", "transcode"]
