"""Tables for named hash banks (DS-09 feature library; US-04 / CC-12 stay-down): banks, entries, audit.

Entries are never deleted, only soft-removed with who/why; every change also gets a row in
``hash_bank_audit``, which migration 0003 makes append-only on SQLite and Postgres (UPDATE and DELETE
raise).  Victims submit hashes, never images (StopNCII model), so nothing here holds media.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from synthguard.store.base import Base, UTCDateTime, utcnow


class HashBank(Base):
    """A named set of hashes of one kind, with its own match radius and an on/off switch."""

    __tablename__ = "hash_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # pdq | sha256 | vpdq | audio
    max_distance: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HashBankEntry(Base):
    """One hash in a bank; ``removed_at`` set (with who and why) instead of deleting the row."""

    __tablename__ = "hash_bank_entries"
    __table_args__ = (Index("ix_hash_bank_entries_bank_live", "bank_id", "removed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("hash_banks.id"), index=True)
    hash: Mapped[str] = mapped_column(String(64), index=True)  # lowercase hex; SHA-256 of ``data`` when set
    data: Mapped[str | None] = mapped_column(Text, nullable=True)  # a long fingerprint: vPDQ JSON, audio landmarks
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)  # PDQ quality 0..100
    reason: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    removed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class HashBankAudit(Base):
    """Append-only change log of the feature library (DS-09: who, when, why), also the index's change feed."""

    __tablename__ = "hash_bank_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))  # create | enable | disable | add | remove
    bank_id: Mapped[int] = mapped_column(ForeignKey("hash_banks.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("hash_bank_entries.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ledger_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
