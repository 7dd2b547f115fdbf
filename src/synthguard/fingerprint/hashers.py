"""The built-in hashers, by kind: what the plugin registry registers in its ``synthguard.hashers`` group, and what
code given no registry (a bare :class:`~synthguard.fingerprint.banks.Banks`, ``media_hashes``) uses.

Order matters: per modality, the first perceptual hasher is the one a generation record keeps (pdq for images,
vpdq for video, audio for audio); the exact sha256 comes last."""

from __future__ import annotations

from synthguard.fingerprint import EXACT, Hasher, Sha256Hasher
from synthguard.fingerprint.audio import AudioHasher
from synthguard.fingerprint.pdq import PDQHasher
from synthguard.fingerprint.video import VideoHasher
from synthguard.media import Modality

BUILTIN: dict[str, type[Hasher]] = {"pdq": PDQHasher, "vpdq": VideoHasher, "audio": AudioHasher, EXACT: Sha256Hasher}


def builtin_hashers(modality: Modality | None = None, *, exact: bool = True) -> list[Hasher]:
    """Fresh built-in hashers (of ``modality``; without sha256 when ``exact`` is False), in :data:`BUILTIN` order."""
    return [cls() for kind, cls in BUILTIN.items()
            if (modality is None or modality in cls.modalities) and (exact or kind != EXACT)]


__all__ = ["BUILTIN", "builtin_hashers"]
