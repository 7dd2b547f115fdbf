"""Decoding with PyAV for the video and audio fingerprints (and the consent checks): sampled RGB frames and mono
PCM at a fixed rate.

The decoders are optional extras, imported lazily so the core imports without them:

- video: PyAV (``av``, wheels bundle the FFmpeg libraries) -- ``pip install 'synthguard[video]'``.
- audio: PCM WAV decodes with the standard library alone; MP3/FLAC use ``soundfile`` (wheels bundle libsndfile with
  MP3 support) or PyAV; audio inside MP4/WebM needs PyAV -- ``pip install 'synthguard[voice]'``.

Every decoder failure becomes :class:`~synthguard.errors.CorruptMediaError` (damaged or truncated file) or
:class:`~synthguard.errors.UnsupportedMediaError` (no such stream, decoder not installed), never a raw FFmpeg error.
Audio is downmixed to mono and resampled with :func:`scipy.signal.resample_poly` (a Kaiser-windowed FIR, so the
anti-alias filter is proper) in overlapping blocks: memory stays bounded by the block, not the file's length.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from fractions import Fraction
from math import gcd
from typing import TYPE_CHECKING, Any

from synthguard.codecs.formats import Modality
from synthguard.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError, optional_module
from synthguard.i18n import N_
from synthguard.limits import check_sample_rate

if TYPE_CHECKING:
    import numpy as np

    from synthguard.media import Media

VIDEO_HINT = "Install the video extra: pip install 'synthguard[video]' (PyAV, which bundles FFmpeg)."
AUDIO_HINT = ("Install the voice extra: pip install 'synthguard[voice]' (soundfile and PyAV decode MP3, FLAC, "
              "MP4 audio).")
# Frames are area-averaged to this fixed size before PDQ.  PDQ squashes any image to 64x64 anyway, so this keeps the
# hash of the full frame, but it makes copies at other resolutions agree much better: on 160x120 H.264 copies of
# 320x240 sources the mean frame distance fell from 23 to 11 bits and no frame exceeded 31 (11% did before).
FRAME_SIZE = (256, 256)
DEFAULT_MAX_SECONDS = 4 * 3600.0
_BLOCK_SECONDS = 30.0  # audio is resampled in blocks of this length


def require_av(hint: str = VIDEO_HINT) -> Any:
    return optional_module("av", N_("decoding this media needs PyAV, which is not installed"), hint)


def _open_container(media: Media, hint: str) -> Any:
    av = require_av(hint)
    try:
        return av.open(io.BytesIO(media.data), mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise CorruptMediaError("cannot open the {format} container: {exc}",
                                values={"format": media.format, "exc": exc}, path=media.name) from exc


def video_frames(media: Media, fps: float = 1.0, *, size: tuple[int, int] | None = FRAME_SIZE,
                 max_seconds: float = DEFAULT_MAX_SECONDS) -> Iterator[tuple[float, np.ndarray]]:
    """(timestamp in seconds, RGB uint8 array) of the first frame at or after each multiple of ``1/fps``, scaled to
    ``size`` (width, height) by area averaging, or at the stream's own size when ``size`` is None.

    Raises CorruptMediaError when nothing decodes or the frames stop short of the declared duration by more than
    2 s and 10% (a truncated download); a file cut closer to its end hashes what it holds.
    """
    if media.modality is not Modality.VIDEO:
        raise UnsupportedMediaError("expected a video, got {mime}", values={"mime": media.mime}, path=media.name,
                                    hint="Use the PDQ hasher for images and the audio hasher for sound.")
    if fps <= 0:
        raise ValueError("fps must be positive")
    max_seconds = min(max_seconds, media.max_seconds or max_seconds)
    container = _open_container(media, VIDEO_HINT)
    av = require_av()
    try:
        if not container.streams.video:
            raise UnsupportedMediaError("the file has no video stream", path=media.name,
                                        hint="Hash an audio-only file with the audio hasher.")
        stream = container.streams.video[0]
        if stream.codec_context is None:  # a stream FFmpeg has no decoder for (issue 27, atheris)
            raise CorruptMediaError("the video stream has no decodable codec", path=media.name, hint=VIDEO_HINT)
        stream.thread_type = "AUTO"
        width, height = stream.codec_context.width, stream.codec_context.height
        if width and height and width * height > media.max_pixels:
            raise MediaTooLargeError("video frames are {width}x{height}, over the pixel limit",
                                     values={"width": width, "height": height}, path=media.name)
        declared = _declared_seconds(container, stream)
        next_t, count, last_t = 0.0, 0, None
        try:
            for frame in container.decode(stream):
                t = frame.time if frame.time is not None else count / fps
                last_t = t
                if t > max_seconds:
                    raise MediaTooLargeError("video is longer than the limit of {max_seconds:.0f} s",
                                             values={"max_seconds": max_seconds},
                                             path=media.name)
                if t + 1e-6 < next_t:
                    continue
                scale = {"width": size[0], "height": size[1], "interpolation": "AREA"} if size else {}
                yield float(t), frame.to_ndarray(format="rgb24", **scale)
                count += 1
                next_t = (int(t * fps + 1e-6) + 1) / fps
        except av.error.FFmpegError as exc:
            raise CorruptMediaError("video data is corrupt after {count} sampled frames: {exc}",
                                    values={"count": count, "exc": exc},
                                    path=media.name) from exc
        if count == 0:
            raise CorruptMediaError("no video frame could be decoded", path=media.name)
        if declared and last_t is not None and declared - last_t > max(2.0, 0.1 * declared):
            raise CorruptMediaError("video is truncated: frames stop at {last_t:.1f} s of a declared {declared:.1f} s",
                                    values={"last_t": last_t, "declared": declared}, path=media.name)
    finally:
        container.close()


def _declared_seconds(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


# --- audio ------------------------------------------------------------------------------------------------------
def audio_samples(media: Media, rate: int, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> np.ndarray:
    """Mono float32 PCM at ``rate`` Hz (anti-aliased polyphase resampling), whatever the file's rate and layout."""
    import numpy as np

    if media.modality not in (Modality.AUDIO, Modality.VIDEO):
        raise UnsupportedMediaError("expected audio, got {mime}", values={"mime": media.mime}, path=media.name,
                                    hint="Pass a WAV, MP3, FLAC, MP4 or WebM file.")
    max_seconds = min(max_seconds, media.max_seconds or max_seconds)  # the operator's limit, if the media has one
    blocks = _wav_blocks(media) if media.format == "wav" else None
    if blocks is None and media.format in ("wav", "flac", "mp3"):
        blocks = _soundfile_blocks(media)
    if blocks is None:
        blocks = _av_blocks(media)
    out: list[np.ndarray] = []
    resampler: _BlockResampler | None = None
    total = 0.0
    for native, block in blocks:
        if resampler is None:
            check_sample_rate(native, path=media.name)  # the filter grows with the rate ratio (issue 27)
            resampler = _BlockResampler(native, rate)
        total += len(block) / native
        if total > max_seconds:
            raise MediaTooLargeError("audio is longer than the limit of {max_seconds:.0f} s",
                                     values={"max_seconds": max_seconds}, path=media.name)
        out.extend(resampler.push(block))
    if resampler is None:
        raise CorruptMediaError("the file holds no audio samples", path=media.name)
    out.extend(resampler.flush())
    samples = np.concatenate(out) if out else np.zeros(0, np.float32)
    if samples.size == 0:
        raise CorruptMediaError("the file holds no audio samples", path=media.name)
    return samples.astype(np.float32, copy=False)


