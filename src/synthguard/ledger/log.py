"""The append-only ledger: events as RFC 6962 leaves, stored with their interior nodes (DS-18, LM-20, CSL-01).

"The watermark is a pointer, the ledger is the proof": a generation record's ledger entry commits in the
caller's transaction (:meth:`Ledger.append` never commits), and signed checkpoints make any later edit visible.

What is hashed (the leaf entry) is the canonical JSON ``{"body", "index", "kind", "time", "v"}`` — sorted keys,
compact separators, UTF-8, no NaN — stored byte-for-byte in ``ledger_entries.data``, so verification re-hashes
the stored bytes and never re-serialises.  Embedding the index makes a moved or reordered row name itself.

Entries must hold hashes and pseudonymous ids only, never raw personal data (GAI-03, PI-13): they are kept
for good and cannot be erased without breaking the tree.  Put personal data (an IP address, a real name) in
:class:`~synthguard.ledger.erasure.SubjectVault` and log the returned reference; keys that obviously carry
personal data (``email``, ``ip``, ``phone`` ...) are rejected at any depth.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from synthguard.errors import LedgerIntegrityError, NotFoundError, StoreError, ValidationError
from synthguard.ledger import merkle
from synthguard.ledger.checkpoint import default_origin, format_time, log_id, parse_checkpoint, sign_checkpoint
from synthguard.ledger.verify import VerifyReport, verify
from synthguard.store import ledger_repo
from synthguard.store.base import utcnow
from synthguard.store.ledger_repo import Session, store_errors

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    from synthguard.ledger.checkpoint import Checkpoint

EVENT_KINDS = frozenset(
    {"generation", "label", "export", "scan", "moderation", "complaint", "consent", "feature", "identity", "erasure",
     "purge"}
)
PERSONAL_KEYS = frozenset(
    "full_name real_name legal_name email phone mobile phone_number ip ip_address address home_address id_number "
    "id_card national_id passport passport_number date_of_birth birthdate dob face face_image voice voiceprint "
    "photo biometric biometric_template password gps geolocation".split()
)
MAX_BODY_BYTES = 64 * 1024
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Entry:
    index: int
    kind: str
    created_at: datetime
    body: dict[str, Any]
    leaf_hash: bytes
    data: bytes  # the exact bytes that were hashed


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    hashes: tuple[bytes, ...]
    root: bytes

    def verify(self) -> bool:
        return merkle.verify_inclusion(self.leaf_hash, self.index, self.tree_size, self.hashes, self.root)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "tree_size": self.tree_size, "leaf_hash": self.leaf_hash.hex(),
                "hashes": [h.hex() for h in self.hashes], "root": self.root.hex()}


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    hashes: tuple[bytes, ...]

    def verify(self) -> bool:
        return merkle.verify_consistency(self.old_size, self.new_size, self.old_root, self.new_root, self.hashes)

    def to_dict(self) -> dict[str, Any]:
        return {"old_size": self.old_size, "new_size": self.new_size, "old_root": self.old_root.hex(),
                "new_root": self.new_root.hex(), "hashes": [h.hex() for h in self.hashes]}


def canonical_json(value: Any) -> bytes:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as err:
        raise ValidationError("ledger entry is not plain JSON: {err}", values={"err": err}) from err


def _check_keys(value: Any, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError("ledger entry key {path}{key!r} is not a string",
                                      values={"path": path, "key": key})
            if key.lower().replace("-", "_") in PERSONAL_KEYS:
                raise ValidationError(
                    "ledger entry field {path}{key} looks like raw personal data", values={"path": path, "key": key},
                    hint="Log a hash or a pseudonymous id; keep the data itself in SubjectVault and log its reference.",
                )
            _check_keys(item, f"{path}{key}.")
    elif isinstance(value, list):
        for item in value:
            _check_keys(item, path)


def _entry_from_row(row: Any) -> Entry:
    doc = json.loads(row.data)
    return Entry(row.idx, row.kind, row.created_at, doc["body"], row.leaf_hash, row.data)


class Ledger:
    """Append-only, tamper-evident event log over a SQLAlchemy Session (one log per database).

    Every method runs in the caller's session and transaction and never commits.
    """

    def __init__(self, *, origin: str | None = None, kinds: Iterable[str] = EVENT_KINDS, extensions: bool = True):
        self.origin = origin  # None: derived from the signing key (checkpoint.default_origin), unique per log
        self.kinds = frozenset(kinds)
        self.extensions = extensions

    def origin_for(self, key: Any) -> str:
        """The origin line and signed-note key name of this log's checkpoints (C2SP tlog-checkpoint)."""
        return self.origin or default_origin(key)

    # --- writing ---------------------------------------------------------------------------
    def append(self, session: Session, kind: str, body: dict[str, Any], *, time: datetime | None = None) -> Entry:
        return self.append_many(session, [(kind, body)], time=time)[0]

    def append_many(
        self, session: Session, events: Iterable[tuple[str, dict[str, Any]]], *, time: datetime | None = None
    ) -> list[Entry]:
        """Append events in order; O(log n) node writes each; indices are allocated under the head-row lock."""
        events = list(events)
        for kind, body in events:
            if kind not in self.kinds:
                raise ValidationError("unknown ledger event kind {kind!r}; expected one of {kinds}",
                                      values={"kind": kind, "kinds": sorted(self.kinds)})
            if not isinstance(body, dict):
                raise ValidationError("ledger entry body must be a JSON object, not {name}",
                                      values={"name": type(body).__name__})
            _check_keys(body, "")
        if not events:
            return []
        if time is not None and time.tzinfo is None:
            raise ValidationError("ledger time must be timezone-aware (UTC)")
        now = utcnow() if time is None else time.astimezone(UTC)
        stamp = format_time(now)
        with store_errors("append to the ledger"):
            start, frontier = self._lock_head(session, len(events))
            entries: list[Entry] = []
            entry_rows: list[dict[str, Any]] = []
            node_rows: list[dict[str, Any]] = []
            for offset, (kind, body) in enumerate(events):
                index = start + offset
                data = canonical_json({"body": body, "index": index, "kind": kind, "time": stamp, "v": FORMAT_VERSION})
                if len(data) > MAX_BODY_BYTES:
                    raise ValidationError("ledger entry is {data_count} bytes; the limit is {max_body_bytes}",
                                          values={"data_count": len(data), "max_body_bytes": MAX_BODY_BYTES})
                leaf = merkle.leaf_hash(data)
                entries.append(Entry(index, kind, now, body, leaf, data))
                entry_rows.append({"idx": index, "kind": kind, "created_at": now, "data": data, "leaf_hash": leaf})
                _push(frontier, index, leaf, node_rows)
            ledger_repo.write(session, entry_rows, node_rows, b"".join(h for _, h in frontier))
        return entries

    def _lock_head(self, session: Session, n: int) -> tuple[int, list[tuple[int, bytes]]]:
        """Reserve indices [start, start + n) by bumping the head row; the row lock is held until commit."""
        row = ledger_repo.reserve(session, n)
        start = row.size - n
        levels = [b for b in range(start.bit_length() - 1, -1, -1) if start >> b & 1]
        blob = row.frontier
        if len(blob) != 32 * len(levels):
            raise StoreError("ledger head is corrupt: size {start} needs {levels_count} frontier hashes",
                             values={"start": start, "levels_count": len(levels)})
        return start, [(lvl, blob[32 * i : 32 * i + 32]) for i, lvl in enumerate(levels)]

    # --- reading ---------------------------------------------------------------------------
    def size(self, session: Session) -> int:
        with store_errors("read the ledger size"):
            return ledger_repo.size(session)

    def entry(self, session: Session, index: int) -> Entry:
        with store_errors("read a ledger entry"):
            row = ledger_repo.entry(session, index)
        if row is None:
            raise NotFoundError("ledger entry {index} does not exist", values={"index": index})
        return _entry_from_row(row)

    def root(self, session: Session, size: int | None = None) -> bytes:
        current = self.size(session)
        size = current if size is None else self._check_size(size, current)
        return merkle.fold(self._nodes(session, merkle.root_plan(size)))

    def inclusion_proof(self, session: Session, index: int, tree_size: int | None = None) -> InclusionProof:
        current = self.size(session)
        tree_size = current if tree_size is None else self._check_size(tree_size, current)
        if not 0 <= index < tree_size:
            raise NotFoundError("ledger entry {index} is not in a tree of size {tree_size}",
                                values={"index": index, "tree_size": tree_size})
        plan = merkle.inclusion_plan(index, tree_size)
        roots = merkle.root_plan(tree_size)
        known = self._lookup(session, [(0, index), *roots, *(n for recipe in plan for n in recipe)])
        hashes = tuple(merkle.fold([known[n] for n in recipe]) for recipe in plan)
        return InclusionProof(index, tree_size, known[(0, index)], hashes, merkle.fold([known[n] for n in roots]))

    def consistency_proof(self, session: Session, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        current = self.size(session)
        new_size = current if new_size is None else self._check_size(new_size, current)
        if not 0 <= old_size <= new_size:
            raise ValidationError("no consistency proof from size {old_size} to size {new_size}",
                                  values={"old_size": old_size, "new_size": new_size})
        plan = merkle.consistency_plan(old_size, new_size)
        old_nodes, new_nodes = merkle.root_plan(old_size), merkle.root_plan(new_size)
        known = self._lookup(session, [*old_nodes, *new_nodes, *(n for recipe in plan for n in recipe)])
        return ConsistencyProof(
            old_size, new_size, merkle.fold([known[n] for n in old_nodes]), merkle.fold([known[n] for n in new_nodes]),
            tuple(merkle.fold([known[n] for n in recipe]) for recipe in plan),
        )

    # --- checkpoints and audit -------------------------------------------------------------
    def checkpoint(self, session: Session, private_key: Ed25519PrivateKey) -> Checkpoint:
        """Sign the current tree head and store it (the anchor that makes later edits visible)."""
        size = self.size(session)
        cp = sign_checkpoint(self.origin_for(private_key), size, self.root(session), private_key,
                             extensions=self.extensions)
        with store_errors("store a checkpoint"):
            ledger_repo.add_checkpoint(session, tree_size=cp.tree_size, root_hash=cp.root_hash,
                                       log_id=log_id(private_key), created_at=cp.timestamp or utcnow(),
                                       note=cp.to_text())
        return cp

    def latest_checkpoint(self, session: Session) -> Checkpoint | None:
        with store_errors("read checkpoints"):
            note = ledger_repo.latest_note(session)
        return None if note is None else parse_checkpoint(note)

    def latest_note(self, session: Session) -> str | None:
        """The latest checkpoint exactly as stored, with any witness cosignature lines added to it (issue 19)."""
        with store_errors("read checkpoints"):
            return ledger_repo.latest_note(session)

    def add_cosignatures(self, session: Session, tree_size: int, root_hash: bytes, lines: list[str]) -> str:
        """Append witness cosignature lines to the stored note of the checkpoint (size, root); returns the note.
        The lines are verified by the caller (trust.witness_client); lines already there are not repeated."""
        with store_errors("store cosignatures"):
            row = ledger_repo.checkpoint_of(session, tree_size, root_hash)
            if row is None:
                raise ValidationError("no stored checkpoint of size {size} with that root", values={"size": tree_size})
            note = row.note if row.note.endswith("\n") else row.note + "\n"
            for line in lines:
                line = line.rstrip("\n") + "\n"
                if line not in note:
                    note += line
            ledger_repo.set_note(session, row.id, note)
        return note

    def verify(self, session: Session, public_key: Ed25519PublicKey) -> VerifyReport:
        return verify(session, public_key)

    # --- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _check_size(size: int, current: int) -> int:
        if not 0 <= size <= current:
            raise ValidationError("tree size {size} is not available: the ledger holds {current} entries",
                                  values={"size": size, "current": current})
        return size

    def _nodes(self, session: Session, nodes: list[merkle.Node]) -> list[bytes]:
        known = self._lookup(session, nodes)
        return [known[n] for n in nodes]

    def _lookup(self, session: Session, nodes: list[merkle.Node]) -> dict[merkle.Node, bytes]:
        """Fetch complete-subtree hashes: leaves from ledger_entries, interior nodes from ledger_nodes."""
        leaves = sorted({i for lvl, i in nodes if lvl == 0})
        interior = sorted({n for n in nodes if n[0] > 0})
        found: dict[merkle.Node, bytes] = {}
        with store_errors("read ledger hashes"):
            found.update(((lvl, i), h) for lvl, i, h in ledger_repo.hashes(session, leaves, interior))
        missing = [n for n in nodes if n not in found]
        if missing:
            raise LedgerIntegrityError("ledger node(s) {missing} (level, index) are missing; run a full verify",
                                       values={"missing": missing[:3]})
        return found


def _push(frontier: list[tuple[int, bytes]], index: int, leaf: bytes, node_rows: list[dict[str, Any]]) -> None:
    """Add leaf ``index`` to the compact range, recording every complete node it closes."""
    level, h = 0, leaf
    while frontier and frontier[-1][0] == level:
        _, left = frontier.pop()
        h, level = merkle.node_hash(left, h), level + 1
        node_rows.append({"level": level, "idx": index >> level, "hash": h})
    frontier.append((level, h))

