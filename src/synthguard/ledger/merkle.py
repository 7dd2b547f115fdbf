"""RFC 6962 / RFC 9162 Merkle tree hashing, proof plans and pure proof verifiers.

The tree is the one Certificate Transparency and sigstore/rekor use, so any third-party verifier
can check our proofs:

* leaf hash  ``SHA-256(0x00 || entry)``, interior node ``SHA-256(0x01 || left || right)``;
* ``MTH({}) = SHA-256("")``; for ``n > 1`` the split point ``k`` is the largest power of two
  strictly below ``n`` (RFC 6962 §2.1) — not the midpoint.

Every subtree that RFC 6962 ever needs for a root or a proof is a run of *complete, aligned*
subtrees: node ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``.
A :data:`Node` is that pair.  Proof *generation* is therefore split in two: a pure **plan** (which
complete nodes, folded how) computed here, and a lookup of those nodes in whatever stores them
(the ledger's tables, or :class:`MemoryTree`).  This keeps proofs O(log n) lookups at any size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "Node",
    "consistency_plan",
    "fold",
    "inclusion_plan",
    "leaf_hash",
    "node_hash",
    "resolve",
    "root_plan",
    "subtree_nodes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""A complete, aligned subtree: ``(level, index)``; level 0 is a leaf."""

Plan = list[list[Node]]
"""Proof recipe: one entry per proof hash, each the complete nodes whose :func:`fold` gives it."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def fold(hashes: Sequence[bytes]) -> bytes:
    """Hash of a run of complete subtrees listed left to right, largest first (RFC 6962 right fold)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


# --- plans ---------------------------------------------------------------------------------
def subtree_nodes(start: int, end: int) -> list[Node]:
    """Complete nodes whose fold is ``MTH(D[start:end])``; ``start`` must be aligned as in RFC 6962."""
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start & ((1 << level) - 1):
            raise ValueError(f"range [{start}, {end}) is not an RFC 6962 subtree")
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def root_plan(size: int) -> list[Node]:
    """Nodes whose fold is the root of the tree of the first ``size`` leaves (its "compact range")."""
    return subtree_nodes(0, size)


def _split(n: int) -> int:
    """Largest power of two strictly less than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_plan(index: int, size: int) -> Plan:
    """RFC 6962 §2.1.1 PATH(m, D[n]), bottom-up, as node recipes."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    plan: Plan = []
    start, end = 0, size
    while end - start > 1:  # walk top-down, then reverse: the audit path lists the deepest sibling first
        k = _split(end - start)
        if index < start + k:
            plan.append(subtree_nodes(start + k, end))
            end = start + k
        else:
            plan.append(subtree_nodes(start, start + k))
            start += k
    plan.reverse()
    return plan


def consistency_plan(old_size: int, new_size: int) -> Plan:
    """RFC 6962 §2.1.2 PROOF(m, D[n]) as node recipes (empty when ``old_size`` is 0 or equals ``new_size``)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    plan: Plan = []
    m, start, end, complete = old_size, 0, new_size, True
    while end != m:  # SUBPROOF(m - start, D[start:end], complete)
        k = _split(end - start)
        if m - start <= k:
            plan.append(subtree_nodes(start + k, end))
            end = start + k
        else:
            plan.append(subtree_nodes(start, start + k))
            start, complete = start + k, False
    if not complete:
        plan.append(subtree_nodes(start, end))
    plan.reverse()
    return plan


def resolve(plan: Plan, lookup: Callable[[Node], bytes]) -> list[bytes]:
    return [fold([lookup(node) for node in recipe]) for recipe in plan]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -----------------------------------------
def _ok_hashes(*hashes: object) -> bool:
    return all(isinstance(h, bytes | bytearray) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> bool:
    """True iff ``path`` proves the leaf ``leaf_hash`` sits at ``index`` of the tree of ``tree_size`` with ``root``."""
    if not (_ok_hashes(leaf_hash, root, *path) and 0 <= index < tree_size):
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True iff ``proof`` shows the tree (``old_size``, ``old_root``) is a prefix of (``new_size``, ``new_root``)."""
    if not (_ok_hashes(old_root, new_root, *proof) and 0 <= old_size <= new_size):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# --- an in-memory tree (tests, benchmarks, and the verifier's recomputation) ---------------
class MemoryTree:
    """All complete nodes of a tree held as packed ``bytes`` per level (32 bytes per node).

    Building costs ``n - 1`` node hashes and ``~64 n`` bytes; :meth:`node` is a slice.
    """

    def __init__(self, leaf_hashes: bytes | Iterable[bytes]):
        level0 = leaf_hashes if isinstance(leaf_hashes, bytes | bytearray) else b"".join(leaf_hashes)
        if len(level0) % HASH_SIZE:
            raise ValueError("leaf hashes must be 32 bytes each")
        self.levels: list[bytes] = [bytes(level0)]
        sha, cur = hashlib.sha256, self.levels[0]
        while len(cur) >= 2 * HASH_SIZE:
            cur = b"".join([sha(b"\x01" + cur[i : i + 64]).digest() for i in range(0, len(cur) - 63, 64)])
            self.levels.append(cur)

    @property
    def size(self) -> int:
        return len(self.levels[0]) // HASH_SIZE

    def node(self, node: Node) -> bytes:
        level, index = node
        if level >= len(self.levels) or (index + 1) * HASH_SIZE > len(self.levels[level]):
            raise KeyError(node)
        return self.levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE]

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} outside 0..{self.size}")
        return fold([self.node(n) for n in root_plan(size)])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return resolve(inclusion_plan(index, self.size if size is None else size), self.node)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return resolve(consistency_plan(old_size, self.size if new_size is None else new_size), self.node)