def _wav_blocks(media: Media) -> Iterator[tuple[int, np.ndarray]] | None:
    """Integer PCM WAV via the standard library; None for other WAV codings (float, ADPCM...)."""

    try:
        reader = wave.open(io.BytesIO(media.data), "rb")
    except wave.Error:
        return None
    except (EOFError, OSError) as exc:
        raise CorruptMediaError("WAV header is truncated: {exc}", values={"exc": exc}, path=media.name) from exc
    width, channels, native = reader.getsampwidth(), reader.getnchannels(), reader.getframerate()
    if width not in (1, 2, 3, 4) or native <= 0 or channels <= 0:
        raise CorruptMediaError("WAV header is invalid (width={width!r}, channels={channels!r}, rate={native})",
                                values={"width": width, "channels": channels, "native": native}, path=media.name)

    def gen() -> Iterator[tuple[int, np.ndarray]]:
        step = int(native * _BLOCK_SECONDS)
        while raw := reader.readframes(step):
            usable = len(raw) - len(raw) % (width * channels)
            yield native, _pcm_to_mono(raw[:usable], width, channels)

    return gen()


def _pcm_to_mono(raw: bytes, width: int, channels: int) -> np.ndarray:
    import numpy as np

    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        x = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8).astype(np.float32) / 2**23
    else:
        x = np.frombuffer(raw, f"<i{width}").astype(np.float32) / float(2 ** (8 * width - 1))
    return x.reshape(-1, channels).mean(axis=1, dtype=np.float32)


