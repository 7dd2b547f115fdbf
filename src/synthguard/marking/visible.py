"""Moved to :mod:`synthguard.marking.image.visible` (issue 23); the public names stay importable here."""

from synthguard.marking.image.visible import FOUND, LabelLayout, VisibleLabelMarker

__all__ = ["FOUND", "LabelLayout", "VisibleLabelMarker"]
