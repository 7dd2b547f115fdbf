"""Put marks on media and read them back (the Marker seam)."""

from synthguard.marking.base import LabelContext, Marker, Reading

__all__ = ["LabelContext", "Marker", "Reading"]
