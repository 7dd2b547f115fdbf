"""Media: the bytes of one file plus what we know about it.

Sniffs the real format from magic bytes (never trusts the file name), enforces size
limits before any decoder runs, and decodes lazily through the codec layer (``codecs/``: images with Pillow's
decompression-bomb guard set to our own limit, audio, video, text).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthguard.codecs import audio as audio_codec
from synthguard.codecs import text as text_codec
from synthguard.codecs import video as video_codec
from synthguard.codecs.formats import FORMATS
from synthguard.codecs.formats import Modality as Modality  # re-exported: the modality belongs to Media
from synthguard.codecs.formats import sniff as sniff  # re-exported for callers that sniff bytes
from synthguard.codecs.image import check_pixels, decode_image
from synthguard.codecs.text import sniff_ooxml
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
        if fmt is None and data[:4] == b"PK\x03\x04":  # OOXML needs a look inside the ZIP (codecs/text)
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
        return FORMATS[self.format][0]

    @property
    def mime(self) -> str:
        return FORMATS[self.format][1]

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

        Each modality decodes in its codec (codecs/image, audio, video, text); the optional decoders (Pillow,
        soundfile, PyAV, lxml) are imported there, inside the functions, so the core imports without them."""
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
            return audio_codec.content_digest(self)
        if self.modality is Modality.VIDEO:
            return video_codec.content_digest(self)
        return text_codec.content_digest(self)

    def audio(self) -> Any:
        """Decoded audio (``codecs.audio.Audio``: float32 samples (n, channels) and the rate), cached."""
        if "audio" not in self._cache:
            self._cache["audio"] = _installed("audio", self, audio_codec.decode_audio)
        return self._cache["audio"]

    def video(self) -> Any:
        """Probed video (``codecs.video.VideoInfo``: size, fps, duration, streams), cached."""
        if "video" not in self._cache:
            limit = video_codec.DEFAULT_MAX_SECONDS if self.max_seconds is None else self.max_seconds
            self._cache["video"] = _installed("video", self, lambda m: video_codec.probe_video(m, limit))
        return self._cache["video"]

    def text(self) -> Any:
        """Decoded text document (``codecs.text.TextDoc``), cached."""
        if "text" not in self._cache:
            self._cache["text"] = _installed("text", self, text_codec.decode_text)
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
        check_pixels(img.size, self.max_pixels, self.name)
        return img

    @cached_property
    def pixel_sha256(self) -> str:
        """Hash of the decoded pixels: stable across metadata edits, changes on any pixel edit."""
        img = self.image()
        h = hashlib.sha256(f"{img.mode}:{img.width}x{img.height}:".encode())
        h.update(img.tobytes())
        return h.hexdigest()


def _installed(modality: str, media: Media, decode: Callable[[Media], Any]) -> Any:
    """Run a codec's decoder; a library it imports on first use that is missing is "unsupported", not a crash."""
    try:
        return decode(media)
    except ImportError as exc:
        raise UnsupportedMediaError("{modality} files are not supported by this installation ({exc})",
                                    path=media.name, hint="Install the extras: pip install 'synthguard[video,voice]'.",
                                    values={"modality": modality, "exc": exc}) from exc


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
