"""RFC 6962 Merkle tree: reference vectors, an independent naive implementation, every proof for sizes 1..64."""

from __future__ import annotations

import hashlib

import pytest

from synthguard.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_plan,
    fold,
    inclusion_plan,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# Certificate Transparency reference test vectors (transparency-dev/merkle testonly, used by Trillian):
# the eight leaf inputs, and the tree head for each size 1..8.
CT_LEAVES = [bytes.fromhex(h) for h in
             ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {  # (leaf index, tree size) -> audit path
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CT_CONSISTENCY = {  # (old size, new size) -> proof
    (2, 8): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}


# --- an independent, naive transcription of RFC 6962 §2.1 (recursive, over raw entries) ------
def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: list[bytes]) -> bytes:
    if not d:
        return _sha(b"")
    if len(d) == 1:
        return _sha(b"\x00" + d[0])
    k = _k(len(d))
    return _sha(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:])]
    return naive_path(m - k, d[k:]) + [naive_mth(d[:k])]


def naive_proof(m: int, d: list[bytes]) -> list[bytes]:
    def sub(m: int, d: list[bytes], b: bool) -> list[bytes]:
        if m == len(d):
            return [] if b else [naive_mth(d)]
        k = _k(len(d))
        if m <= k:
            return sub(m, d[:k], b) + [naive_mth(d[k:])]
        return sub(m - k, d[k:], False) + [naive_mth(d[:k])]

    return sub(m, d, True) if 0 < m < len(d) else []


ENTRIES = [f"entry-{i}".encode() for i in range(64)]
TREE = MemoryTree(leaf_hash(e) for e in ENTRIES)


# --- vectors ----------------------------------------------------------------------------------
def test_empty_tree_hash() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MemoryTree([]).root() == EMPTY_ROOT == fold([])


def test_ct_reference_roots() -> None:
    tree = MemoryTree(leaf_hash(e) for e in CT_LEAVES)
    for size, want in enumerate(CT_ROOTS, start=1):
        assert tree.root(size).hex() == want
        assert naive_mth(CT_LEAVES[:size]).hex() == want  # the naive oracle agrees with the vectors too


def test_ct_reference_proofs() -> None:
    tree = MemoryTree(leaf_hash(e) for e in CT_LEAVES)
    for (index, size), want in CT_INCLUSION.items():
        path = tree.inclusion_proof(index, size)
        assert [p.hex() for p in path] == want
        assert verify_inclusion(leaf_hash(CT_LEAVES[index]), index, size, path, bytes.fromhex(CT_ROOTS[size - 1]))
    for (old, new), want in CT_CONSISTENCY.items():
        proof = tree.consistency_proof(old, new)
        assert [p.hex() for p in proof] == want
        roots = bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
        assert verify_consistency(old, new, *roots, proof)


def test_hash_prefixes() -> None:
    assert leaf_hash(b"") == _sha(b"\x00")
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == _sha(b"\x01" + a + b) != node_hash(b, a)


# --- every size, every index, against the naive oracle ------------------------------------------
@pytest.mark.parametrize("size", range(1, 65))
def test_roots_and_inclusion_all_indices(size: int) -> None:
    root = TREE.root(size)
    assert root == naive_mth(ENTRIES[:size])
    for index in range(size):
        path = TREE.inclusion_proof(index, size)
        assert path == naive_path(index, ENTRIES[:size])
        leaf = leaf_hash(ENTRIES[index])
        assert verify_inclusion(leaf, index, size, path, root)
        if size < 64:  # a proof for size n does not prove anything about the tree of size n + 1
            assert not verify_inclusion(leaf, index, size + 1, path, TREE.root(size + 1))
        assert not verify_inclusion(leaf_hash(b"forged"), index, size, path, root)
        if size > 1:
            assert not verify_inclusion(leaf, (index + 1) % size, size, path, root)  # wrong index
            assert not verify_inclusion(leaf, index, size, path[:-1], root)  # truncated path
            assert not verify_inclusion(leaf, index, size, [*path, bytes(32)], root)  # extended path
            bad = [bytes([path[0][0] ^ 1]) + path[0][1:], *path[1:]]
            assert not verify_inclusion(leaf, index, size, bad, root)


@pytest.mark.parametrize("new", range(1, 65))
def test_consistency_all_pairs(new: int) -> None:
    for old in range(0, new + 1):
        proof = TREE.consistency_proof(old, new)
        assert proof == naive_proof(old, ENTRIES[:new])
        old_root, new_root = TREE.root(old), TREE.root(new)
        assert verify_consistency(old, new, old_root, new_root, proof)
        if 0 < old < new:
            assert not verify_consistency(old, new, TREE.root(old - 1), new_root, proof)
            assert not verify_consistency(old, new, old_root, leaf_hash(b"x"), proof)
            assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
            assert not verify_consistency(old, new, old_root, new_root, [*proof, bytes(32)])


def test_degenerate_and_malformed_inputs_are_false_not_errors() -> None:
    root = TREE.root(8)
    path = TREE.inclusion_proof(3, 8)
    leaf = leaf_hash(ENTRIES[3])
    assert not verify_inclusion(leaf, 8, 8, path, root)
    assert not verify_inclusion(leaf, -1, 8, path, root)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf[:31], 3, 8, path, root)
    assert not verify_inclusion(leaf, 3, 8, ["not bytes"], root)  # type: ignore[list-item]
    assert verify_consistency(4, 4, TREE.root(4), TREE.root(4), [])
    assert not verify_consistency(4, 4, TREE.root(4), TREE.root(5), [])
    assert not verify_consistency(4, 4, TREE.root(4), TREE.root(4), [bytes(32)])
    assert verify_consistency(0, 8, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, root, [bytes(32)])
    assert not verify_consistency(8, 4, root, TREE.root(4), [])
    assert not verify_consistency(6, 8, TREE.root(6), root, [])


def test_plans_reject_impossible_requests() -> None:
    with pytest.raises(ValueError):
        inclusion_plan(8, 8)
    with pytest.raises(ValueError):
        consistency_plan(9, 8)
    with pytest.raises(ValueError):
        TREE.root(65)
