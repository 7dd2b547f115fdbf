"""Queries of the trace (``synthguard.trace``): the generation records a file's pointers and fingerprints name, so
the trace holds no SQL (issue 23).

Plain functions over a ``Session`` the caller opened (the trace reads records, fingerprints and the ledger's proof
in one transaction, so they agree); they return ORM rows or plain values and leave the weighing of the evidence to
``trace``.  ``Session`` is re-exported for the domain's type annotations.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from synthguard.store.schema import Fingerprint, Record


def record(s: Session, content_id: Any) -> Record | None:
    """The record of ``content_id`` (a value read from a file: looked up as given)."""
    return s.get(Record, content_id)


def record_by_watermark(s: Session, payload: Any) -> Record | None:
    """The record whose output carries the watermark ``payload``."""
    return s.scalars(select(Record).where(Record.watermark_payload == payload)).first()


def content_ids_of(s: Session, kind: str, value: str) -> list[str]:
    """The content ids of the records with a fingerprint of ``kind`` equal to ``value`` (exact hashes)."""
    return list(s.scalars(select(Fingerprint.content_id).where(Fingerprint.kind == kind, Fingerprint.value == value)))


def fingerprints_of(s: Session, kind: str) -> list[tuple[str, str]]:
    """``(content_id, value)`` of every fingerprint of ``kind`` (PDQ: matched by distance in memory)."""
    return [(r[0], r[1]) for r in s.execute(select(Fingerprint.content_id, Fingerprint.value)
                                            .where(Fingerprint.kind == kind))]


__all__ = ["Session", "content_ids_of", "fingerprints_of", "record", "record_by_watermark"]