def _soundfile_blocks(media: Media) -> Iterator[tuple[int, np.ndarray]] | None:
    import numpy as np

    try:
        import soundfile
    except ImportError:
        return None
    try:
        sf = soundfile.SoundFile(io.BytesIO(media.data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        if _has_av():
            return None  # let FFmpeg try: it reads more variants than libsndfile
        raise CorruptMediaError("cannot read {format} audio: {exc}",
                                values={"format": media.format, "exc": exc}, path=media.name) from exc

    def gen() -> Iterator[tuple[int, np.ndarray]]:
        with sf:
            try:
                for block in sf.blocks(blocksize=int(sf.samplerate * _BLOCK_SECONDS), dtype="float32",
                                       always_2d=True):
                    yield sf.samplerate, block.mean(axis=1, dtype=np.float32)
            except (soundfile.LibsndfileError, RuntimeError) as exc:
                raise CorruptMediaError("{format} audio is corrupt: {exc}",
                                        values={"format": media.format, "exc": exc}, path=media.name) from exc

    return gen()


def _has_av() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _av_blocks(media: Media) -> Iterator[tuple[int, np.ndarray]]:
    import numpy as np

    container = _open_container(media, AUDIO_HINT)
    av = require_av(AUDIO_HINT)
    if not container.streams.audio:
        container.close()
        raise UnsupportedMediaError("the file has no audio stream", path=media.name)
    stream = container.streams.audio[0]
    if stream.codec_context is None:  # a stream FFmpeg has no decoder for (issue 27: a damaged M4A, atheris)
        container.close()
        raise CorruptMediaError("the audio stream has no decodable codec", path=media.name, hint=AUDIO_HINT)
    native = stream.codec_context.sample_rate or stream.rate
    if not native:
        container.close()
        raise CorruptMediaError("the audio stream declares no sample rate", path=media.name)
    downmix = av.AudioResampler(format="flt", layout="mono", rate=native)

    def gen() -> Iterator[tuple[int, np.ndarray]]:
        pending: list[np.ndarray] = []
        size = 0
        try:
            for frame in container.decode(stream):
                for out in downmix.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    size += pending[-1].size
                if size >= native * _BLOCK_SECONDS:
                    yield native, np.concatenate(pending)
                    pending, size = [], 0
            for out in downmix.resample(None):
                pending.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            raise CorruptMediaError("audio data is corrupt: {exc}", values={"exc": exc}, path=media.name) from exc
        finally:
            container.close()
        if pending:
            yield native, np.concatenate(pending)

    return gen()


class _BlockResampler:
    """``resample_poly`` over a stream of blocks, equal to one call on the whole signal up to float rounding.

    Each input block is cut at a multiple of ``down`` samples and resampled with ``pad`` samples of context on each
    side (longer than the filter's half-length), then the outputs belonging to the context are trimmed.
    """

    def __init__(self, native: int, rate: int):
        import numpy as np

        g = gcd(int(native), int(rate))
        self.up, self.down = int(rate) // g, int(native) // g
        half = 10 * max(self.up, self.down) // self.up + 2  # resample_poly's default filter half-length, input side
        self.pad = -(-half // self.down) * self.down
        self.buf = np.zeros(self.pad, np.float32)  # leading zeros stand for the signal's start
        self.done = 0  # input samples already emitted (excluding the leading pad)

    def _run(self, x: np.ndarray, emit_in: int) -> np.ndarray:
        import numpy as np
        from scipy.signal import resample_poly

        if self.up == self.down:
            return x[self.pad:self.pad + emit_in]
        y = resample_poly(x, self.up, self.down).astype(np.float32)
        start = self.pad * self.up // self.down
        return y[start:start + int(Fraction(emit_in * self.up, self.down).__ceil__())]

    def push(self, block: np.ndarray) -> list[np.ndarray]:
        import numpy as np

        self.buf = np.concatenate([self.buf, np.asarray(block, np.float32)])
        emit = (len(self.buf) - 2 * self.pad) // self.down * self.down
        if emit <= 0:
            return []
        out = self._run(self.buf[: emit + 2 * self.pad], emit)
        self.buf = self.buf[emit:]
        self.done += emit
        return [out]

    def flush(self) -> list[np.ndarray]:
        import numpy as np

        rest = len(self.buf) - self.pad
        if rest <= 0:
            return []
        x = np.concatenate([self.buf, np.zeros(self.pad + self.down, np.float32)])
        return [self._run(x, rest)]
