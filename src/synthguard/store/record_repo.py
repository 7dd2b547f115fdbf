"""Queries of the generation records and their fingerprints (DS-18), so ``synthguard.trace`` and the core's label,
record and lookup journeys hold no SQL (issue 23).

Plain functions over a ``Session`` the caller opened (a record commits with its ledger entry; the trace reads
records, fingerprints and the ledger's proof in one transaction, so they agree); they return ORM rows or plain
values and leave the weighing of the evidence to ``trace``.  ``Session`` is re-exported for annotations.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from synthguard.store.schema import Fingerprint, Record


def add(s: Session, rec: Record) -> None:
    """Insert the record (and its fingerprints) now, inside the transaction of its ledger entry."""
    s.add(rec)
    s.flush()


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


__all__ = ["Session", "add", "content_ids_of", "fingerprints_of", "record", "record_by_watermark"]
