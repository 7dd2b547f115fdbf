"""The formats SynthGuard reads, told apart by their first bytes (never by the file name), and their modality.

The bottom of the codec layer: ``media.Media`` and every decoder in ``codecs/`` use these names.
"""

from __future__ import annotations

import enum


class Modality(enum.Enum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"


# (format name, modality, mime) keyed by a predicate over the first bytes.
FORMATS: dict[str, tuple[Modality, str]] = {
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
