"""Named hash banks: the platform's feature library (DS-09) and stay-down lists (US-04, CC-12, US-09).

A bank is a named set of hashes of one kind — ``pdq`` (perceptual, matched within the bank's Hamming
radius, default 31 of 256 bits), ``sha256`` (exact file bytes), ``vpdq`` (video: Meta's per-frame PDQ exchange
format, matched by its frame-share rule) or ``audio`` (landmark fingerprints; :mod:`synthguard.fingerprint.signals`)
— with an on/off switch, e.g.
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.errors import ConflictError, NotFoundError, SynthGuardError, UnsupportedMediaError, ValidationError
from synthguard.fingerprint import EXACT, Hasher, signals
from synthguard.fingerprint.bank_hashes import (
    DIHEDRAL,
    KINDS,
    check_hash,
    check_kind,
    check_quality,
    dihedral_hashes,
    media_hashes,
)
from synthguard.fingerprint.hashers import builtin_hashers
from synthguard.fingerprint.index import Index, make_index
from synthguard.fingerprint.pdq import MIN_QUALITY
from synthguard.i18n import N_
from synthguard.media import Media, Modality
from synthguard.store.bank_tables import HashBank, HashBankAudit, HashBankEntry
from synthguard.store.base import utcnow

if TYPE_CHECKING:
    from synthguard.ledger import Ledger
    from synthguard.store.protocols import Unit, Units

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_OWN_RULES = ("pdq", EXACT, *signals.LONG_KINDS)  # kinds matched by their own rule; other kinds: hasher.distance
_RESYNC_LIMIT = 1000  # more foreign changes than this: drop the indexes and reload instead of patching


@dataclass(frozen=True)
class BankMatch:
    bank: str
    entry_id: int
    distance: int
    reason: str
    transform: str | None = None  # which dihedral transform of the query matched (query_media(dihedral=True))
    kind: str | None = None  # the bank's kind
    details: dict[str, Any] | None = None  # vPDQ frame shares, audio votes and offset

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
    """Named hash banks over units of work (``uow.banks``, issue 23); see the module docstring."""

    def __init__(self, units: Units, ledger: Ledger | None = None, *, latest_change: Callable[[], int],
                 index: str | Callable[[], Index] = "mih", hashers: Iterable[Hasher] | None = None,
                 vpdq: signals.VpdqRule = signals.DEFAULT_RULE):
        """``units``: a factory of units of work (``Database.unit_of_work``); ``latest_change``: the newest audit
        id read on a light connection (:func:`synthguard.store.bank_repo.latest_change`), the check every scan
        makes (issue 28: no session on the repeat path); ``hashers``: the kinds a bank can hold (the core passes
        its plugin registry's hashers; default the built-ins); ``index``: a built-in index name, or a factory of
        empty PDQ indexes (the registry's); ``vpdq``: the vPDQ quality filter and frame shares (settings
        ``vpdq_*``)."""
        self.units = units
        self.latest_change = latest_change
        self.vpdq = vpdq  # vPDQ quality filter and frame shares (settings vpdq_*); the frame distance is per bank
        self.ledger = ledger
        self._new_index: Callable[[], Index] = (lambda: make_index(index)) if isinstance(index, str) else index
        self._hashers = {h.kind: h for h in (builtin_hashers() if hashers is None else hashers)}
        self._lock = threading.RLock()
        self._meta: dict[str, _Bank] | None = None  # by name
        self._pdq: dict[int, Index] = {}  # bank id -> index, loaded on first query
        self._sha: dict[int, dict[str, list[int]]] = {}  # bank id -> hash -> entry ids
        self._long: dict[int, list[tuple[int, Any]]] = {}  # vpdq/audio bank id -> (entry id, parsed fingerprint)
        self._seen = 0  # newest audit id reflected in memory
        self._visible: dict[str, frozenset[str]] = {}  # tenant -> bank names, valid while _seen is _visible_at
        self._visible_at = -1
        self._local = threading.local()  # pinned(): this thread's lookups share one synchronisation

    # --- kinds: the hasher registry's ---------------------------------------------------------
    def kinds(self) -> dict[str, Hasher]:
        """Every kind a bank can hold: the registered hashers (built-ins, then plugins), by kind."""
        return self._hashers

    def check_kind(self, kind: str) -> str:
        """The kind's one name (``video`` is accepted for ``vpdq``) if a hasher of that kind is registered."""
        return check_kind(kind, self.kinds())

    def plugin_kinds(self, modality: Modality | None = None) -> builtins.list[str]:
        """Kinds of plugin hashers (matched entry by entry with ``hasher.distance``), optionally of a modality."""
        return [k for k, h in self.kinds().items() if k not in _OWN_RULES and (modality is None or modality in
                                                                               h.modalities)]

    def _parse(self, kind: str, text: str) -> Any:
        if kind in signals.LONG_KINDS:
            return signals.parse(kind, text)
        return text

    def _canonical(self, kind: str, value: str) -> tuple[str, str]:
        """(key, stored text) of a submitted hash of a plugin kind: kept whole, keyed by its SHA-256."""
        if kind in signals.LONG_KINDS:
            return signals.canonical(kind, value)
        text = value.strip() if isinstance(value, str) else ""
        if not text or len(text) > signals.MAX_CHARS:
            raise ValidationError("a {kind} hash is required (at most {max} characters)",
                                  values={"kind": kind, "max": signals.MAX_CHARS})
        try:
            ok = self.kinds()[kind].distance(text, text) == 0
        except Exception as exc:  # the plugin cannot read it: not a hash of its kind
            raise ValidationError("not a {kind} hash: {error}", values={"kind": kind, "error": exc}) from exc
        if not ok:
            raise ValidationError("not a {kind} hash: its distance to itself is not 0", values={"kind": kind})
        return hashlib.sha256(text.encode()).hexdigest(), text

    def _compare(self, kind: str, queries: builtins.list[Any], target: Any, max_distance: int
                 ) -> tuple[int, dict[str, Any]] | None:
        if kind in signals.LONG_KINDS:
            return signals.compare(kind, queries, target, max_distance, self.vpdq)
        hasher = self.kinds()[kind]
        best = min(hasher.distance(q, target) for q in queries)
        return (best, {}) if best <= max_distance else None

    def media_queries(self, kind: str, media: Media) -> builtins.list[Any]:
        """What a file is compared with in banks of a long or plugin kind (signals.media_query for vPDQ/audio)."""
        if kind in signals.LONG_KINDS:
            return signals.media_query(kind, media)
        return [self.kinds()[kind].hash(media).value]

    # --- banks ---------------------------------------------------------------------------
    def create(self, name: str, *, kind: str = "pdq", max_distance: int | None = None, description: str = "",
               tenant: str = "default", actor: str = "system") -> dict[str, Any]:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValidationError("bad bank name {name!r}", values={"name": name},
                                  hint="Use 1-64 lowercase letters, digits, '.', '_' or '-', e.g. ncii-victim-reports.")
        kind = self.check_kind(kind)
        hasher = self.kinds()[kind]  # radius: the hasher's (pdq 31 of 256 bits; vpdq the per-frame PDQ radius)
        default = getattr(hasher, "bank_distance", hasher.match_threshold)
        distance = default if max_distance is None else max_distance
        limit = getattr(hasher, "bank_max_distance", hasher.match_threshold)
        if isinstance(distance, bool) or not isinstance(distance, int) or not 0 <= distance <= limit:
            raise ValidationError("max distance for a {kind} bank must be within 0..{limit}, got {distance!r}",
                                  values={"kind": kind, "limit": limit, "distance": distance},
                                  hint="PDQ: 31 is Meta's recommended match radius; SHA-256 matches exactly (0).")
        with self._lock:  # the lock spans the transaction and its commit (the end of the unit)
            with self.units() as uow:
                if uow.banks.bank_exists(name):
                    raise ConflictError("bank {name!r} already exists",
                                        values={"name": name}, hint="Pick another name or use the bank.")
                bank = HashBank(name=name, kind=kind, max_distance=distance, enabled=True, tenant=tenant,
                                description=description)
                if not uow.banks.add_bank(bank):  # another process created it between the check and the insert
                    raise ConflictError("bank {name!r} already exists", values={"name": name})
                audit_id = self._audit(uow, bank, "create", actor, "", {"kind": kind, "max_distance": distance,
                                                                         "tenant": tenant})
                meta = _meta(bank)
            self._own_change(audit_id, meta)
        return self._bank_dict(meta, 0, 0)

    def enable(self, name: str, on: bool = True, *, actor: str = "system", reason: str = "") -> dict[str, Any]:
        with self._lock:
            with self.units() as uow:
                bank = self._row(uow, name)
                if bank.enabled != on:
                    bank.enabled = on
                    audit_id = self._audit(uow, bank, "enable" if on else "disable", actor, reason, {})
                else:
                    audit_id = None
                meta = _meta(bank)
            self._own_change(audit_id, meta)
        return next(b for b in self.list() if b["name"] == name)

    def share(self, name: str, tenant: str, *, on: bool = True, actor: str, reason: str) -> None:
        """Let another tenant's (``*``: every tenant's) scans match this bank (or stop); an audited opt-in.

        Banks are per tenant (issue 18 finding 2): a tenant's scans see only its own banks and the banks
        shared with it, so one platform's removals never block, name or lift anything on another.
        """
        with self._lock:
            with self.units() as uow:
                bank = self._row(uow, name)
                if bank.tenant == tenant:
                    raise ValidationError("bank {name!r} already belongs to tenant {tenant!r}",
                                          values={"name": name, "tenant": tenant})
                audit_id = self._audit(uow, bank, "share" if on else "unshare", actor, reason, {"tenant": tenant})
            self._own_change(audit_id)

    def visible(self, tenant: str) -> set[str]:
        """Names of the banks a tenant's scans query: its own, and those shared with it (or with ``*``).

        Every change to a bank writes an audit row, so the answer is remembered until the next one is seen (a scan
        asks on every upload; issue 28)."""
        self._sync()
        with self._lock:
            if self._visible_at != self._seen:
                self._visible, self._visible_at = {}, self._seen
            if tenant in self._visible:
                return set(self._visible[tenant])
            at = self._seen
        with self.units() as uow:
            own = uow.banks.names_of_tenant(tenant)
            shared: dict[tuple[str, str], bool] = {}
            for name, action, details in uow.banks.share_changes(at):
                if (details or {}).get("tenant") in (tenant, "*"):
                    shared[(name, details["tenant"])] = action == "share"
        names = own | {n for (n, _), on in shared.items() if on}
        with self._lock:
            if self._visible_at == at:
                self._visible[tenant] = frozenset(names)
        return names

    @contextmanager
    def pinned(self) -> Iterator[Banks]:
        """Synchronise once, then let this thread's lookups inside the block use that state: one upload's queries
        (visibility, SHA-256, PDQ, video/audio) see one consistent state of the banks, for one round trip."""
        self._sync()
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield self
        finally:
            self._local.depth -= 1

    def list(self, *, tenant: str | None = None) -> list[dict[str, Any]]:
        """Every bank with its count of live and removed entries."""
        with self.units() as uow:
            return [self._bank_dict(_meta(b), int(n), int(gone))
                    for b, n, gone in uow.banks.banks_with_counts(tenant)]

    # --- entries -------------------------------------------------------------------------
    def add(self, name: str, hash_hex: str, *, reason: str, actor: str, quality: int | None = None) -> int:
        """Add one hash (a victim's report, a removed item's fingerprint); returns the entry id."""
        reason, actor = _required("reason", reason), _required("actor", actor)
        # the lock spans the transaction, so a concurrent _sync() never replays this change half-applied
        with self._lock:
            with self.units() as uow:
                bank = self._row(uow, name)
                kind = self.check_kind(bank.kind)
                h, data = self._canonical(kind, hash_hex) if kind not in ("pdq", EXACT) else (
                    check_hash(kind, hash_hex), None)
                if quality is not None:
                    if bank.kind != "pdq" or isinstance(quality, bool) or not isinstance(quality, int) \
                            or not 0 <= quality <= 100:
                        raise ValidationError(
                            "quality applies to PDQ hashes only and must be 0..100, got {quality!r}",
                            values={"quality": quality})
                    check_quality(quality)
                dup = uow.banks.live_entry_id(bank.id, h)
                if dup is not None:
                    raise ConflictError("hash already in bank {name!r} as entry {dup}",
                                        values={"name": name, "dup": dup},
                                        hint="Nothing to do; the hash is matched already.")
                entry = HashBankEntry(bank_id=bank.id, hash=h, data=data, quality=quality, reason=reason,
                                      added_by=actor, created_at=utcnow())
                uow.banks.add_entry(entry)
                audit_id = self._audit(uow, bank, "add", actor, reason, {"hash": h}, entry_id=entry.id)
                entry_id, bank_id = entry.id, bank.id
            if bank_id in self._pdq:
                self._pdq[bank_id].add([entry_id], [h])
            if bank_id in self._sha:
                self._sha[bank_id].setdefault(h, []).append(entry_id)
            self._long.pop(bank_id, None)  # reloaded on the next query
            self._own_change(audit_id)
        return entry_id

    def add_media(self, name: str, media: Media | bytes | str | os.PathLike[str], *, reason: str,
                  actor: str) -> int:
        """Hash a file with the bank's hasher and add the hash (the file itself is not kept): PDQ for images, vPDQ
        for video, landmarks for audio (or a video's sound), SHA-256 for anything, a plugin hasher's hash."""
        kind = self.check_kind(self._bank(name).kind)
        m = _as_media(media)
        if kind == EXACT:  # any file type
            return self.add(name, m.sha256, reason=reason, actor=actor)
        if kind in self.plugin_kinds():
            if kind not in self.plugin_kinds(m.modality):
                raise UnsupportedMediaError("a {kind} bank holds {what}, not {modality} files",
                                            values={"kind": kind, "modality": m.modality.value, "what": ", ".join(
                                                sorted(x.value for x in self.kinds()[kind].modalities))},
                                            path=m.name)
            return self.add(name, self.kinds()[kind].hash(m).value, reason=reason, actor=actor)
        if kind in signals.LONG_KINDS:
            if kind not in signals.kinds_for(m):
                raise UnsupportedMediaError("a {kind} bank holds {what}, not {modality} files",
                                            values={"kind": kind, "what": "videos" if kind == "vpdq" else
                                                    "audio or videos with sound", "modality": m.modality.value},
                                            path=m.name)
            return self.add(name, signals.fingerprint_text(kind, m), reason=reason, actor=actor)
        m.require_image()
        h = self.kinds()["pdq"].hash(m)
        check_quality(h.quality or 0, m.name)
        return self.add(name, h.value, reason=reason, actor=actor, quality=h.quality)

    def remove(self, name: str, entry_id: int, *, reason: str, actor: str) -> dict[str, Any]:
        """Soft-remove an entry (kept for the audit trail; no longer matched)."""
        reason, actor = _required("reason", reason), _required("actor", actor)
        with self._lock:
            with self.units() as uow:
                bank = self._row(uow, name)
                entry = uow.banks.entry(entry_id)
                if entry is None or entry.bank_id != bank.id:
                    raise NotFoundError("no entry {entry_id} in bank {name!r}",
                                        values={"entry_id": entry_id, "name": name},
                                        hint=N_("List them: `synthguard bank entries {name}`."))
                if entry.removed_at is not None:
                    raise ConflictError("entry {entry_id} was already removed at {removed_at}",
                                        values={"entry_id": entry_id, "removed_at": entry.removed_at.isoformat()})
                entry.removed_at, entry.removed_by, entry.removed_reason = utcnow(), actor, reason
                audit_id = self._audit(uow, bank, "remove", actor, reason, {"hash": entry.hash}, entry_id=entry.id)
                out, bank_id, h = _entry_dict(entry), bank.id, entry.hash
            if bank_id in self._pdq:
                self._pdq[bank_id].remove(entry_id)
            if bank_id in self._sha:
                ids = self._sha[bank_id].get(h, [])
                if entry_id in ids:
                    ids.remove(entry_id)
            self._long.pop(bank_id, None)
            self._own_change(audit_id)
        return out

    def entries(self, name: str, *, include_removed: bool = True, limit: int | None = None,
                offset: int = 0) -> builtins.list[dict[str, Any]]:
        with self.units() as uow:
            bank = self._row(uow, name)
            rows = uow.banks.entries(bank.id, include_removed=include_removed, limit=limit, offset=offset)
            return [_entry_dict(e) for e in rows]

    def audit(self, name: str | None = None) -> builtins.list[dict[str, Any]]:
        """The append-only change log (DS-09), oldest first."""
        with self.units() as uow:
            rows = uow.banks.audit_rows(None if name is None else self._row(uow, name).id)
            return [{"id": a.id, "at": a.at.isoformat(), "actor": a.actor, "action": a.action, "bank": n,
                     "entry_id": a.entry_id, "reason": a.reason, "details": a.details,
                     "ledger_index": a.ledger_index} for a, n in rows]

    # --- matching ------------------------------------------------------------------------
    def query(self, kind: str, hash_hex: str, *, banks: Iterable[str] | None = None) -> builtins.list[BankMatch]:
        """Entries within each enabled bank's radius, closest first.  Banks of another kind are skipped."""
        kind = self.check_kind(kind)
        if kind not in ("pdq", EXACT):
            text = hash_hex if kind in signals.LONG_KINDS else self._canonical(kind, hash_hex)[1]
            return self.query_signal(kind, [self._parse(kind, text)], banks=banks)
        h = check_hash(kind, hash_hex)
        return self._query(kind, [(None, h)], banks)

    def query_signal(self, kind: str, queries: builtins.list[Any], *, banks: Iterable[str] | None = None
                     ) -> builtins.list[BankMatch]:
        """Match a parsed video or audio fingerprint (or an audio query at several shifts), or a plugin hasher's
        hash, against every enabled bank of ``kind``, entry by entry with the kind's rule (signals.compare; a
        plugin's ``distance`` within the bank's radius)."""
        kind = self.check_kind(kind)
        wanted = self._wanted(banks)
        assert self._meta is not None
        found: builtins.list[tuple[_Bank, int, int, dict[str, Any]]] = []
        with self._lock:
            targets = [b for b in self._meta.values()
                       if b.kind == kind and b.enabled and (wanted is None or b.name in wanted)]
            for bank in targets:
                for eid, obj in self._long_index(bank):
                    hit = self._compare(kind, queries, obj, bank.max_distance)
                    if hit is not None:
                        found.append((bank, eid, hit[0], hit[1]))
        reasons = self._reasons([eid for _, eid, _, _ in found])
        out = [BankMatch(b.name, eid, d, reasons.get(eid, ""), None, kind, det) for b, eid, d, det in found]
        return sorted(out, key=lambda x: (x.distance, x.bank, x.entry_id))

    def _long_index(self, bank: _Bank) -> builtins.list[tuple[int, Any]]:
        if bank.id not in self._long:
            with self.units() as uow:
                rows = uow.banks.live_data(bank.id)
            self._long[bank.id] = [(eid, self._parse(bank.kind, data)) for eid, data in rows if data]
        return self._long[bank.id]

    def query_media(self, media: Media | bytes | str | os.PathLike[str], *, banks: Iterable[str] | None = None,
                    dihedral: bool = False) -> builtins.list[BankMatch]:
        """Match an upload against every enabled bank: SHA-256 exactly, PDQ (images) within each bank's radius.

        PDQ is not flip- or rotation-invariant; ``dihedral=True`` also queries the 8 rotations/flips of the
        upload.  A PDQ hash below quality 50 (flat or tiny images) is not used: it would match noise.
        """
        m = _as_media(media)
        found = self._query(EXACT, [(None, m.sha256)], banks)
        if m.modality is not Modality.IMAGE or self.plugin_kinds(m.modality):
            # videos by vPDQ and their sound, audio by landmarks, any file by the plugin hashers of its modality
            for kind in self.signal_kinds(m, banks):
                try:
                    queries = self.media_queries(kind, m)
                except SynthGuardError:  # e.g. a video without a sound track: nothing to match by that kind
                    continue
                found += self.query_signal(kind, queries, banks=banks)
        if "pdq" not in self.kinds() or m.modality not in self.kinds()["pdq"].modalities:
            return sorted(found, key=lambda x: (x.distance, x.bank, x.entry_id))
        variants: builtins.list[tuple[str | None, str]]
        if dihedral:
            hashes, quality = dihedral_hashes(m)
            variants = [(t if t != "original" else None, h) for t, h in hashes]
        else:
            ph = self.kinds()["pdq"].hash(m)
            variants, quality = [(None, ph.value)], ph.quality or 0
        if quality >= MIN_QUALITY:
            found += self._query("pdq", variants, banks)
        return sorted(found, key=lambda x: (x.distance, x.bank, x.entry_id))

    def signal_kinds(self, media: Media, banks: Iterable[str] | None = None) -> builtins.list[str]:
        """The long and plugin kinds worth computing for ``media``: those with an enabled bank (hashing a video is
        costly)."""
        self._sync()
        assert self._meta is not None
        wanted = None if banks is None else set(banks)
        live = {b.kind for b in self._meta.values() if b.enabled and (wanted is None or b.name in wanted)}
        return [k for k in (*signals.kinds_for(media), *self.plugin_kinds(media.modality)) if k in live]

    def rebuild(self) -> None:
        """Forget the in-memory indexes; the next query reloads them from the database."""
        with self._lock:
            self._meta, self._pdq, self._sha, self._long, self._seen = None, {}, {}, {}, 0

    def _wanted(self, names: Iterable[str] | None) -> set[str] | None:
        """The banks a query names (None: all), after syncing with the database; NotFoundError for an unknown one."""
        self._sync()
        assert self._meta is not None
        wanted = None if names is None else set(names)
        if wanted is not None and (unknown := wanted - set(self._meta)):
            raise NotFoundError("no bank {unknown!r}",
                                values={"unknown": sorted(unknown)[0]}, hint="List them: `synthguard bank list`.")
        return wanted

    def _query(self, kind: str, hashes: builtins.list[tuple[str | None, str]], names: Iterable[str] | None
               ) -> builtins.list[BankMatch]:
        wanted = self._wanted(names)
        assert self._meta is not None
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
        out = [BankMatch(b, eid, d, reasons.get(eid, ""), t, kind) for (b, eid), (d, t) in best.items()]
        return sorted(out, key=lambda x: (x.distance, x.bank, x.entry_id))

    def _lookup(self, bank: _Bank, h: str) -> builtins.list[tuple[int, int]]:
        if bank.kind == EXACT:
            return [(eid, 0) for eid in self._sha_index(bank).get(h, [])]
        return self._pdq_index(bank).query(h, bank.max_distance)

    def _pdq_index(self, bank: _Bank) -> Index:
        if bank.id not in self._pdq:
            ids, hashes = self._load(bank.id)
            idx = self._new_index()
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
        with self.units() as uow:
            rows = uow.banks.live_hashes(bank_id)
        return [r[0] for r in rows], [r[1] for r in rows]

    def _reasons(self, ids: builtins.list[int]) -> dict[int, str]:
        with self.units() as uow:
            return uow.banks.reasons(ids)

    # --- keeping memory in step with the database ----------------------------------------
    def _sync(self) -> None:
        """Apply audit rows newer than the last seen (changes made by other processes)."""
        if getattr(self._local, "depth", 0):
            return
        if self._meta is not None:  # the usual case, on every scan: nothing changed since (a light read)
            if self.latest_change() == self._seen:
                return
        with self._lock, self.units() as uow:
            latest = uow.banks.latest_audit_id()
            if self._meta is not None and latest == self._seen:
                return
            if self._meta is None or latest - self._seen > _RESYNC_LIMIT:
                self._meta, self._pdq, self._sha, self._long = self._read_meta(uow), {}, {}, {}
                self._seen = latest
                return
            rows = uow.banks.changes(self._seen, latest)
            if any(r.action not in ("add", "remove") for r in rows):
                self._meta = self._read_meta(uow)
            for r in rows:
                self._apply(r.action, r.bank_id, r.entry_id, r.hash)
            self._seen = latest

    def _apply(self, action: str, bank_id: int, entry_id: int | None, h: str | None) -> None:
        """Idempotent: an entry loaded with its bank may be replayed from the audit log."""
        if entry_id is None or h is None:
            return
        self._long.pop(bank_id, None)
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
    def _read_meta(uow: Unit) -> dict[str, _Bank]:
        return {b.name: _meta(b) for b in uow.banks.banks()}

    # --- rows ----------------------------------------------------------------------------
    def _bank(self, name: str) -> _Bank:
        with self.units() as uow:
            return _meta(self._row(uow, name))

    @staticmethod
    def _row(uow: Unit, name: str) -> HashBank:
        bank = uow.banks.bank(name)
        if bank is None:
            raise NotFoundError("no bank {name!r}", values={"name": name},
                                hint="List them with `synthguard bank list`; create one with `synthguard bank create`.")
        return bank

    def _audit(self, uow: Unit, bank: HashBank, action: str, actor: str, reason: str, details: dict[str, Any],
               *, entry_id: int | None = None) -> int:
        """The DS-09 audit row, and a ledger "feature" event (hashes only; the reason as its SHA-256)."""
        ledger_index = None
        if self.ledger is not None:
            body = {"event": f"bank_{action}", "bank": bank.name, "bank_kind": bank.kind, "entry": entry_id,
                    "reason_sha256": hashlib.sha256(reason.encode()).hexdigest()} | details
            ledger_index = self.ledger.append(uow.session, "feature", body).index
        row = HashBankAudit(at=utcnow(), actor=actor, action=action, bank_id=bank.id, entry_id=entry_id,
                            reason=reason, details=details, ledger_index=ledger_index)
        uow.banks.add_audit(row)
        return row.id

    @staticmethod
    def _bank_dict(b: _Bank, total: int, removed: int) -> dict[str, Any]:
        return {"name": b.name, "kind": b.kind, "max_distance": b.max_distance, "enabled": b.enabled,
                "tenant": b.tenant, "description": b.description, "entries": total - removed, "removed": removed}


def _meta(b: HashBank) -> _Bank:
    return _Bank(b.id, b.name, b.kind, b.max_distance, b.enabled, b.tenant, b.description)


def _entry_dict(e: HashBankEntry) -> dict[str, Any]:
    return {"id": e.id, "hash": e.hash, "quality": e.quality, "reason": e.reason, "added_by": e.added_by,
            "created_at": e.created_at.isoformat(),
            "removed_at": e.removed_at.isoformat() if e.removed_at else None,
            "removed_by": e.removed_by, "removed_reason": e.removed_reason}


__all__ = ["BankMatch", "Banks", "DIHEDRAL", "KINDS", "check_hash", "dihedral_hashes", "media_hashes"]
