"""Audio decoding and re-encoding (the audio markers, LM Art. 4(1)(2), Art. 5; GB-04, GB-17; ``Media.audio()``).

- :func:`decode_audio` turns WAV, FLAC, OGG Vorbis, MP3 and M4A (AAC) files into float32 PCM (n, channels) with
  its rate; libsndfile (``soundfile``) first, FFmpeg (PyAV) for what it cannot read.  Every failure is a
  :class:`~synthguard.errors.CorruptMediaError` or :class:`~synthguard.errors.UnsupportedMediaError` with a hint,
  and the decoded length is bounded (:data:`DECODE_LIMIT_SECONDS`) before memory is spent.
- :func:`encode_like` writes samples back into the input's container and codec (WAV keeps its PCM width, FLAC,
  OGG Vorbis, MP3 and AAC at the input's bitrate), so a labelled file is the same kind of file as the output.
- :func:`content_digest` is the hash behind ``Media.content_sha256``: SHA-256 over the rate, the channel count and
  the samples rounded to 16-bit PCM.  Metadata edits (RIFF chunks, ID3, Vorbis comments, MP4 atoms) never touch
  the audio data, so it survives them; rounding to 16 bits keeps it stable across decoder builds.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthguard.codecs.formats import Modality
from synthguard.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError, optional_module
from synthguard.i18n import N_
from synthguard.limits import check_sample_rate

if TYPE_CHECKING:
    import numpy as np

    from synthguard.media import Media

DECODE_LIMIT_SECONDS = 4 * 3600.0  # hard memory guard; markers enforce the operator's max_audio_seconds
FORMATS = ("wav", "flac", "ogg", "mp3", "m4a")
HINT = "Install the voice extra: pip install 'synthguard[voice]' (soundfile, PyAV and mutagen)."
SF_FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG"}
_AV_OUT = {"mp3": ("mp3", "libmp3lame"), "m4a": ("ipod", "aac")}
DEFAULT_BITRATE = {"mp3": 192_000, "m4a": 160_000}
OGG_COMPRESSION = 0.25  # libsndfile compression level for Vorbis (quality = 1 - level)


@dataclass(frozen=True)
class Audio:
    """Decoded PCM: float32 samples shaped (n, channels) in [-1, 1], the rate in Hz, and what the file was."""

    samples: np.ndarray
    rate: int
    subtype: str | None = None  # libsndfile subtype (PCM_16, PCM_24, FLOAT, VORBIS...) when known
    bitrate: int | None = None  # lossy formats: the input's bitrate, reused when re-encoding

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1)

    def with_samples(self, samples: np.ndarray) -> Audio:
        import numpy as np

        s = np.asarray(samples, dtype=np.float32)
        return Audio(s.reshape(len(s), -1), self.rate, self.subtype, self.bitrate)


def require_audio(media: Media) -> None:
    if media.modality is not Modality.AUDIO:
        raise UnsupportedMediaError("expected an audio file, got {mime}", path=media.name,
                                    hint="Pass a WAV, FLAC, OGG, MP3 or M4A file.", values={"mime": media.mime})


# --- decoding ---------------------------------------------------------------------------------------------------
def decode_audio(media: Media) -> Audio:
    """Decode the whole file (so damage is found before anything is written)."""
    import numpy as np

    require_audio(media)
    audio = _decode_soundfile(media) if media.format in ("wav", "flac", "ogg", "mp3") else None
    if audio is None:
        audio = _decode_av(media)
    if len(audio.samples) == 0:
        raise CorruptMediaError("the file holds no audio samples (zero length)", path=media.name,
                                hint="Pass the generated audio itself; the file has a header but no sound.")
    if not np.all(np.isfinite(audio.samples)):
        raise CorruptMediaError("the audio contains NaN or infinite samples", path=media.name)
    return audio


def _check_length(frames: float, rate: float, media: Media) -> None:
    if rate <= 0:
        raise CorruptMediaError("the audio declares an impossible sample rate ({rate})", values={"rate": rate},
                                path=media.name)
    limit = min(DECODE_LIMIT_SECONDS, media.max_seconds or DECODE_LIMIT_SECONDS)
    if frames / rate > limit:
        raise MediaTooLargeError("audio is {seconds:,.0f} s long, over the limit of {limit:,.0f} s",
                                 values={"seconds": frames / rate, "limit": limit}, path=media.name,
                                 hint="Split the audio into shorter files; operators can raise "
                                      "SYNTHGUARD_MAX_AUDIO_SECONDS (at most 4 h).")


def _decode_soundfile(media: Media) -> Audio | None:
    try:
        import soundfile
    except ImportError:
        return None
    try:
        with soundfile.SoundFile(io.BytesIO(media.data)) as sf:
            check_sample_rate(sf.samplerate, path=media.name)  # readers resample from it (issue 27)
            _check_length(sf.frames, sf.samplerate, media)
            samples = sf.read(dtype="float32", always_2d=True)
            rate, subtype = int(sf.samplerate), sf.subtype
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        if media.format == "mp3":
            return None  # FFmpeg reads more MP3 variants (and tells truncation apart better)
        raise CorruptMediaError("cannot decode the {format} audio: {exc}", path=media.name,
                                hint=_corrupt_hint(media),
                                values={"format": media.format.upper(), "exc": exc}) from exc
    bitrate = _probe_bitrate(media) if media.format == "mp3" else None
    return Audio(samples, rate, subtype, bitrate)


def _corrupt_hint(media: Media) -> str:
    if media.format == "wav":
        return ("The WAV file is damaged or uses a coding libsndfile cannot read; re-export it as PCM WAV "
                "(16 or 24 bit).")
    return "The file is damaged or truncated; obtain an intact copy and retry."


def _require_av() -> Any:
    return optional_module("av", N_("decoding this audio needs PyAV, which is not installed"), HINT)


def _decode_av(media: Media) -> Audio:
    import numpy as np

    av = _require_av()
    try:
        container = av.open(io.BytesIO(media.data), mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise CorruptMediaError("cannot open the {format} container: {exc}", path=media.name,
                                hint=_corrupt_hint(media),
                                values={"format": media.format.upper(), "exc": exc}) from exc
    with container:
        if not container.streams.audio:
            raise UnsupportedMediaError("the file has no audio stream", path=media.name,
                                        hint="Label video files as video; pass an audio-only file here.")
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        if ctx is None:  # FFmpeg found the stream but no decoder for it (issue 27: a damaged M4A, atheris)
            raise CorruptMediaError("the audio stream has no decodable codec", path=media.name,
                                    hint=_corrupt_hint(media))
        rate = ctx.sample_rate or stream.rate
        if not rate:
            raise CorruptMediaError("the audio stream declares no sample rate", path=media.name)
        check_sample_rate(rate, path=media.name)
        if container.duration:
            _check_length(container.duration / 1_000_000 * rate, rate, media)
        channels = max(1, ctx.channels or 1)
        if channels > 8:
            raise UnsupportedMediaError("{channels} audio channels; at most 8 are supported", path=media.name,
                                        values={"channels": channels})
        out: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                arr = frame.to_ndarray()
                fmt = frame.format
                arr = arr.reshape(frame.layout.nb_channels, -1).T if fmt.is_planar else arr.reshape(
                    -1, frame.layout.nb_channels)
                out.append(_to_float(arr, fmt.name))
                total += len(arr)
                _check_length(total, rate, media)
        except av.error.FFmpegError as exc:
            raise CorruptMediaError("the {format} audio data is corrupt: {exc}", path=media.name,
                                    hint=_corrupt_hint(media),
                                    values={"format": media.format.upper(), "exc": exc}) from exc
        bitrate = int(ctx.bit_rate or stream.bit_rate or 0) or None
    if not out:
        raise CorruptMediaError("the file holds no decodable audio frames", path=media.name,
                                hint=_corrupt_hint(media))
    samples = np.concatenate(out).astype(np.float32, copy=False)
    return Audio(samples, int(rate), None, bitrate)


def _to_float(arr: np.ndarray, fmt: str) -> np.ndarray:
    import numpy as np

    if arr.dtype.kind == "f":
        return arr.astype(np.float32, copy=False)
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) - 128.0) / 128.0
    return arr.astype(np.float32) / float(2 ** (8 * arr.dtype.itemsize - 1))


def _probe_bitrate(media: Media) -> int | None:
    try:
        av = _require_av()
        with av.open(io.BytesIO(media.data), mode="r") as c:
            s = c.streams.audio[0] if c.streams.audio else None
            return int(s.codec_context.bit_rate or s.bit_rate or 0) or None if s is not None else None
    except Exception:  # the bitrate only steers re-encoding quality; the default is fine
        return None


# --- encoding ---------------------------------------------------------------------------------------------------
def encode_like(audio: Audio, media: Media) -> bytes:
    """Encode ``audio`` in the container and codec of ``media`` (samples are clipped to [-1, 1])."""
    import numpy as np

    require_audio(media)
    samples = np.clip(np.asarray(audio.samples, dtype=np.float32), -1.0, 1.0)
    samples = samples.reshape(len(samples), -1)
    if media.format in SF_FORMATS:
        return encode_soundfile(samples, audio.rate, media.format, audio.subtype)
    if media.format in _AV_OUT:
        return encode_lossy(samples, audio.rate, media.format, audio.bitrate or DEFAULT_BITRATE[media.format])
    raise UnsupportedMediaError("cannot write {format} audio", path=media.name, values={"format": media.format})


def encode_soundfile(samples: np.ndarray, rate: int, fmt: str, subtype: str | None) -> bytes:
    import soundfile

    if fmt == "ogg":
        subtype = "VORBIS"
    elif fmt == "flac":
        subtype = subtype if subtype in ("PCM_16", "PCM_24") else "PCM_16"
    else:
        subtype = subtype if subtype in ("PCM_16", "PCM_24", "PCM_32", "FLOAT") else "PCM_16"
    buf = io.BytesIO()
    # Vorbis at libsndfile's default quality (~0.4) is too coarse for the watermark: re-encode at quality 0.75
    extra = {"compression_level": OGG_COMPRESSION} if fmt == "ogg" else {}
    soundfile.write(buf, samples, rate, format=SF_FORMATS[fmt], subtype=subtype, **extra)
    return buf.getvalue()


def encode_lossy(samples: np.ndarray, rate: int, fmt: str, bitrate: int) -> bytes:
    """MP3 (libmp3lame) or M4A (AAC-LC) via PyAV's bundled FFmpeg; also used by the benchmark's codec attacks."""
    import numpy as np

    av = _require_av()
    container_fmt, codec = _AV_OUT[fmt]
    samples = np.asarray(samples, dtype=np.float32).reshape(len(samples), -1)
    channels = samples.shape[1]
    if channels > 2:
        samples, channels = samples.mean(axis=1, keepdims=True), 1
    layout = "mono" if channels == 1 else "stereo"
    if fmt == "mp3" and rate not in (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000):
        raise UnsupportedMediaError("MP3 cannot carry {rate} Hz audio", hint="Resample to 44.1 or 48 kHz.",
                                    values={"rate": rate})
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_fmt) as c:
        stream = c.add_stream(codec, rate=rate)
        stream.bit_rate = int(min(max(bitrate, 32_000), 320_000))
        stream.layout = layout
        planar = np.ascontiguousarray(samples.T)
        for i in range(0, planar.shape[1], 4096):
            frame = av.AudioFrame.from_ndarray(planar[:, i:i + 4096], format="fltp", layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return buf.getvalue()


# --- content hash -----------------------------------------------------------------------------------------------
def content_digest(media: Media) -> str:
    """SHA-256 of the decoded audio as 16-bit PCM (rate, channels, samples): unchanged by metadata edits."""
    import numpy as np

    audio = media.audio()
    pcm = np.clip(np.round(audio.samples.astype(np.float64) * 32767.0), -32768, 32767).astype("<i2")
    h = hashlib.sha256(f"pcm16:{audio.rate}:{audio.channels}:".encode())
    h.update(pcm.tobytes())
    return h.hexdigest()
