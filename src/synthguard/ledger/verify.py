"""Full audit of the ledger: recompute the tree from the stored entry bytes and check every checkpoint.

Nothing stored is trusted: leaf hashes are recomputed from ``ledger_entries.data``, interior nodes from those
leaves, roots from those nodes.  Each difference becomes a named :class:`Problem` (which index, what kind):

==========================  ===========================================================================
``edited``                  an entry's bytes no longer match its leaf hash, or its columns its bytes
``missing``                 indices absent from ``ledger_entries`` (rows deleted)
``moved``                   the row at index i was written as index j (reordered, or rows inserted/removed)
``extra``                   rows beyond the head's size (written outside the ledger API)
``node``                    a stored interior hash differs from the recomputed one (proof cache altered,
                            or an entry *and* its leaf hash were rewritten; the range is named)
``head``                    the head row (size, compact range) disagrees with the entries
``checkpoint-invalid``      a checkpoint note is malformed or its columns disagree with the signed text
``checkpoint-signature``    wrong key or an invalid signature
``checkpoint-truncated``    a signed tree size larger than the ledger (entries deleted from the end)
``checkpoint-root``         the entries no longer give the signed root (rewritten, e.g. truncate + re-append)
``checkpoint-fork``         consecutive checkpoints are not consistent (RFC 6962 consistency proof fails)
``unreadable``              the database cannot be read (corrupt or truncated file)
==========================  ===========================================================================

Memory is ~64 bytes per entry (packed hashes); 1,000,000 entries verify in seconds (see bench/ledger.py).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from synthguard.errors import LedgerIntegrityError, StoreError, ValidationError
from synthguard.ledger import merkle
from synthguard.ledger.checkpoint import format_time, parse_checkpoint, verify_checkpoint
from synthguard.store import ledger_repo
from synthguard.store.ledger_repo import Session, store_errors

_ZERO = bytes(32)


@dataclass(frozen=True)
class Problem:
    kind: str
    index: int | None
    detail: str

    def __str__(self) -> str:
        where = "" if self.index is None else f" at index {self.index}"
        return f"{self.kind}{where}: {self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    size: int
    root: bytes
    checkpoints: int
    problems: tuple[Problem, ...]
    omitted: int  # problems not listed (cap reached)
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"ledger OK: {self.size} entries, {self.checkpoints} checkpoints, root {self.root.hex()}"
        return f"ledger FAILED verification: {len(self.problems) + self.omitted} problem(s){self._details()}"

    def _details(self) -> str:
        """One line per problem, each after a newline (the summary's heading is a catalog template)."""
        lines = [f"  - {p}" for p in self.problems]
        if self.omitted:
            lines.append(f"  ... and {self.omitted} more")
        return "".join("\n" + line for line in lines)

    def raise_if_failed(self) -> None:
        if not self.ok:
            raise LedgerIntegrityError("ledger FAILED verification: {n} problem(s){details}",
                                       values={"n": len(self.problems) + self.omitted, "details": self._details()})

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "size": self.size, "root": self.root.hex(), "checkpoints": self.checkpoints,
                "problems": [p.__dict__ for p in self.problems], "omitted": self.omitted, "seconds": self.seconds}


@dataclass
class _Problems:
    limit: int
    items: list[Problem] = field(default_factory=list)
    omitted: int = 0
    leaf_indices: list[int] = field(default_factory=list)  # sorted: entries already blamed

    def add(self, kind: str, index: int | None, detail: str) -> None:
        if kind in ("edited", "missing", "moved", "extra") and index is not None:
            self.leaf_indices.append(index)
        if len(self.items) < self.limit:
            self.items.append(Problem(kind, index, detail))
        else:
            self.omitted += 1

    def blamed(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.leaf_indices, start)
        return i < len(self.leaf_indices) and self.leaf_indices[i] < end


