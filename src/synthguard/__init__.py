"""SynthGuard: make the law on deep synthesis executable (label, inspect, trace AI-generated media)."""

from synthguard.config import Settings
from synthguard.core import LabelResult, SynthGuard
from synthguard.errors import SynthGuardError
from synthguard.marking.base import LabelContext, Marker, Reading
from synthguard.media import Media, Modality

__all__ = [
    "LabelContext",
    "LabelResult",
    "Marker",
    "Media",
    "Modality",
    "Reading",
    "Settings",
    "SynthGuard",
    "SynthGuardError",
]
