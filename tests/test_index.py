"""Index contract: every implementation gives the brute-force answer (same ids, distances and order)."""

from __future__ import annotations

import numpy as np
import pytest

from synthguard.fingerprint.index import INDEXES, FlatIndex, Index, faiss_available, make_index, to_bytes_matrix

IMPLS = [pytest.param(name, marks=pytest.mark.skipif(name == "faiss" and not faiss_available(),
                                                     reason="faiss-cpu is not installed (the faiss extra)"))
         for name in sorted(INDEXES)]


def flip(row: np.ndarray, nbits: int, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(row)
    pos = rng.choice(256, size=nbits, replace=False)
    bits[pos] ^= 1
    return np.packbits(bits)


def reference(data: dict[int, bytes], query: bytes, radius: int) -> list[tuple[int, int]]:
    """Pure-Python brute force: the answer every index must reproduce."""
    q = int.from_bytes(query, "big")
    out = [(i, bin(int.from_bytes(h, "big") ^ q).count("1")) for i, h in data.items()]
    return sorted(((i, d) for i, d in out if d <= radius), key=lambda p: (p[1], p[0]))


@pytest.fixture(scope="module")
def planted() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """3,000 random hashes plus near-duplicates of 40 of them at distances 0..40; queries near those 40."""
    rng = np.random.default_rng(1234)
    base = rng.integers(0, 256, size=(3000, 32), dtype=np.uint8)
    near = [flip(base[i], int(d), rng) for i, d in zip(range(40), rng.integers(0, 41, 40), strict=True)]
    data = np.vstack([base, np.array(near)])
    ids = np.arange(10, 10 + len(data)) * 3  # non-contiguous ids
    queries = [flip(base[i], int(rng.integers(0, 20)), rng) for i in range(40)]
    queries += [rng.integers(0, 256, 32, dtype=np.uint8) for _ in range(10)]
    return ids, data, queries


@pytest.mark.parametrize("name", IMPLS)
def test_protocol(name):
    assert isinstance(make_index(name), Index)


@pytest.mark.parametrize("name", IMPLS)
@pytest.mark.parametrize("radius", [0, 8, 31, 40, 130])
def test_matches_brute_force(name, radius, planted):
    ids, data, queries = planted
    idx = make_index(name)
    idx.add(ids[:1000], data[:1000])  # two batches: growth must keep earlier rows
    idx.add(ids[1000:].tolist(), [bytes(r).hex() for r in data[1000:]])
    assert len(idx) == len(ids)
    ref = {int(i): bytes(r) for i, r in zip(ids, data, strict=True)}
    for q in queries:
        assert idx.query(bytes(q).hex(), radius) == reference(ref, bytes(q), radius)


@pytest.mark.parametrize("name", IMPLS)
def test_remove_and_readd(name, planted):
    ids, data, queries = planted
    idx = make_index(name)
    idx.add(ids, data)
    ref = {int(i): bytes(r) for i, r in zip(ids, data, strict=True)}
    rng = np.random.default_rng(5)
    gone = rng.choice(ids, size=1500, replace=False)  # enough to trigger compaction
    for i in gone:
        assert idx.remove(int(i)) is True
        del ref[int(i)]
    assert idx.remove(int(gone[0])) is False
    assert len(idx) == len(ref)
    for q in queries:
        assert idx.query(bytes(q), 31) == reference(ref, bytes(q), 31)
    idx.add([int(gone[0])], [data[list(ids).index(gone[0])]])
    ref[int(gone[0])] = bytes(data[list(ids).index(gone[0])])
    assert idx.query(ref[int(gone[0])], 0)[0] == (int(gone[0]), 0)


@pytest.mark.parametrize("name", IMPLS)
def test_skewed_data_one_big_family(name):
    """6,000 near-copies of one image (a viral re-upload family): buckets are skewed, results still exact."""
    rng = np.random.default_rng(99)
    centre = rng.integers(0, 256, 32, dtype=np.uint8)
    data = np.array([flip(centre, int(d), rng) for d in rng.integers(0, 45, 6000)])
    idx = make_index(name)
    idx.add(np.arange(6000), data)
    ref = {i: bytes(r) for i, r in enumerate(data)}
    for q, many in ((centre, True), (flip(centre, 10, rng), True), (flip(centre, 40, rng), False)):
        got = idx.query(bytes(q), 31)
        assert got == reference(ref, bytes(q), 31) and (len(got) > 1000) is many


def test_mih_rebuilds_as_it_grows(planted, monkeypatch):
    """Rows added after a build are scanned until the tail is large, then the buckets are rebuilt."""
    from synthguard.fingerprint import index

    monkeypatch.setattr(index, "_TAIL", 100)
    ids, data, queries = planted
    idx = index.MIHIndex()
    ref = {}
    for start in range(0, len(ids), 250):
        idx.add(ids[start:start + 250], data[start:start + 250])
        ref.update({int(i): bytes(r) for i, r in zip(ids[start:start + 250], data[start:start + 250], strict=True)})
        assert idx._built >= len(ref) * 0.75  # never more than a quarter unindexed
        for q in queries[::10]:
            assert idx.query(bytes(q), 31) == reference(ref, bytes(q), 31)


@pytest.mark.parametrize("name", IMPLS)
def test_empty_and_bad_input(name):
    idx = make_index(name)
    assert len(idx) == 0
    assert idx.query("00" * 32, 31) == []
    with pytest.raises(ValueError, match="hex"):
        idx.add([1], ["zz" * 32])
    with pytest.raises(ValueError, match="32 bytes"):
        idx.add([1], ["ab" * 8])
    with pytest.raises(ValueError, match="ids for"):
        idx.add([1, 2], ["ab" * 32])
    with pytest.raises(ValueError, match="max_distance"):
        idx.query("00" * 32, -1)
    idx.add([7], ["ab" * 32])
    with pytest.raises(ValueError, match="already"):
        idx.add([7], ["cd" * 32])
    with pytest.raises(ValueError, match="unique"):
        idx.add([8, 8], ["cd" * 32, "ef" * 32])


def test_unknown_index_name():
    with pytest.raises(ValueError, match="unknown index"):
        make_index("annoy")


def test_bytes_matrix_roundtrip():
    m = to_bytes_matrix(["00" * 31 + "ff", bytes(range(32))])
    assert m.shape == (2, 32) and m[0, -1] == 255 and m[1, 5] == 5
    assert isinstance(FlatIndex(), Index)
