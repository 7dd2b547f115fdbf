"""Moved to :mod:`synthguard.marking.image.metadata` (issue 23); the public names stay importable here."""

from synthguard.marking.image.metadata import ImageAIGCCodec, ImageMetadataMarker, MetadataMarker

__all__ = ["ImageAIGCCodec", "ImageMetadataMarker", "MetadataMarker"]
