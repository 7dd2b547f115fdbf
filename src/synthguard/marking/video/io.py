"""Synthetic video clips for tests and plugin authors (``testing.synthetic_media``, formats in
:data:`SYNTHETIC_FORMATS`).  Reading videos is ``codecs/video``, writing ``encode.py``.
"""

from __future__ import annotations

from typing import Any

from synthguard.marking.video.encode import synthetic_clip
from synthguard.media import Media

SYNTHETIC_FORMATS = ("MP4", "MOV", "MKV", "WEBM")


def synthetic_video(fmt: str = "MP4", **options: Any) -> Media:
    """A small deterministic clip (see :func:`synthguard.marking.video.encode.synthetic_clip`)."""
    return synthetic_clip(fmt, **options)
