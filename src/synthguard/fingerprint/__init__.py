"""Fingerprints: Hasher (media -> hash) and the matching seam, so stripped copies still find their record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from synthguard.media import Media, Modality


@dataclass(frozen=True)
class Hash:
    kind: str  # "pdq", "sha256", ...
    value: str  # hex
    quality: int | None = None


@runtime_checkable
class Hasher(Protocol):
    kind: str
    modalities: frozenset[Modality]
    match_threshold: int  # largest distance that still counts as the same content

    def hash(self, media: Media) -> Hash: ...

    def distance(self, a: str, b: str) -> int: ...


__all__ = ["Hash", "Hasher"]
