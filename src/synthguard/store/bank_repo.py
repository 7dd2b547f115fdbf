"""Queries of the named hash banks (``synthguard.fingerprint.banks``, DS-09), so the banks hold no SQL (issue 23).

Plain functions over a ``Session`` the caller opened, so a change, its audit row and its ledger event stay one
transaction; they return ORM rows, result rows or plain values and leave validation, matching and the in-memory
indexes to ``fingerprint.banks``.  The lookups a scan makes (the change-feed check, the visible banks, the entry
reasons) issue exactly the statements they did before.  ``Session`` is re-exported for the domain's annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from synthguard.store.bank_tables import HashBank, HashBankAudit, HashBankEntry
from synthguard.store.base import insert_unique

if TYPE_CHECKING:
    from synthguard.store.db import Database

_REASON_CHUNK = 500  # entry ids per reason query


# --- banks --------------------------------------------------------------------------------------
def bank(s: Session, name: str) -> HashBank | None:
    return s.scalar(select(HashBank).where(HashBank.name == name))


def bank_exists(s: Session, name: str) -> bool:
    return s.scalar(select(HashBank.id).where(HashBank.name == name)) is not None


def add_bank(s: Session, row: HashBank) -> bool:
    """Insert a bank now; False when another process created one of that name first (the unique name)."""
    return insert_unique(s, row)


def banks(s: Session) -> list[HashBank]:
    return list(s.scalars(select(HashBank)))


def banks_with_counts(s: Session, tenant: str | None) -> list[Any]:
    """``(HashBank, entries, removed entries)`` of every bank (of ``tenant`` when given), by name."""
    q = (select(HashBank, func.count(HashBankEntry.id), func.count(HashBankEntry.removed_at))
         .outerjoin(HashBankEntry, HashBankEntry.bank_id == HashBank.id)
         .group_by(HashBank.id).order_by(HashBank.name))
    if tenant is not None:
        q = q.where(HashBank.tenant == tenant)
    return list(s.execute(q))


def names_of_tenant(s: Session, tenant: str) -> set[str]:
    return set(s.scalars(select(HashBank.name).where(HashBank.tenant == tenant)))


def share_changes(s: Session, upto: int) -> list[Any]:
    """``(bank name, action, details)`` of the share and unshare audit rows up to audit id ``upto``, oldest first."""
    return list(s.execute(select(HashBank.name, HashBankAudit.action, HashBankAudit.details)
                          .join(HashBank, HashBank.id == HashBankAudit.bank_id)
                          .where(HashBankAudit.action.in_(("share", "unshare")), HashBankAudit.id <= upto)
                          .order_by(HashBankAudit.id)))


# --- entries ------------------------------------------------------------------------------------
def entry(s: Session, entry_id: int) -> HashBankEntry | None:
    return s.get(HashBankEntry, entry_id)


def live_entry_id(s: Session, bank_id: int, h: str) -> int | None:
    """The id of the bank's live (not removed) entry of hash ``h``."""
    return s.scalar(select(HashBankEntry.id).where(HashBankEntry.bank_id == bank_id, HashBankEntry.hash == h,
                                                   HashBankEntry.removed_at.is_(None)))


def add_entry(s: Session, row: HashBankEntry) -> None:
    """Insert an entry now (its id is needed by the audit row)."""
    s.add(row)
    s.flush()


def entries(s: Session, bank_id: int, *, include_removed: bool, limit: int | None, offset: int
            ) -> list[HashBankEntry]:
    q = select(HashBankEntry).where(HashBankEntry.bank_id == bank_id).order_by(HashBankEntry.id)
    if not include_removed:
        q = q.where(HashBankEntry.removed_at.is_(None))
    return list(s.scalars(q.offset(offset).limit(limit)))


def live_hashes(s: Session, bank_id: int) -> list[Any]:
    """``(id, hash)`` of the bank's live entries, by id."""
    return list(s.execute(select(HashBankEntry.id, HashBankEntry.hash)
                          .where(HashBankEntry.bank_id == bank_id, HashBankEntry.removed_at.is_(None))
                          .order_by(HashBankEntry.id)).all())


def live_data(s: Session, bank_id: int) -> list[Any]:
    """``(id, data)`` of the bank's live entries (the stored text of a long or plugin hash), by id."""
    return list(s.execute(select(HashBankEntry.id, HashBankEntry.data)
                          .where(HashBankEntry.bank_id == bank_id, HashBankEntry.removed_at.is_(None))
                          .order_by(HashBankEntry.id)).all())


def reasons(s: Session, ids: Sequence[int]) -> dict[int, str]:
    """The reason of each entry, by id (one query per 500 ids)."""
    out: dict[int, str] = {}
    for i in range(0, len(ids), _REASON_CHUNK):
        q = select(HashBankEntry.id, HashBankEntry.reason).where(HashBankEntry.id.in_(ids[i:i + _REASON_CHUNK]))
        out.update({eid: r for eid, r in s.execute(q)})
    return out


# --- the audit log, which is also the change feed -----------------------------------------------
def add_audit(s: Session, row: HashBankAudit) -> None:
    """Insert an audit row now (its id tells the change feed what this process already applied)."""
    s.add(row)
    s.flush()


_LATEST_AUDIT = select(func.max(HashBankAudit.id))  # read on every scan (banks.py _sync): built once


def latest_audit_id(s: Session | Connection) -> int:
    return s.scalar(_LATEST_AUDIT) or 0


def latest_change(db: Database) -> int:
    """The newest audit id on a light connection (no session): the banks' every-scan "anything new?" check
    (issue 28's repeat scan), injected into ``Banks`` as ``latest_change``."""
    with db.reading() as conn:
        return latest_audit_id(conn)


def changes(s: Session, after: int, upto: int) -> list[Any]:
    """``(id, action, bank_id, entry_id, hash)`` of the audit rows in (``after``, ``upto``], oldest first."""
    return list(s.execute(select(HashBankAudit.id, HashBankAudit.action, HashBankAudit.bank_id,
                                 HashBankAudit.entry_id, HashBankEntry.hash)
                          .outerjoin(HashBankEntry, HashBankEntry.id == HashBankAudit.entry_id)
                          .where(HashBankAudit.id > after, HashBankAudit.id <= upto)
                          .order_by(HashBankAudit.id)).all())


def audit_rows(s: Session, bank_id: int | None) -> list[Any]:
    """``(HashBankAudit, bank name)`` of every change (of one bank when given), oldest first."""
    q = select(HashBankAudit, HashBank.name).join(HashBank).order_by(HashBankAudit.id)
    if bank_id is not None:
        q = q.where(HashBank.id == bank_id)
    return list(s.execute(q))


__all__ = ["Session", "add_audit", "add_bank", "add_entry", "audit_rows", "bank", "bank_exists", "banks",
           "banks_with_counts", "changes", "entries", "entry", "latest_audit_id", "live_data", "live_entry_id",
           "live_hashes", "names_of_tenant", "reasons", "share_changes"]
