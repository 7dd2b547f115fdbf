"""The Marker protocol: every label kind (visible, metadata, watermark, C2PA) is one Marker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from synthguard.media import Media, Modality


@dataclass(frozen=True)
class LabelContext:
    """Everything a marker may need to know about the output being labeled.

    ``content_id`` is the GB 45438 ProduceID and the ledger's record key;
    ``producer`` is the provider code (GB-14); ``watermark_payload`` is the 8-byte
    pointer the invisible watermark carries (a keyed hash of the content id).
    """

    content_id: str
    producer: str
    created: datetime
    label: str = "1"  # GB-09: "1" is AIGC, "2" possibly, "3" suspected
    propagator: str | None = None
    propagate_id: str | None = None
    user: str | None = None  # pseudonymous user id, never a real name
    model: str | None = None
    watermark_payload: bytes | None = None
    ledger_ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reading:
    """What one marker found on a file. ``valid`` is None when there is nothing to validate."""

    marker: str
    found: bool
    data: dict[str, Any] = field(default_factory=dict)
    valid: bool | None = None
    problems: tuple[str, ...] = ()


@runtime_checkable
class Marker(Protocol):
    name: str  # "modality.technique", e.g. "image.visible"
    modalities: frozenset[Modality]

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        """Return a new Media carrying this mark. Must not drop marks applied earlier."""
        ...

    def read(self, media: Media) -> Reading:
        """Look for this mark; never raise for a merely absent mark."""
        ...
