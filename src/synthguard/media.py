"""Media: the bytes of one file plus what we know about it.

Sniffs the real format from magic bytes (never trusts the file name), enforces size
limits before any decoder runs, and decodes images lazily with Pillow's
decompression-bomb guard set to our own limit.
"""

from __future__ import annotations

import enum
import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthguard.errors import (
    CorruptMediaError,
    InputError,
    MediaTooLargeError,
    OutputError,
    UnsupportedMediaError,
)

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_PIXELS = 64_000_000


class Modality(enum.Enum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"


# (format name, modality, mime) keyed by a predicate over the first bytes.
_FORMATS: dict[str, tuple[Modality, str]] = {
    "jpeg": (Modality.IMAGE, "image/jpeg"),
    "png": (Modality.IMAGE, "image/png"),
    "webp": (Modality.IMAGE, "image/webp"),
    "gif": (Modality.IMAGE, "image/gif"),
    "tiff": (Modality.IMAGE, "image/tiff"),
    "bmp": (Modality.IMAGE, "image/bmp"),
    "wav": (Modality.AUDIO, "audio/wav"),
    "mp3": (Modality.AUDIO, "audio/mpeg"),
    "flac": (Modality.AUDIO, "audio/flac"),
    "ogg": (Modality.AUDIO, "audio/ogg"),
    "m4a": (Modality.AUDIO, "audio/mp4"),
    "mp4": (Modality.VIDEO, "video/mp4"),
    "webm": (Modality.VIDEO, "video/webm"),
    "mov": (Modality.VIDEO, "video/quicktime"),
    "mkv": (Modality.VIDEO, "video/x-matroska"),
    "text": (Modality.TEXT, "text/plain"),
    "markdown": (Modality.TEXT, "text/markdown"),
    "docx": (Modality.TEXT, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (Modality.TEXT, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (Modality.TEXT, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}

IMAGE_WRITE_FORMATS = ("jpeg", "png", "webp")

# File-name extensions that name one of our formats; an output named for another format is refused.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"), "png": (".png",), "webp": (".webp",), "gif": (".gif",),
    "tiff": (".tif", ".tiff"), "bmp": (".bmp",), "wav": (".wav",), "mp3": (".mp3",), "flac": (".flac",),
    "ogg": (".ogg", ".oga", ".opus"), "m4a": (".m4a", ".aac"), "mp4": (".mp4", ".m4v"), "webm": (".webm",),
    "mov": (".mov", ".qt"), "mkv": (".mkv",), "text": (".txt",), "markdown": (".md", ".markdown"),
    "docx": (".docx",), "xlsx": (".xlsx",), "pptx": (".pptx",),
}

_KIN = ({"text", "markdown"}, {"m4a", "mp4"})  # names either may carry (an .mp4 that holds only audio is common)


def check_output_name(path: str | os.PathLike[str], fmt: str) -> None:
    """Refuse ``-o x.png`` for JPEG bytes: the file would lie about its format (a viewer or a platform that trusts
    the name misreads it).  Names without a known media extension (``out``, ``x.bin``) are left alone."""
    suffix = Path(path).suffix.lower()
    owner = next((f for f, names in SUFFIXES.items() if suffix in names), None)
    if owner is None or owner == fmt or any({owner, fmt} <= kin for kin in _KIN):
        return
    raise OutputError("the output name ends in {suffix} but the labeled file is {format} (use {want}); SynthGuard "
                      "does not convert formats", path=os.fspath(path),
                      values={"suffix": suffix, "format": fmt.upper(), "want": SUFFIXES[fmt][0]},
                      hint="Name the output with the extension of the input's format, or convert the input to the "
                           "format you want before labeling.")


def sniff(head: bytes) -> str | None:
    """Return our format name for the leading bytes of a file, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp" and head[8:12] in (b"M4A ", b"M4B "):
        return "m4a"
    if head[4:8] == b"ftyp":
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv" if b"matroska" in head else "webm"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character may straddle the cut; accept if only the tail is broken
        if exc.start < len(head) - 3 or exc.reason != "unexpected end of data":
            return None
    if b"\x00" in head:
        return None
    if head.startswith((b"---\n", b"---\r\n")):  # YAML front matter: Markdown (GB-18)
        return "markdown"
    return "text" if head else None


@dataclass(frozen=True)
class Media:
    """One media file held in memory. Immutable: markers return new Media."""

    data: bytes
    format: str
    name: str = "<bytes>"
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_seconds: float | None = None  # longest audio/video accepted (None: the decoders' own hard limit)
    _cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_bytes(
        cls, data: bytes, name: str = "<bytes>", *, max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> Media:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InputError("expected bytes, got {data_type}", path=name,
                             values={"data_type": type(data).__name__})
        data = bytes(data)
        if not data:
            raise CorruptMediaError("the file is empty", path=name)
        if len(data) > max_bytes:
            raise MediaTooLargeError("file is {size:,} bytes, over the limit of {max_bytes:,}", path=name,
                                     values={"size": len(data), "max_bytes": max_bytes})
        fmt = sniff(data[:64])
        if fmt is None and data[:4] == b"PK\x03\x04":  # OOXML needs a look inside the ZIP (marking/text)
            from synthguard.marking.text.io import sniff_ooxml

            fmt = sniff_ooxml(data, name)
        elif fmt in ("text", "markdown") and name.lower().endswith((".md", ".markdown", ".txt")):
            fmt = "text" if name.lower().endswith(".txt") else "markdown"  # the name settles text vs Markdown
        if fmt is None:
            raise UnsupportedMediaError("not a recognised media file (unknown magic bytes)", path=name)
        return cls(data=data, format=fmt, name=name, max_pixels=max_pixels)

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> Media:
        p = Path(path)
        if not p.is_file():
            raise InputError("no such file", path=p, hint="Check the path.")
        size = p.stat().st_size
        if size > max_bytes:
            raise MediaTooLargeError("file is {size:,} bytes, over the limit of {max_bytes:,}", path=p,
                                     values={"size": size, "max_bytes": max_bytes})
        return cls.from_bytes(p.read_bytes(), name=str(p), max_bytes=max_bytes, max_pixels=max_pixels)

    # --- facts --------------------------------------------------------------------------
    @property
    def modality(self) -> Modality:
        return _FORMATS[self.format][0]

    @property
    def mime(self) -> str:
        return _FORMATS[self.format][1]

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def replace(self, data: bytes, fmt: str | None = None, *, same_pixels: bool = False) -> Media:
        """A new Media with other bytes but the same name and limits.

        ``same_pixels`` is for writers that only touch metadata (XMP, C2PA): the decoded image and the pixel
        hash carry over instead of being decoded again."""
        new = Media(data=data, format=fmt or self.format, name=self.name, max_pixels=self.max_pixels,
                    max_seconds=self.max_seconds)
        if same_pixels:
            new._cache.update(self._cache)
            for derived in ("pixel_sha256", "size"):
                if derived in self.__dict__:
                    new.__dict__[derived] = self.__dict__[derived]
        return new

    # --- every modality -----------------------------------------------------------------
    def decode(self) -> None:
        """Decode fully now, so corrupt or truncated input fails before anything is written or recorded.

        Images decode with Pillow here; the other modalities delegate to their own modules
        (marking/audio, marking/video, marking/text), imported lazily so the core imports without them."""
        if self.modality is Modality.IMAGE:
            self.image()
        elif self.modality is Modality.AUDIO:
            self.audio()
        elif self.modality is Modality.VIDEO:
            self.video()
        else:
            self.text()

    @cached_property
    def content_sha256(self) -> str:
        """Hash of the decoded content (pixels, PCM samples, frames, normalised text): survives metadata edits."""
        if self.modality is Modality.IMAGE:
            return self.pixel_sha256
        if self.modality is Modality.AUDIO:
            from synthguard.marking.audio.io import content_digest as audio_digest

            return audio_digest(self)
        if self.modality is Modality.VIDEO:
            from synthguard.marking.video.io import content_digest as video_digest

            return video_digest(self)
        from synthguard.marking.text.io import content_digest as text_digest

        return text_digest(self)

    def audio(self) -> Any:
        """Decoded audio (``marking.audio.io.Audio``: float32 samples (n, channels) and the rate), cached."""
        if "audio" not in self._cache:
            self._cache["audio"] = _modality_io("audio", "decode_audio", self)(self)
        return self._cache["audio"]

    def video(self) -> Any:
        """Probed video (``marking.video.io.VideoInfo``: size, fps, duration, streams), cached."""
        if "video" not in self._cache:
            probe = _modality_io("video", "probe_video", self)
            self._cache["video"] = probe(self) if self.max_seconds is None else probe(self, self.max_seconds)
        return self._cache["video"]

    def text(self) -> Any:
        """Decoded text document (``marking.text.io.TextDoc``), cached."""
        if "text" not in self._cache:
            self._cache["text"] = _modality_io("text", "decode_text", self)(self)
        return self._cache["text"]

    # --- images -------------------------------------------------------------------------
    def require_image(self) -> None:
        if self.modality is not Modality.IMAGE:
            raise UnsupportedMediaError("expected an image, got {mime}", path=self.name,
                                        values={"mime": self.mime})

    def image(self) -> Image.Image:
        """Decode fully (so truncation is caught here), guarded against decompression bombs."""
        if "image" not in self._cache:
            self._cache["image"] = decode_image(self.data, self.name, self.max_pixels)
        return self._cache["image"].copy()

    @cached_property
    def size(self) -> tuple[int, int]:
        img = self._peek()
        return img.size

    def _peek(self) -> Image.Image:
        from PIL import Image

        self.require_image()
        try:
            img = Image.open(io.BytesIO(self.data))
        except Exception as exc:  # Pillow raises many types for garbage
            raise CorruptMediaError("cannot read image header: {exc}", path=self.name, values={"exc": exc}) from exc
        _check_pixels(img.size, self.max_pixels, self.name)
        return img

    @cached_property
    def pixel_sha256(self) -> str:
        """Hash of the decoded pixels: stable across metadata edits, changes on any pixel edit."""
        img = self.image()
        h = hashlib.sha256(f"{img.mode}:{img.width}x{img.height}:".encode())
        h.update(img.tobytes())
        return h.hexdigest()


def _modality_io(modality: str, function: str, media: Media) -> Any:
    """A decoder from marking/<modality>/io.py; a missing module or extra is "unsupported", not a crash."""
    from importlib import import_module

    try:
        return getattr(import_module(f"synthguard.marking.{modality}.io"), function)
    except (ImportError, AttributeError) as exc:
        raise UnsupportedMediaError("{modality} files are not supported by this installation ({exc})",
                                    path=media.name, hint="Install the extras: pip install 'synthguard[video,voice]'.",
                                    values={"modality": modality, "exc": exc}
                                    ) from exc


def _check_pixels(size: tuple[int, int], max_pixels: int, name: str) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise CorruptMediaError("image has impossible size {w}x{h}", path=name, values={"w": w, "h": h})
    if w * h > max_pixels:
        raise MediaTooLargeError(
            "image is {w}x{h} = {pixels:,} pixels, over the limit of {max_pixels:,} (decompression-bomb guard)",
            path=name, values={"w": w, "h": h, "pixels": w * h, "max_pixels": max_pixels},
        )


def decode_image(data: bytes, name: str, max_pixels: int) -> Image.Image:
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise MediaTooLargeError(str(exc), path=name) from exc
    except Exception as exc:
        raise CorruptMediaError("cannot decode image: {exc}", path=name, values={"exc": exc}) from exc
    _check_pixels(img.size, max_pixels, name)
    frames = int(getattr(img, "n_frames", 1))
    if frames > 1:
        raise UnsupportedMediaError(
            "animated image with {frames} frames", path=name,
            hint="Label animated images as video, or pass a single still frame.", values={"frames": frames},
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise CorruptMediaError("image data is truncated or corrupt: {exc}", path=name, values={"exc": exc}) from exc
    return img


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write via a temp file in the same directory and rename, so readers never see half a file."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError("output directory does not exist", path=p)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise OutputError("cannot write here: {strerror}", path=p, values={"strerror": exc.strerror}) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError("cannot write output: {strerror}", path=p, values={"strerror": exc.strerror}) from exc
    return p
