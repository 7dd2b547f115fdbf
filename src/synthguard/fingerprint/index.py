"""Index: exact Hamming-radius search over 256-bit hashes (PDQ), the matching half of the fingerprint seam.

Every implementation returns the same answer — all ``(id, distance)`` with ``distance <= max_distance``,
closest first, ties by id — and the contract tests in ``tests/test_index.py`` hold them to a brute-force
reference.  They differ only in speed:

- :class:`FlatIndex` — XOR + popcount (``np.bitwise_count``) over all 256 bits of every row, in cache-sized
  chunks.  The plain exact scan.
- :class:`PrefixIndex` — coarse to fine, still exact.  The distance over the first 128 bits is a lower bound of
  the full distance, so a row whose prefix is already farther than ``max_distance`` cannot match.  For PDQ at
  31 the prefix distance of an unrelated hash is ~Binomial(128, 1/2) (mean 64, sd 5.7), so the filter keeps a
  few rows per billion and the scan reads half the bytes; the survivors are verified on all 256 bits.
  Multi-index hashing does not help at 31 bits (a 64-bit block would need radius 7: millions of probes).
- :class:`FaissIndex` — ``faiss.IndexBinaryFlat`` when the optional ``faiss-cpu`` package is installed.

Rows are stored column-wise (four ``uint64`` arrays), removal is a tombstone compacted lazily.  Ids are
caller-chosen non-negative integers (a bank's entry ids) and must be unique within an index.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

BITS = 256
WORDS = BITS // 64
_CHUNK = 1 << 16  # rows per chunk: the temporaries stay in L2
HashLike = str | bytes | np.ndarray


@runtime_checkable
class Index(Protocol):
    def add(self, ids: Sequence[int] | np.ndarray, hashes: Sequence[HashLike] | np.ndarray) -> None: ...

    def remove(self, id: int) -> bool: ...

    def query(self, hash: HashLike, max_distance: int) -> list[tuple[int, int]]: ...

    def __len__(self) -> int: ...


def to_bytes_matrix(hashes: Sequence[HashLike] | np.ndarray) -> np.ndarray:
    """(n, 32) uint8 from hex strings, 32-byte strings or an (n, 32) uint8 array."""
    if isinstance(hashes, np.ndarray):
        if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != BITS // 8:
            raise ValueError(f"hash array must be (n, {BITS // 8}) uint8, got {hashes.shape} {hashes.dtype}")
        return np.ascontiguousarray(hashes)
    items = list(hashes)
    if not items:
        return np.empty((0, BITS // 8), np.uint8)
    try:
        raw = b"".join(bytes.fromhex(h) if isinstance(h, str) else bytes(h) for h in items)
    except ValueError as exc:
        raise ValueError(f"hashes must be {BITS // 4} hex characters: {exc}") from None
    if len(raw) != len(items) * (BITS // 8):
        raise ValueError(f"every hash must be {BITS // 8} bytes ({BITS // 4} hex characters)")
    return np.frombuffer(raw, np.uint8).reshape(len(items), BITS // 8)


def _words(hash: HashLike) -> np.ndarray:
    return to_bytes_matrix([hash] if not isinstance(hash, np.ndarray) else hash.reshape(1, -1)).view(np.uint64)[0]


def _check_radius(max_distance: int) -> int:
    if not 0 <= int(max_distance) <= BITS:
        raise ValueError(f"max_distance must be within 0..{BITS}, got {max_distance}")
    return int(max_distance)


def _sorted(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    return sorted(pairs, key=lambda p: (p[1], p[0]))


class _Columns:
    """Growable column store: ``_w[k, row]`` is the k-th 64-bit word of a hash; tombstones for removal."""

    def __init__(self) -> None:
        self._w = np.zeros((WORDS, 1024), np.uint64)
        self._ids = np.zeros(1024, np.int64)
        self._alive = np.zeros(1024, bool)
        self._n = 0  # rows used (alive or dead)
        self._dead = 0
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return self._n - self._dead

    def add(self, ids: Sequence[int] | np.ndarray, hashes: Sequence[HashLike] | np.ndarray) -> None:
        new_ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        mat = to_bytes_matrix(hashes)
        if len(new_ids) != len(mat):
            raise ValueError(f"{len(new_ids)} ids for {len(mat)} hashes")
        if len(new_ids) == 0:
            return
        if (new_ids < 0).any() or len(np.unique(new_ids)) != len(new_ids):
            raise ValueError("ids must be unique non-negative integers")
        with self._lock:
            n = self._n
            if np.isin(new_ids, self._ids[:n][self._alive[:n]]).any():
                raise ValueError("an id is already in the index; remove it first")
            self._reserve(n + len(new_ids))
            self._w[:, n:n + len(new_ids)] = mat.view(np.uint64).T
            self._ids[n:n + len(new_ids)] = new_ids
            self._alive[n:n + len(new_ids)] = True
            self._n = n + len(new_ids)
            self._added(n)

    def remove(self, id: int) -> bool:
        with self._lock:
            rows = np.flatnonzero((self._ids[:self._n] == id) & self._alive[:self._n])
            if len(rows) == 0:
                return False
            self._alive[rows] = False
            self._dead += len(rows)
            if self._dead > 1024 and self._dead * 4 > self._n:
                self._compact()
            return True

    def _reserve(self, need: int) -> None:
        cap = self._ids.shape[0]
        if need <= cap:
            return
        cap = max(need, cap * 2)
        w = np.zeros((WORDS, cap), np.uint64)
        w[:, :self._n] = self._w[:, :self._n]
        self._w = w
        self._ids = np.resize(self._ids, cap)
        alive = np.zeros(cap, bool)
        alive[:self._n] = self._alive[:self._n]
        self._alive = alive

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive[:self._n])
        m = len(keep)
        self._w[:, :m] = self._w[:, keep]
        self._ids[:m] = self._ids[keep]
        self._alive[:m] = True
        self._alive[m:] = False
        self._n, self._dead = m, 0
        self._added(0)

    def _added(self, start: int) -> None:
        """Hook for subclasses that keep derived columns (rows from ``start`` changed)."""

    def _verify(self, rows: np.ndarray, q: np.ndarray, max_distance: int) -> list[tuple[int, int]]:
        """Full 256-bit distances of candidate rows; only live rows within the radius."""
        if len(rows) == 0:
            return []
        rows = rows[self._alive[rows]]
        d = np.zeros(len(rows), np.int32)
        for k in range(WORDS):
            d += np.bitwise_count(self._w[k, rows] ^ q[k])
        ok = d <= max_distance
        return _sorted(zip(self._ids[rows[ok]].tolist(), d[ok].tolist(), strict=True))


class FlatIndex(_Columns):
    """Exact brute force: XOR + popcount over all 256 bits of every row, vectorised in chunks."""

    def query(self, hash: HashLike, max_distance: int) -> list[tuple[int, int]]:
        r = _check_radius(max_distance)
        q = _words(hash)
        with self._lock:
            n = self._n
            x = np.empty(min(n, _CHUNK), np.uint64)
            c = np.empty(min(n, _CHUNK), np.uint8)
            d = np.empty(min(n, _CHUNK), np.uint16)
            hits = []
            for s in range(0, n, _CHUNK):
                m = min(n, s + _CHUNK) - s
                xm, cm, dm = x[:m], c[:m], d[:m]
                dm[:] = 0
                for k in range(WORDS):
                    np.bitwise_xor(self._w[k, s:s + m], q[k], out=xm)
                    np.bitwise_count(xm, out=cm)
                    np.add(dm, cm, out=dm)
                found = np.flatnonzero(dm <= r)
                if len(found):
                    hits.append(found + s)
            rows = np.concatenate(hits) if hits else np.empty(0, np.int64)
            return self._verify(rows, q, r)


class PrefixIndex(_Columns):
    """Exact coarse-to-fine search: the 128-bit prefix distance bounds the full distance from below."""

    def query(self, hash: HashLike, max_distance: int) -> list[tuple[int, int]]:
        r = _check_radius(max_distance)
        if r >= 128:  # the prefix cannot prune anything; a plain scan is as fast
            return FlatIndex.query(self, hash, r)  # type: ignore[arg-type]
        q = _words(hash)
        with self._lock:
            n = self._n
            x = np.empty(min(n, _CHUNK), np.uint64)
            c0 = np.empty(min(n, _CHUNK), np.uint8)
            c1 = np.empty(min(n, _CHUNK), np.uint8)
            hits = []
            w0, w1 = self._w[0], self._w[1]
            for s in range(0, n, _CHUNK):
                m = min(n, s + _CHUNK) - s
                xm, a, b = x[:m], c0[:m], c1[:m]
                np.bitwise_xor(w0[s:s + m], q[0], out=xm)
                np.bitwise_count(xm, out=a)
                np.bitwise_xor(w1[s:s + m], q[1], out=xm)
                np.bitwise_count(xm, out=b)
                np.add(a, b, out=a)
                found = np.flatnonzero(a <= r)
                if len(found):
                    hits.append(found + s)
            rows = np.concatenate(hits) if hits else np.empty(0, np.int64)
            return self._verify(rows, q, r)


class FaissIndex:
    """``faiss.IndexBinaryFlat`` behind the Index protocol (optional extra: ``pip install faiss-cpu``)."""

    def __init__(self) -> None:
        import faiss  # ImportError when the extra is absent; see make_index()

        self._faiss = faiss
        self._index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(BITS))
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: Sequence[int] | np.ndarray, hashes: Sequence[HashLike] | np.ndarray) -> None:
        new_ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        mat = to_bytes_matrix(hashes)
        if len(new_ids) != len(mat):
            raise ValueError(f"{len(new_ids)} ids for {len(mat)} hashes")
        if len(new_ids) == 0:
            return
        if (new_ids < 0).any() or len(np.unique(new_ids)) != len(new_ids):
            raise ValueError("ids must be unique non-negative integers")
        with self._lock:
            if self._index.ntotal and np.isin(new_ids, self._faiss.vector_to_array(self._index.id_map)).any():
                raise ValueError("an id is already in the index; remove it first")
            self._index.add_with_ids(mat, new_ids)

    def remove(self, id: int) -> bool:
        with self._lock:
            return bool(self._index.remove_ids(np.asarray([id], dtype=np.int64)))

    def query(self, hash: HashLike, max_distance: int) -> list[tuple[int, int]]:
        r = _check_radius(max_distance)
        q = to_bytes_matrix([hash] if not isinstance(hash, np.ndarray) else hash.reshape(1, -1))
        with self._lock:
            if not self._index.ntotal:
                return []
            lims, dist, ids = self._index.range_search(q, r + 1)  # faiss keeps distance < radius
        return _sorted(zip(ids[lims[0]:lims[1]].tolist(), dist[lims[0]:lims[1]].tolist(), strict=True))


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


INDEXES: dict[str, type] = {"flat": FlatIndex, "prefix": PrefixIndex, "faiss": FaissIndex}


def make_index(name: str = "prefix") -> Index:
    """An empty index by name; ``faiss`` falls back to ``prefix`` when faiss-cpu is not installed."""
    if name not in INDEXES:
        raise ValueError(f"unknown index {name!r}; expected one of {sorted(INDEXES)}")
    if name == "faiss" and not faiss_available():
        name = "prefix"
    return INDEXES[name]()  # type: ignore[no-any-return]


__all__ = ["INDEXES", "FaissIndex", "FlatIndex", "Index", "PrefixIndex", "faiss_available", "make_index",
           "to_bytes_matrix"]
