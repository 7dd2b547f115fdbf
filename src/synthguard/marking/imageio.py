"""Moved to :mod:`synthguard.codecs.image`; kept for ``marking/watermark/marker.py``."""

from synthguard.codecs.image import encode_like

__all__ = ["encode_like"]
