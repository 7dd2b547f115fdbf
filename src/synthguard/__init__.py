"""SynthGuard: make the law on deep synthesis executable (label, inspect, trace AI-generated media).

The public names load on first use (PEP 562), so ``synthguard --help`` and ``--version`` do not pay for numpy,
SQLAlchemy and the codecs (issue 22: the CLI starts in well under a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthguard.lazy import load_lazily

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.core import LabelResult, SynthGuard
    from synthguard.errors import SynthGuardError
    from synthguard.marking.base import LabelContext, Marker, Reading
    from synthguard.media import Media, Modality

_HOMES = {
    "LabelContext": "synthguard.marking.base",
    "LabelResult": "synthguard.core",
    "Marker": "synthguard.marking.base",
    "Media": "synthguard.media",
    "Modality": "synthguard.media",
    "Reading": "synthguard.marking.base",
    "Settings": "synthguard.config",
    "SynthGuard": "synthguard.core",
    "SynthGuardError": "synthguard.errors",
}

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


def __getattr__(name: str) -> Any:
    return load_lazily(globals(), _HOMES, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