def verify(session: Session, public_key: Ed25519PublicKey | Ed25519PrivateKey, *, batch: int = 20_000,
           max_problems: int = 1000) -> VerifyReport:
    """Recompute and check everything; returns a report (never raises for a damaged ledger or database)."""
    started = time.perf_counter()
    found = _Problems(max_problems)
    size, root, checkpoints = 0, merkle.EMPTY_ROOT, 0
    try:
        with store_errors("read the ledger"):
            head = ledger_repo.head(session)
            leaves = _scan_entries(session, batch, found)
            size = _check_head(head, leaves, found)
            tree = merkle.MemoryTree(bytes(leaves))
            root = tree.root()
            _check_frontier(head, tree, found)
            _check_nodes(session, tree, batch, found)
            checkpoints = _check_checkpoints(session, tree, public_key, found)
    except StoreError as err:
        found.add("unreadable", None, f"{err.message} (database corrupt or truncated?)")
    return VerifyReport(size, root, checkpoints, tuple(found.items), found.omitted, time.perf_counter() - started)


def _as_time(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _scan_entries(session: Session, batch: int, found: _Problems) -> bytearray:
    """Stream entries in index order, re-hash each, and return the packed recomputed leaf hashes."""
    leaves, last, sha = bytearray(), -1, hashlib.sha256
    while rows := ledger_repo.raw_entries(session, last, batch):
        for idx, kind, created, data, stored in rows:
            expected = len(leaves) // 32
            if idx > expected:
                found.add("missing", expected, f"entries {expected}..{idx - 1} are missing (deleted)")
                leaves += _ZERO * (idx - expected)
            data = data.encode() if isinstance(data, str) else bytes(data or b"")
            leaf = sha(b"\x00" + data).digest()
            leaves += leaf
            if leaf != stored:
                found.add("edited", idx, "the entry's content does not match its leaf hash (altered after writing)")
                continue
            _check_entry(idx, kind, created, data, found)
        last = rows[-1][0]
    return leaves


def _check_entry(idx: int, kind: str, created: Any, data: bytes, found: _Problems) -> None:
    try:
        doc = json.loads(data)
        written_at = format_time(_as_time(created))
    except ValueError:
        found.add("edited", idx, "the entry or its time column is unreadable")
        return
    if not isinstance(doc, dict) or doc.get("index") != idx:
        written = doc.get("index") if isinstance(doc, dict) else None
        why = "reordered"
        if isinstance(written, int):
            why = "reordered, or rows were " + ("inserted" if written < idx else "removed") + " before it"
        found.add("moved", idx, f"the entry stored here was written as index {written}: {why}")
    elif doc.get("kind") != kind or doc.get("time") != written_at:
        found.add("edited", idx, f"columns (kind {kind!r}, time {written_at}) disagree with the hashed entry "
                                 f"(kind {doc.get('kind')!r}, time {doc.get('time')})")


def _check_head(head: Any, leaves: bytearray, found: _Problems) -> int:
    count = len(leaves) // 32
    head_size = head.size if head is not None else 0
    if head is None and count:
        found.add("head", None, "the ledger head row is missing")
    if head_size < count:
        found.add("extra", head_size, f"{count - head_size} entries lie beyond the head (size {head_size}): "
                                      "written outside the ledger API")
    if head_size > count:
        found.add("missing", count, f"entries {count}..{head_size - 1} are missing (the head says {head_size})")
        leaves += _ZERO * (head_size - count)
    return max(head_size, count)


def _check_frontier(head: Any, tree: merkle.MemoryTree, found: _Problems) -> None:
    if head is None:
        return
    frontier = bytes(head.frontier or b"")
    hashes = [frontier[i : i + 32] for i in range(0, len(frontier), 32)]
    if merkle.fold(hashes) != tree.root(head.size):
        found.add("head", None, "the head's compact range does not match the entries; new appends would be wrong")


def _check_nodes(session: Session, tree: merkle.MemoryTree, batch: int, found: _Problems) -> None:
    """Compare every stored interior node with the recomputed one, level by level."""
    top = ledger_repo.top_level(session)
    for level in range(1, max(len(tree.levels) - 1, top) + 1):
        computed = tree.levels[level] if level < len(tree.levels) else b""
        expected, last = 0, -1
        while rows := ledger_repo.raw_nodes(session, level, last, batch):
            for idx, stored in rows:
                if idx > expected:
                    _node_problem(found, level, expected, idx, "missing from the proof cache")
                mine = computed[idx * 32 : idx * 32 + 32]
                if not mine:
                    _node_problem(found, level, idx, idx + 1, "lies beyond the tree (stale or forged)")
                elif mine != stored:
                    _node_problem(found, level, idx, idx + 1, "differs from the hash of the entries below it")
                expected = idx + 1
            last = rows[-1][0]
        if expected < len(computed) // 32:
            _node_problem(found, level, expected, len(computed) // 32, "missing from the proof cache")


def _node_problem(found: _Problems, level: int, first: int, end: int, what: str) -> None:
    start, stop = first << level, end << level
    if found.blamed(start, stop):
        return  # already explained by a named entry below it
    nodes = f"node (level {level}, index {first})" if end == first + 1 else f"nodes {first}..{end - 1} at level {level}"
    found.add("node", start, f"stored {nodes} covering entries {start}..{stop - 1} {what}")


def _check_checkpoints(session: Session, tree: merkle.MemoryTree, key: Any, found: _Problems) -> int:
    signed: list[tuple[int, Any]] = []  # validly signed, in signing order
    good: list[tuple[int, Any]] = []  # ... and matching the recomputed tree
    rows = ledger_repo.raw_checkpoints(session)
    matched = 0  # the largest size whose signed root the entries still give
    for cid, tree_size, root_hash, note in rows:
        try:
            cp = parse_checkpoint(note)
            verify_checkpoint(cp, key)
        except ValidationError as err:
            found.add("checkpoint-invalid", None, f"checkpoint #{cid}: {err.message}")
            continue
        except LedgerIntegrityError as err:
            found.add("checkpoint-signature", None, f"checkpoint #{cid}: {err.message}")
            continue
        signed.append((cid, cp))
        if cp.tree_size != tree_size or cp.root_hash != root_hash:
            found.add("checkpoint-invalid", None, f"checkpoint #{cid}: size/root columns disagree with the signed note")
        if cp.tree_size > tree.size:
            found.add("checkpoint-truncated", tree.size, f"checkpoint #{cid} signed {cp.tree_size} entries but the "
                                                         f"ledger holds {tree.size}: entries were deleted")
        elif tree.root(cp.tree_size) != cp.root_hash:
            found.add("checkpoint-root", None, f"checkpoint #{cid}: the entries no longer give the root signed at size "
                                               f"{cp.tree_size}; an entry in {matched}..{cp.tree_size - 1} was "
                                               "rewritten after signing (e.g. truncated and re-appended)")
        else:
            matched = max(matched, cp.tree_size)
            good.append((cid, cp))  # its root is the entries' root: consistency with its predecessor is meaningful
    for (a_id, a), (b_id, b) in zip(signed, signed[1:], strict=False):
        if (b_id, b) in good:
            _check_pair(tree, a_id, a, b_id, b, found)
    return len(rows)


def _check_pair(tree: merkle.MemoryTree, a_id: int, a: Any, b_id: int, b: Any, found: _Problems) -> None:
    if b.tree_size < a.tree_size:
        found.add("checkpoint-fork", None, f"checkpoint #{b_id} (size {b.tree_size}) is smaller than the earlier "
                                           f"#{a_id} (size {a.tree_size}): the log was rolled back")
    elif b.tree_size <= tree.size:
        proof = tree.consistency_proof(a.tree_size, b.tree_size)
        if not merkle.verify_consistency(a.tree_size, b.tree_size, a.root_hash, b.root_hash, proof):
            found.add("checkpoint-fork", None, f"checkpoint #{a_id} (size {a.tree_size}) is not a prefix of #{b_id} "
                                               f"(size {b.tree_size}): the log key signed two different histories "
                                               "(split view)")
