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
- :class:`MIHIndex` — multi-index hashing on 16 substrings of 16 bits: within 31 bits, some substring is within
  1 bit, so 17 bucket probes per substring find every candidate; ~10x faster than the scans at 10M hashes
  (multi-index hashing on 64-bit blocks would need radius 7 — millions of probes — hence the narrow substrings).
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


def checked_batch(ids: Sequence[int] | np.ndarray, hashes: Sequence[HashLike] | np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Validate an ``add`` batch for every Index: one id per hash, unique and non-negative."""
    new_ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    mat = to_bytes_matrix(hashes)
    if len(new_ids) != len(mat):
        raise ValueError(f"{len(new_ids)} ids for {len(mat)} hashes")
    if (new_ids < 0).any() or len(np.unique(new_ids)) != len(new_ids):
        raise ValueError("ids must be unique non-negative integers")
    return new_ids, mat


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
        new_ids, mat = checked_batch(ids, hashes)
        if len(new_ids) == 0:
            return
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
        """Full 256-bit distances of candidate rows (duplicates allowed); only live rows within the radius."""
        if len(rows) == 0:
            return []
        rows = rows[self._alive[rows]]
        d = np.zeros(len(rows), np.int32)
        for k in range(WORDS):
            d += np.bitwise_count(self._w[k, rows] ^ q[k])
        ok = d <= max_distance
        rows, first = np.unique(rows[ok], return_index=True)
        return _sorted(zip(self._ids[rows].tolist(), d[ok][first].tolist(), strict=True))

    def _scan(self, start: int, stop: int, q: np.ndarray, r: int, words: int) -> np.ndarray:
        """Rows in [start, stop) whose distance over the first ``words`` 64-bit words is <= r (a lower bound)."""
        size = min(max(stop - start, 0), _CHUNK)
        x = np.empty(size, np.uint64)
        c = np.empty(size, np.uint8)
        d = np.empty(size, np.uint16)
        m = np.empty(size, bool)
        hits = []
        for s in range(start, stop, _CHUNK):
            n = min(stop, s + _CHUNK) - s
            xn, cn, dn, mn = x[:n], c[:n], d[:n], m[:n]
            for k in range(words):
                np.bitwise_xor(self._w[k, s:s + n], q[k], out=xn)
                np.bitwise_count(xn, out=cn)
                if k == 0:
                    np.copyto(dn, cn)
                else:
                    np.add(dn, cn, out=dn)
            np.less_equal(dn, r, out=mn)
            if mn.any():
                hits.append(np.flatnonzero(mn) + s)
        return np.concatenate(hits) if hits else np.empty(0, np.int64)


class FlatIndex(_Columns):
    """Exact brute force: XOR + popcount over all 256 bits of every row, vectorised in chunks."""

    def query(self, hash: HashLike, max_distance: int) -> list[tuple[int, int]]:
        r, q = _check_radius(max_distance), _words(hash)
        with self._lock:
            return self._verify(self._scan(0, self._n, q, r, WORDS), q, r)


class PrefixIndex(_Columns):
    """Exact coarse-to-fine scan: the 128-bit prefix distance bounds the full distance from below."""

    def query(self, hash: HashLike, max_distance: int) -> list[tuple[int, int]]:
        r, q = _check_radius(max_distance), _words(hash)
        with self._lock:  # at r >= 128 the prefix prunes nothing: scan all words at once
            return self._verify(self._scan(0, self._n, q, r, 2 if r < 128 else WORDS), q, r)


_SUBS = 16  # substrings of 16 bits
_FLIPS = np.concatenate([[0], 1 << np.arange(16)]).astype(np.int64)  # radius-1 probes of a 16-bit key
_TAIL = 1 << 16  # rows added since the last build are scanned until the tail outgrows this (or built/4)


class MIHIndex(_Columns):
    """Exact multi-index hashing on 16 substrings of 16 bits (Norouzi et al., CVPR 2012).

    If two hashes are within 31 bits, pigeonhole puts at least one of the 16 disjoint 16-bit substrings within
    1 bit (in general within ``r // 16``).  Each substring has a bucket table (rows sorted by key, CSR offsets);
    a query probes 17 keys per substring (the key and its 16 one-bit neighbours) and verifies the candidates
    on all 256 bits: ~272 * N / 65536 candidates (4k at 1M, 41k at 10M) instead of N rows.  Radii of 32 bits
    and more, skewed buckets (more than N/8 candidates) and rows added since the last build fall back to the
    prefix scan.  Costs 64 extra bytes per row (16 int32 row numbers) and a rebuild (16 radix argsorts) each
    time the unindexed tail passes max(65,536 rows, a quarter of the index).
    """

    def __init__(self) -> None:
        super().__init__()
        self._built = 0
        self._order = np.empty((_SUBS, 0), np.int32)
        self._starts = np.zeros((_SUBS, 65537), np.int64)

    def _added(self, start: int) -> None:
        if start == 0 or self._n - self._built > max(_TAIL, self._built // 4):
            self._build()

    def _keys(self, j: int, words: np.ndarray) -> np.ndarray:
        return ((words[j // 4] >> np.uint64(16 * (j % 4))) & np.uint64(0xFFFF)).astype(np.int64)

    def _build(self) -> None:
        n = self._n
        if n == 0:
            self._built, self._order = 0, np.empty((_SUBS, 0), np.int32)
            return
        order = np.empty((_SUBS, n), np.int32 if n < 2**31 else np.int64)
        starts = np.zeros((_SUBS, 65537), np.int64)
        for j in range(_SUBS):
            key = self._keys(j, self._w[:, :n]).astype(np.uint16)
            order[j] = np.argsort(key, kind="stable")  # radix sort on uint16
            np.cumsum(np.bincount(key, minlength=65536), out=starts[j, 1:])
        self._order, self._starts, self._built = order, starts, n

    def query(self, hash: HashLike, max_distance: int) -> list[tuple[int, int]]:
        r, q = _check_radius(max_distance), _words(hash)
        with self._lock:
            rows = self._candidates(q, r)
            if rows is None:  # too many candidates: the scan is cheaper
                rows = self._scan(0, self._n, q, r, 2 if r < 128 else WORDS)
            else:
                rows = np.concatenate([rows, self._scan(self._built, self._n, q, r, 2)])
            return self._verify(rows, q, r)

    def _candidates(self, q: np.ndarray, r: int) -> np.ndarray | None:
        built = self._built
        if r >= 2 * _SUBS or built == 0:
            return None if built else np.empty(0, np.int64)
        keys = np.array([self._keys(j, q.reshape(WORDS, 1))[0] for j in range(_SUBS)], np.int64)
        probes = keys[:, None] ^ (_FLIPS[None, :] if r >= _SUBS else _FLIPS[None, :1])
        lo = np.take_along_axis(self._starts, probes, 1)
        length = (np.take_along_axis(self._starts, probes + 1, 1) - lo).ravel()
        total = int(length.sum())
        if total > max(built // 8, 4096):
            return None
        begin = (lo + (np.arange(_SUBS, dtype=np.int64) * built)[:, None]).ravel()
        offsets = np.repeat(begin - (np.cumsum(length) - length), length) + np.arange(total)
        return self._order.reshape(-1)[offsets].astype(np.int64)


class FaissIndex:
    """``faiss.IndexBinaryFlat`` behind the Index protocol (optional extra: ``pip install faiss-cpu``)."""

    def __init__(self, *, threads: int | None = 1) -> None:
        import faiss  # ImportError when the extra is absent; see make_index()

        if threads is not None:  # process-wide OpenMP setting; one query is far too small to share out
            faiss.omp_set_num_threads(threads)
        self._faiss = faiss
        self._index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(BITS))
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: Sequence[int] | np.ndarray, hashes: Sequence[HashLike] | np.ndarray) -> None:
        new_ids, mat = checked_batch(ids, hashes)
        if len(new_ids) == 0:
            return
        with self._lock:
            if self._index.ntotal and np.isin(new_ids, self._faiss.vector_to_array(self._index.id_map)).any():
                raise ValueError("an id is already in the index; remove it first")
            self._index.add_with_ids(mat, new_ids)

    def remove(self, id: int) -> bool:
        with self._lock:
            return bool(self._index.remove_ids(np.asarray([id], dtype=np.int64)))  # type: ignore[arg-type]

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


INDEXES: dict[str, type] = {"flat": FlatIndex, "prefix": PrefixIndex, "mih": MIHIndex, "faiss": FaissIndex}


def make_index(name: str = "mih") -> Index:
    """An empty index by name; ``faiss`` falls back to ``mih`` when faiss-cpu is not installed."""
    if name not in INDEXES:
        raise ValueError(f"unknown index {name!r}; expected one of {sorted(INDEXES)}")
    if name == "faiss" and not faiss_available():
        name = "mih"
    return INDEXES[name]()  # type: ignore[no-any-return]


__all__ = [
    "FaissIndex", "FlatIndex", "INDEXES", "Index", "MIHIndex", "PrefixIndex", "faiss_available", "make_index",
    "to_bytes_matrix",
]
