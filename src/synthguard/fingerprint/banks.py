"""Named hash banks: the platform's feature library (DS-09) and stay-down lists (US-04, CC-12, US-09).

A bank is a named set of hashes of one kind — ``pdq`` (perceptual, matched within the bank's Hamming
radius, default 31 of 256 bits) or ``sha256`` (exact file bytes) — with an on/off switch, e.g.
``ncii-victim-reports``, ``removed-content``, ``labeled-outputs``.  Victims submit hashes, never images
(the StopNCII model), so hash strings are validated strictly.

Every change (create, enable/disable, add, remove) writes an append-only audit row saying who, when and
why (DS-09) and, when a ledger is given, a ``feature`` ledger event holding hashes only, in the same
transaction.  Entries are soft-removed, never deleted.

Matching runs on in-memory indexes (:mod:`synthguard.fingerprint.index`), one per PDQ bank, loaded lazily
from the database.  The audit log doubles as the change feed: each query first applies audit rows newer
than the last one seen, so banks changed by another process (CLI, another server worker) are matched
without a restart.  On SQLite ids commit in order; on Postgres a concurrent writer can commit a lower id
late, so call :meth:`Banks.rebuild` after bulk imports from another process.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from synthguard.errors import ConflictError, NotFoundError, ValidationError
from synthguard.fingerprint.index import Index, make_index
from synthguard.fingerprint.pdq import MIN_QUALITY, PDQHasher, bits_to_hex, media_hashes, pdq_pixels  # noqa: F401
from synthguard.media import Media, Modality
from synthguard.store.bank_tables import HashBank, HashBankAudit, HashBankEntry
from synthguard.store.base import utcnow

if TYPE_CHECKING:
    from synthguard.ledger import Ledger
    from synthguard.store.db import Database

KINDS = {"pdq": 31, "sha256": 0}  # kind -> default max distance
MAX_PDQ_DISTANCE = 128  # beyond half the bits PDQ matches unrelated images
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FORMATS = {"pdq": "64 hexadecimal characters (the 256-bit PDQ hash, as pdqhash or ThreatExchange print it)",
            "sha256": "64 hexadecimal characters (the SHA-256 digest of the file bytes, as sha256sum prints it)"}
# pdqhash.compute_dihedral order (Meta's reference): the query image transformed, so a flipped or rotated
# upload still meets the hash of the original.
DIHEDRAL = ("original", "rotate-90", "rotate-180", "rotate-270", "flip-x", "flip-y", "flip-plus-1", "flip-minus-1")
_RESYNC_LIMIT = 1000  # more foreign changes than this: drop the indexes and reload instead of patching


@dataclass(frozen=True)
class BankMatch:
    bank: str
    entry_id: int
    distance: int
    reason: str
    transform: str | None = None  # which dihedral transform of the query matched (query_media(dihedral=True))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Bank:
    id: int
    name: str
    kind: str
    max_distance: int
    enabled: bool
    tenant: str
    description: str


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError("unknown hash kind {kind!r}",
                              values={"kind": kind}, hint=f"Use one of: {', '.join(KINDS)}.")
    return kind


def check_hash(kind: str, value: str) -> str:
    """The normalised (lowercase) hash, or a ValidationError naming the expected format."""
    check_kind(kind)
    v = value.strip().lower() if isinstance(value, str) else ""
    if not _HEX64.fullmatch(v):
        got = f"{len(v)} characters" if isinstance(value, str) else type(value).__name__
        bad = sorted(set(v) - set("0123456789abcdef"))
        detail = f", with non-hex {''.join(bad)[:8]!r}" if bad else ""
        raise ValidationError("a {kind} hash must be {formats}; got {got}{detail}",
                              values={"kind": kind, "formats": _FORMATS[kind], "got": got, "detail": detail},
                              hint="Submit the hash string only (never the image); "
                                   "`synthguard hash FILE --json` prints both kinds.")
    return v


def dihedral_hashes(media: Media) -> tuple[list[tuple[str, str]], int]:
    """PDQ hashes of the 8 rotations/flips of the image, as (transform, hex), and the quality."""
    import pdqhash

    bits, quality = pdqhash.compute_dihedral(pdq_pixels(media))
    return [(t, bits_to_hex(b)) for t, b in zip(DIHEDRAL, bits, strict=True)], int(quality)


def _as_media(source: Media | bytes | str | os.PathLike[str]) -> Media:
    if isinstance(source, Media):
        return source
    if isinstance(source, (bytes, bytearray)):
        return Media.from_bytes(bytes(source))
    return Media.open(source)


def _required(what: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("{what} is required (DS-09: every change to a bank records who and why)",
                              values={"what": what})
    return value.strip()


class Banks:
    """Named hash banks over a :class:`~synthguard.store.db.Database`; see the module docstring."""

    def __init__(self, db: Database, ledger: Ledger | None = None, *, index: str = "mih"):
        self.db = db
        self.ledger = ledger
        self._index_name = index
        self._lock = threading.RLock()
        self._meta: dict[str, _Bank] | None = None  # by name
        self._pdq: dict[int, Index] = {}  # bank id -> index, loaded on first query
        self._sha: dict[int, dict[str, list[int]]] = {}  # bank id -> hash -> entry ids
        self._seen = 0  # newest audit id reflected in memory

    # --- banks ---------------------------------------------------------------------------
    def create(self, name: str, *, kind: str = "pdq", max_distance: int | None = None, description: str = "",
               tenant: str = "default", actor: str = "system") -> dict[str, Any]:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValidationError("bad bank name {name!r}", values={"name": name},
                                  hint="Use 1-64 lowercase letters, digits, '.', '_' or '-', e.g. ncii-victim-reports.")
        check_kind(kind)
        distance = KINDS[kind] if max_distance is None else max_distance
        limit = MAX_PDQ_DISTANCE if kind == "pdq" else 0
        if isinstance(distance, bool) or not isinstance(distance, int) or not 0 <= distance <= limit:
            raise ValidationError("max distance for a {kind} bank must be within 0..{limit}, got {distance!r}",
                                  values={"kind": kind, "limit": limit, "distance": distance},
                                  hint="PDQ: 31 is Meta's recommended match radius; SHA-256 matches exactly (0).")
        with self._lock, self.db.session() as s:
            if s.scalar(select(HashBank.id).where(HashBank.name == name)) is not None:
                raise ConflictError("bank {name!r} already exists",
                                    values={"name": name}, hint="Pick another name or use the bank.")
            bank = HashBank(name=name, kind=kind, max_distance=distance, enabled=True, tenant=tenant,
                            description=description)
            s.add(bank)
            try:
                s.flush()
            except IntegrityError:  # another process created it between the check and the insert
                raise ConflictError("bank {name!r} already exists", values={"name": name}) from None
            audit_id = self._audit(s, bank, "create", actor, "", {"kind": kind, "max_distance": distance,
                                                                   "tenant": tenant})
            meta = _meta(bank)
            s.commit()
            self._own_change(audit_id, meta)
        return self._bank_dict(meta, 0, 0)

    def enable(self, name: str, on: bool = True, *, actor: str = "system", reason: str = "") -> dict[str, Any]:
        with self._lock, self.db.session() as s:
            bank = self._row(s, name)
            if bank.enabled != on:
                bank.enabled = on
                audit_id = self._audit(s, bank, "enable" if on else "disable", actor, reason, {})
            else:
                audit_id = None
            meta = _meta(bank)
            s.commit()
            self._own_change(audit_id, meta)
        return next(b for b in self.list() if b["name"] == name)

    def list(self, *, tenant: str | None = None) -> list[dict[str, Any]]:
        """Every bank with its count of live and removed entries."""
        with self.db.session() as s:
            q = (select(HashBank, func.count(HashBankEntry.id), func.count(HashBankEntry.removed_at))
                 .outerjoin(HashBankEntry, HashBankEntry.bank_id == HashBank.id)
                 .group_by(HashBank.id).order_by(HashBank.name))
            if tenant is not None:
                q = q.where(HashBank.tenant == tenant)
            return [self._bank_dict(_meta(b), int(n), int(gone)) for b, n, gone in s.execute(q)]

    # --- entries -------------------------------------------------------------------------
    def add(self, name: str, hash_hex: str, *, reason: str, actor: str, quality: int | None = None) -> int:
        """Add one hash (a victim's report, a removed item's fingerprint); returns the entry id."""
        reason, actor = _required("reason", reason), _required("actor", actor)
        # the lock spans the transaction, so a concurrent _sync() never replays this change half-applied
        with self._lock, self.db.session() as s:
            bank = self._row(s, name)
            h = check_hash(bank.kind, hash_hex)
            if quality is not None:
                if bank.kind != "pdq" or isinstance(quality, bool) or not isinstance(quality, int) \
                        or not 0 <= quality <= 100:
                    raise ValidationError("quality applies to PDQ hashes only and must be 0..100, got {quality!r}",
                                          values={"quality": quality})
                _check_quality(quality)
            dup = s.scalar(select(HashBankEntry.id).where(HashBankEntry.bank_id == bank.id, HashBankEntry.hash == h,
                                                          HashBankEntry.removed_at.is_(None)))
            if dup is not None:
                raise ConflictError("hash already in bank {name!r} as entry {dup}", values={"name": name, "dup": dup},
                                    hint="Nothing to do; the hash is matched already.")
            entry = HashBankEntry(bank_id=bank.id, hash=h, quality=quality, reason=reason, added_by=actor,
                                  created_at=utcnow())
            s.add(entry)
            s.flush()
            audit_id = self._audit(s, bank, "add", actor, reason, {"hash": h}, entry_id=entry.id)
            entry_id, bank_id = entry.id, bank.id
            s.commit()
            if bank_id in self._pdq:
                self._pdq[bank_id].add([entry_id], [h])
            if bank_id in self._sha:
                self._sha[bank_id].setdefault(h, []).append(entry_id)
            self._own_change(audit_id)
        return entry_id

    def add_media(self, name: str, media: Media | bytes | str | os.PathLike[str], *, reason: str,
                  actor: str) -> int:
        """Hash an image with the bank's hasher and add the hash (the image itself is not kept)."""
        kind = self._bank(name).kind
        m = _as_media(media)
        if kind == "sha256":  # any file type
            return self.add(name, m.sha256, reason=reason, actor=actor)
        m.require_image()
        h = PDQHasher().hash(m)
        _check_quality(h.quality or 0, m.name)
        return self.add(name, h.value, reason=reason, actor=actor, quality=h.quality)

    def remove(self, name: str, entry_id: int, *, reason: str, actor: str) -> dict[str, Any]:
        """Soft-remove an entry (kept for the audit trail; no longer matched)."""
        reason, actor = _required("reason", reason), _required("actor", actor)
        with self._lock, self.db.session() as s:
            bank = self._row(s, name)
            entry = s.get(HashBankEntry, entry_id)
            if entry is None or entry.bank_id != bank.id:
                raise NotFoundError("no entry {entry_id} in bank {name!r}", values={"entry_id": entry_id, "name": name},
                                    hint=f"List them: `synthguard bank entries {name}`.")
            if entry.removed_at is not None:
                raise ConflictError("entry {entry_id} was already removed at {removed_at}",
                                    values={"entry_id": entry_id, "removed_at": entry.removed_at.isoformat()})
            entry.removed_at, entry.removed_by, entry.removed_reason = utcnow(), actor, reason
            audit_id = self._audit(s, bank, "remove", actor, reason, {"hash": entry.hash}, entry_id=entry.id)
            out, bank_id, h = _entry_dict(entry), bank.id, entry.hash
            s.commit()
            if bank_id in self._pdq:
                self._pdq[bank_id].remove(entry_id)
            if bank_id in self._sha:
                ids = self._sha[bank_id].get(h, [])
                if entry_id in ids:
                    ids.remove(entry_id)
            self._own_change(audit_id)
        return out

    def entries(self, name: str, *, include_removed: bool = True, limit: int | None = None,
                offset: int = 0) -> builtins.list[dict[str, Any]]:
        with self.db.session() as s:
            bank = self._row(s, name)
            q = select(HashBankEntry).where(HashBankEntry.bank_id == bank.id).order_by(HashBankEntry.id)
            if not include_removed:
                q = q.where(HashBankEntry.removed_at.is_(None))
            return [_entry_dict(e) for e in s.scalars(q.offset(offset).limit(limit))]

    def audit(self, name: str | None = None) -> builtins.list[dict[str, Any]]:
        """The append-only change log (DS-09), oldest first."""
        with self.db.session() as s:
            q = select(HashBankAudit, HashBank.name).join(HashBank).order_by(HashBankAudit.id)
            if name is not None:
                q = q.where(HashBank.id == self._row(s, name).id)
            return [{"id": a.id, "at": a.at.isoformat(), "actor": a.actor, "action": a.action, "bank": n,
                     "entry_id": a.entry_id, "reason": a.reason, "details": a.details,
                     "ledger_index": a.ledger_index} for a, n in s.execute(q)]

    # --- matching ------------------------------------------------------------------------
    def query(self, kind: str, hash_hex: str, *, banks: Iterable[str] | None = None) -> builtins.list[BankMatch]:
        """Entries within each enabled bank's radius, closest first.  Banks of another kind are skipped."""
        h = check_hash(kind, hash_hex)
        return self._query(kind, [(None, h)], banks)

    def query_media(self, media: Media | bytes | str | os.PathLike[str], *, banks: Iterable[str] | None = None,
                    dihedral: bool = False) -> builtins.list[BankMatch]:
        """Match an upload against every enabled bank: SHA-256 exactly, PDQ (images) within each bank's radius.

        PDQ is not flip- or rotation-invariant; ``dihedral=True`` also queries the 8 rotations/flips of the
        upload.  A PDQ hash below quality 50 (flat or tiny images) is not used: it would match noise.
        """
        m = _as_media(media)
        found = self._query("sha256", [(None, m.sha256)], banks)
        if m.modality is not Modality.IMAGE:  # PDQ is for images; other files match by SHA-256 only
            return found
        variants: builtins.list[tuple[str | None, str]]
        if dihedral:
            hashes, quality = dihedral_hashes(m)
            variants = [(t if t != "original" else None, h) for t, h in hashes]
        else:
            ph = PDQHasher().hash(m)
            variants, quality = [(None, ph.value)], ph.quality or 0
        if quality >= MIN_QUALITY:
            found += self._query("pdq", variants, banks)
        return sorted(found, key=lambda x: (x.distance, x.bank, x.entry_id))

    def rebuild(self) -> None:
        """Forget the in-memory indexes; the next query reloads them from the database."""
        with self._lock:
            self._meta, self._pdq, self._sha, self._seen = None, {}, {}, 0

    def _query(self, kind: str, hashes: builtins.list[tuple[str | None, str]], names: Iterable[str] | None
               ) -> builtins.list[BankMatch]:
        self._sync()
        assert self._meta is not None
        wanted = None if names is None else set(names)
        if wanted is not None and (unknown := wanted - set(self._meta)):
            raise NotFoundError("no bank {unknown!r}",
                                values={"unknown": sorted(unknown)[0]}, hint="List them: `synthguard bank list`.")
        best: dict[tuple[str, int], tuple[int, str | None]] = {}
        with self._lock:
            for bank in self._meta.values():
                if bank.kind != kind or not bank.enabled or (wanted is not None and bank.name not in wanted):
                    continue
                for transform, h in hashes:
                    for eid, d in self._lookup(bank, h):
                        if (bank.name, eid) not in best or d < best[(bank.name, eid)][0]:
                            best[(bank.name, eid)] = (d, transform)
        if not best:
            return []
        reasons = self._reasons([eid for _, eid in best])
        out = [BankMatch(b, eid, d, reasons.get(eid, ""), t) for (b, eid), (d, t) in best.items()]
        return sorted(out, key=lambda x: (x.distance, x.bank, x.entry_id))

    def _lookup(self, bank: _Bank, h: str) -> builtins.list[tuple[int, int]]:
        if bank.kind == "sha256":
            return [(eid, 0) for eid in self._sha_index(bank).get(h, [])]
        return self._pdq_index(bank).query(h, bank.max_distance)

    def _pdq_index(self, bank: _Bank) -> Index:
        if bank.id not in self._pdq:
            ids, hashes = self._load(bank.id)
            idx = make_index(self._index_name)
            if ids:
                idx.add(np.asarray(ids, np.int64),
                        np.frombuffer(bytes.fromhex("".join(hashes)), np.uint8).reshape(-1, 32))
            self._pdq[bank.id] = idx
        return self._pdq[bank.id]

    def _sha_index(self, bank: _Bank) -> dict[str, builtins.list[int]]:
        if bank.id not in self._sha:
            table: dict[str, builtins.list[int]] = {}
            for eid, h in zip(*self._load(bank.id), strict=True):
                table.setdefault(h, []).append(eid)
            self._sha[bank.id] = table
        return self._sha[bank.id]

    def _load(self, bank_id: int) -> tuple[builtins.list[int], builtins.list[str]]:
        with self.db.session() as s:
            rows = s.execute(select(HashBankEntry.id, HashBankEntry.hash)
                             .where(HashBankEntry.bank_id == bank_id, HashBankEntry.removed_at.is_(None))
                             .order_by(HashBankEntry.id)).all()
        return [r[0] for r in rows], [r[1] for r in rows]

    def _reasons(self, ids: builtins.list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        with self.db.session() as s:
            for i in range(0, len(ids), 500):
                q = select(HashBankEntry.id, HashBankEntry.reason).where(HashBankEntry.id.in_(ids[i:i + 500]))
                out.update({eid: r for eid, r in s.execute(q)})
        return out

    # --- keeping memory in step with the database ----------------------------------------
    def _sync(self) -> None:
        """Apply audit rows newer than the last seen (changes made by other processes)."""
        with self._lock, self.db.session() as s:
            latest = s.scalar(select(func.max(HashBankAudit.id))) or 0
            if self._meta is not None and latest == self._seen:
                return
            if self._meta is None or latest - self._seen > _RESYNC_LIMIT:
                self._meta, self._pdq, self._sha = self._read_meta(s), {}, {}
                self._seen = latest
                return
            rows = s.execute(select(HashBankAudit.id, HashBankAudit.action, HashBankAudit.bank_id,
                                    HashBankAudit.entry_id, HashBankEntry.hash)
                             .outerjoin(HashBankEntry, HashBankEntry.id == HashBankAudit.entry_id)
                             .where(HashBankAudit.id > self._seen, HashBankAudit.id <= latest)
                             .order_by(HashBankAudit.id)).all()
            if any(r.action not in ("add", "remove") for r in rows):
                self._meta = self._read_meta(s)
            for r in rows:
                self._apply(r.action, r.bank_id, r.entry_id, r.hash)
            self._seen = latest

    def _apply(self, action: str, bank_id: int, entry_id: int | None, h: str | None) -> None:
        """Idempotent: an entry loaded with its bank may be replayed from the audit log."""
        if entry_id is None or h is None:
            return
        if bank_id in self._pdq:
            self._pdq[bank_id].remove(entry_id)
            if action == "add":
                self._pdq[bank_id].add([entry_id], [h])
        if bank_id in self._sha:
            ids = self._sha[bank_id].setdefault(h, [])
            if entry_id in ids:
                ids.remove(entry_id)
            if action == "add":
                ids.append(entry_id)

    def _own_change(self, audit_id: int | None, meta: _Bank | None = None) -> None:
        """Our own committed write is already applied in memory: skip it in the change feed if it is next."""
        with self._lock:
            if self._meta is not None and meta is not None:
                self._meta[meta.name] = meta
            if audit_id is not None and audit_id == self._seen + 1 and self._meta is not None:
                self._seen = audit_id

    @staticmethod
    def _read_meta(s: Session) -> dict[str, _Bank]:
        return {b.name: _meta(b) for b in s.scalars(select(HashBank))}

    # --- rows ----------------------------------------------------------------------------
    def _bank(self, name: str) -> _Bank:
        with self.db.session() as s:
            return _meta(self._row(s, name))

    @staticmethod
    def _row(s: Session, name: str) -> HashBank:
        bank = s.scalar(select(HashBank).where(HashBank.name == name))
        if bank is None:
            raise NotFoundError("no bank {name!r}", values={"name": name},
                                hint="List them with `synthguard bank list`; create one with `synthguard bank create`.")
        return bank

    def _audit(self, s: Session, bank: HashBank, action: str, actor: str, reason: str, details: dict[str, Any],
               *, entry_id: int | None = None) -> int:
        """The DS-09 audit row, and a ledger "feature" event (hashes only; the reason as its SHA-256)."""
        ledger_index = None
        if self.ledger is not None:
            body = {"event": f"bank_{action}", "bank": bank.name, "bank_kind": bank.kind, "entry": entry_id,
                    "reason_sha256": hashlib.sha256(reason.encode()).hexdigest()} | details
            ledger_index = self.ledger.append(s, "feature", body).index
        row = HashBankAudit(at=utcnow(), actor=actor, action=action, bank_id=bank.id, entry_id=entry_id,
                            reason=reason, details=details, ledger_index=ledger_index)
        s.add(row)
        s.flush()
        return row.id

    @staticmethod
    def _bank_dict(b: _Bank, total: int, removed: int) -> dict[str, Any]:
        return {"name": b.name, "kind": b.kind, "max_distance": b.max_distance, "enabled": b.enabled,
                "tenant": b.tenant, "description": b.description, "entries": total - removed, "removed": removed}


def _check_quality(quality: int, path: str | None = None) -> None:
    if quality < MIN_QUALITY:
        raise ValidationError(
            "PDQ quality {quality} is below {min_quality}: the image has too little detail for a reliable hash",
            values={"quality": quality, "min_quality": MIN_QUALITY},
            hint="Submit a larger or less uniform image; flat or tiny images would match unrelated content.",
            path=path if path and not path.startswith("<") else None)


def _meta(b: HashBank) -> _Bank:
    return _Bank(b.id, b.name, b.kind, b.max_distance, b.enabled, b.tenant, b.description)


def _entry_dict(e: HashBankEntry) -> dict[str, Any]:
    return {"id": e.id, "hash": e.hash, "quality": e.quality, "reason": e.reason, "added_by": e.added_by,
            "created_at": e.created_at.isoformat(),
            "removed_at": e.removed_at.isoformat() if e.removed_at else None,
            "removed_by": e.removed_by, "removed_reason": e.removed_reason}


__all__ = ["BankMatch", "Banks", "DIHEDRAL", "KINDS", "check_hash", "dihedral_hashes", "media_hashes"]
