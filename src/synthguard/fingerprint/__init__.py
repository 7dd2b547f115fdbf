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
    """Media -> hash, and the distance between two hashes of this kind (plugin group ``synthguard.hashers``).

    Optional attributes read by banks (docs/plugins.md): ``bank_distance`` (default match radius of a bank of this
    kind; default ``match_threshold``) and ``bank_max_distance`` (the largest radius an operator may set)."""

    kind: str  # one name per kind: "pdq", "sha256", "vpdq", "audio" (KIND_ALIASES maps older spellings)
    modalities: frozenset[Modality]
    match_threshold: int  # largest distance that still counts as the same content

    def hash(self, media: Media) -> Hash: ...

    def distance(self, a: str, b: str) -> int: ...


EXACT = "sha256"  # the exact kind: a file's SHA-256, which every record, scan and bank keeps anyway
# Older spellings of a kind, accepted wherever a kind is stored or given: records made before issue 23 keep their
# per-frame video fingerprint under "video", banks and the hash command call the same hasher "vpdq".
KIND_ALIASES = {"video": "vpdq"}


def canonical_kind(kind: str) -> str:
    """The one name of a hash kind (``"video"`` -> ``"vpdq"``); other names unchanged."""
    return KIND_ALIASES.get(kind, kind)


class Sha256Hasher:
    """The exact hash of the file bytes (kind ``sha256``): any modality, matches only identical files."""

    kind = EXACT
    modalities = frozenset(Modality)
    match_threshold = 0
    bank_distance = 0
    bank_max_distance = 0

    def hash(self, media: Media) -> Hash:
        return Hash(self.kind, media.sha256)

    def distance(self, a: str, b: str) -> int:
        return 0 if a.strip().lower() == b.strip().lower() else 256


__all__ = ["EXACT", "KIND_ALIASES", "Hash", "Hasher", "Sha256Hasher", "canonical_kind"]
