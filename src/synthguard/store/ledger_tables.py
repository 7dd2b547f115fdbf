"""Ledger and subject-vault tables (on the shared :class:`~synthguard.store.base.Base`, so one Alembic metadata).

* ``ledger_entries``  one row per event: the canonical JSON bytes that were hashed (``data``), its RFC 6962
  leaf hash, and ``kind``/``created_at`` copied out for querying.  Never updated, never purged (DS-18, LM-20,
  CSL-01: logs kept >= 6 months; they hold hashes and pseudonymous ids only, so they can be kept for good).
* ``ledger_nodes``    interior complete-subtree hashes keyed by ``(level, idx)``, written once per append in
  O(log n) so proofs at any size are a handful of primary-key lookups.  A cache: ``verify`` recomputes it.
* ``ledger_head``     a single row (id 1): tree size and the right-edge "compact range" (the hashes of the
  complete subtrees making up the tree, concatenated).  Appenders lock it first (``UPDATE ... RETURNING``), which
  serialises appends on SQLite and Postgres alike, so two appenders never get the same index.
* ``ledger_checkpoints`` signed tree heads (C2SP signed-note text) — the anchors of tamper evidence.
* ``vault_subject_keys`` / ``vault_payloads``  per-subject AES-256-GCM keys wrapped by the master key, and the
  encrypted personal data linked to ledger entries (PIPL Art. 47, PI-13: crypto-shredding; CSL-01 purge).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from synthguard.store.base import Base, UTCDateTime, utcnow

# INTEGER PRIMARY KEY is SQLite's rowid (clustered, fastest); BIGINT elsewhere.
Index64 = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    idx: Mapped[int] = mapped_column(Index64, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerNode(Base):
    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerCheckpoint(Base):
    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    log_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text)


class VaultSubjectKey(Base):
    __tablename__ = "vault_subject_keys"

    subject_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # NULL once erased
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    erasure_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class VaultPayload(Base):
    __tablename__ = "vault_payloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(128), index=True)
    entry_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


ENTRIES = cast(Table, LedgerEntry.__table__)
NODES = cast(Table, LedgerNode.__table__)
HEAD = cast(Table, LedgerHead.__table__)
CHECKPOINTS = cast(Table, LedgerCheckpoint.__table__)
SUBJECT_KEYS = cast(Table, VaultSubjectKey.__table__)
PAYLOADS = cast(Table, VaultPayload.__table__)
