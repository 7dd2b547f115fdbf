"""Detectors: everything that looks at an upload and says what it found (LM-13..LM-15, DS-21).

A :class:`Detector` turns one :class:`~synthguard.media.Media` into a list of :class:`Detection` values. Mark
readers (AIGC metadata, IPTC, C2PA, our watermark, third-party watermarks) are adapted in ``marks.py``; ML
classifiers with operator-supplied weights in ``onnx.py``. A detector never raises for a merely absent mark; a
reader that fails returns a ``kind="error"`` detection saying what was wrong, so the scan goes on.

``kind`` says how the scan may use a detection:

- ``"label"``: the file carries an explicit or implicit AI label (LM-13) -> supports ``label_value``
  ("1" is AI-generated, "2"/"3" when an earlier platform wrote that tier);
- ``"trace"``: a synthesis trace such as a third-party watermark (LM-15) -> ``label_value`` "3";
- ``"classifier"``: an ML score; always ``advisory`` and only counts when over a *calibrated* threshold;
- ``"declaration"``: the uploader said the content is AI-generated (LM-14; added by the scan, not a detector);
- ``"info"``: something worth recording that is not evidence of AI generation (e.g. a human-made IPTC type);
- ``"error"``: the reader failed or found a malformed mark; ``problems`` says what.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Protocol, runtime_checkable

from synthguard.media import Media, Modality

KINDS = ("label", "trace", "classifier", "declaration", "info", "error")


@dataclass(frozen=True)
class Detection:
    """One piece of evidence. ``score`` is the detector's own statistic, ``confidence`` in [0, 1]."""

    source: str  # detector name, "modality.technique"
    kind: str
    score: float | None = None
    confidence: float = 0.0
    label_value: str | None = None  # the GB 45438 Label tier this evidence supports, if any
    evidence: dict[str, Any] = field(default_factory=dict)
    advisory: bool = False  # a statistical opinion for human review, not a label the file carries
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Detection.kind must be one of {KINDS}, got {self.kind!r}")
        if self.label_value not in (None, "1", "2", "3"):
            raise ValueError(f"Detection.label_value must be None or '1'/'2'/'3', got {self.label_value!r}")

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain data: what :func:`dataclasses.asdict` gives, without its ``deepcopy`` of every
        string and number (a cached scan's repeats build these on every upload: issue 28)."""
        return {"source": self.source, "kind": self.kind, "score": self.score, "confidence": self.confidence,
                "label_value": self.label_value, "evidence": _plain(self.evidence), "advisory": self.advisory,
                "problems": list(self.problems)}


_SCALARS = (str, int, float, bool, type(None), bytes)


def _plain(value: Any) -> Any:
    """``value`` copied like ``asdict`` copies a field: containers rebuilt, dataclasses as dicts; immutable
    scalars are shared rather than deep-copied."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_plain(v) for v in value)
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else copy.deepcopy(value)


@runtime_checkable
class Detector(Protocol):
    name: str  # "modality.technique", e.g. "image.c2pa"
    modalities: frozenset[Modality]

    def detect(self, media: Media) -> list[Detection]:
        """Evidence found on ``media``; an empty list when there is nothing to say."""
        ...


__all__ = ["KINDS", "Detection", "Detector"]
