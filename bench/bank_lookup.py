"""Hash-bank lookup benchmark: exact PDQ radius-31 queries at 1M and 10M hashes, per Index implementation.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bank_lookup.py [--sizes 1000000 10000000] [--queries 1000]
                                                            [--clustered] [--banks 200000]

Data: uniformly random 256-bit hashes (``--clustered``: 1% of them are centres and the rest lie 0..64 bits from
a centre, a stand-in for families of near-duplicate uploads).  Queries: half planted near-duplicates (a stored
hash with 0..31 random bits flipped), half random.  Every query asks for all entries within Hamming distance 31;
latency is wall-clock per single query (no batching), one thread (OpenMP/BLAS threads pinned to 1, faiss set to
1 thread).  All implementations must return identical results; the script checks that and that every planted
query finds its source.  ``--banks N`` also times Banks.query end to end (SQLite, N entries: index + SQL for the
change-feed check and the matched entries' reasons).  Results go to bench/results/bank_lookup.json
(bank_lookup_clustered.json with --clustered).
"""

from __future__ import annotations

import os

from _machine import cpu_model  # bench/ is on sys.path when run

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import functools
import gc
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from synthguard.fingerprint.index import INDEXES, faiss_available, make_index

RESULTS = Path(__file__).parent / "results" / "bank_lookup.json"  # bank_lookup_clustered.json with --clustered
RADIUS = 31



def flip_bits(rows: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copy of ``rows`` with ``counts[i]`` distinct random bits flipped in row i."""
    bits = np.unpackbits(rows, axis=1)
    keys = rng.random(bits.shape)
    order = np.argsort(keys, axis=1)
    mask = np.zeros(bits.shape, np.uint8)
    for i, c in enumerate(counts):
        mask[i, order[i, :c]] = 1
    return np.packbits(bits ^ mask, axis=1)


def make_data(n: int, clustered: bool, rng: np.random.Generator) -> np.ndarray:
    if not clustered:
        return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    centres = rng.integers(0, 256, size=(max(1, n // 100), 32), dtype=np.uint8)
    out = np.empty((n, 32), np.uint8)
    step = 1 << 18
    for s in range(0, n, step):
        m = min(n, s + step) - s
        pick = centres[rng.integers(0, len(centres), m)]
        noise = (rng.random((m, 256)) < rng.uniform(0, 0.25, (m, 1))).astype(np.uint8)  # 0..64 bits on average
        out[s:s + m] = np.packbits(np.unpackbits(pick, axis=1) ^ noise, axis=1)
    return out


def make_queries(data: np.ndarray, q: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    planted = rng.choice(len(data), size=q // 2, replace=False)
    near = flip_bits(data[planted], rng.integers(0, RADIUS + 1, len(planted)), rng)
    rand = rng.integers(0, 256, size=(q - len(planted), 32), dtype=np.uint8)
    return np.vstack([near, rand]), planted


def time_index(name: str, data: np.ndarray, queries: np.ndarray) -> tuple[dict[str, float], list]:
    idx = make_index(name)
    t = time.perf_counter()
    idx.add(np.arange(len(data), dtype=np.int64), data)
    build = time.perf_counter() - t
    for q in queries[:5]:  # warm caches and lazy allocations
        idx.query(q, RADIUS)
    lat, results = [], []
    for q in queries:
        t = time.perf_counter()
        r = idx.query(q, RADIUS)
        lat.append(time.perf_counter() - t)
        results.append(r)
    ms = np.array(lat) * 1e3
    del idx
    gc.collect()
    return {"build_s": round(build, 2), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3), "mean_ms": round(float(ms.mean()), 3),
            "max_ms": round(float(ms.max()), 3)}, results


def time_banks(n: int, rng: np.random.Generator) -> dict[str, float]:
    """Banks.query end to end on a SQLite bank of n entries (rows bulk-inserted; the bench is about lookups)."""
    from sqlalchemy import insert

    from synthguard.fingerprint.banks import Banks
    from synthguard.store import bank_repo
    from synthguard.store.bank_tables import HashBankEntry
    from synthguard.store.base import utcnow
    from synthguard.store.db import Database

    data = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        banks = Banks(db.unit_of_work, latest_change=functools.partial(bank_repo.latest_change, db))
        banks.create("removed-content")
        now = utcnow()
        with db.session() as s:
            for start in range(0, n, 50_000):
                s.execute(insert(HashBankEntry), [
                    {"bank_id": 1, "hash": bytes(r).hex(), "reason": "bench", "added_by": "bench", "created_at": now}
                    for r in data[start:start + 50_000]])
        t = time.perf_counter()
        banks.query("pdq", "00" * 32)
        load = time.perf_counter() - t
        queries, _ = make_queries(data, 1000, rng)
        lat = []
        for q in queries:
            h = bytes(q).hex()
            t = time.perf_counter()
            banks.query("pdq", h)
            lat.append(time.perf_counter() - t)
        db.dispose()
    ms = np.array(lat) * 1e3
    return {"entries": n, "load_s": round(load, 2), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--indexes", nargs="+", default=sorted(INDEXES))
    ap.add_argument("--clustered", action="store_true")
    ap.add_argument("--banks", type=int, default=200_000, help="entries for the end-to-end Banks row (0: skip)")
    ap.add_argument("--seed", type=int, default=20261122)
    args = ap.parse_args()
    names = [n for n in args.indexes if n != "faiss" or faiss_available()]
    rng = np.random.default_rng(args.seed)
    rows = []
    for n in args.sizes:
        data = make_data(n, args.clustered, rng)
        queries, planted = make_queries(data, args.queries, rng)
        reference = None
        for name in names:
            stats, results = time_index(name, data, queries)
            found = sum(int(p) in {i for i, _ in r} for p, r in zip(planted, results, strict=False))
            if reference is None:
                reference = results
            same = results == reference
            rows.append({"size": n, "index": name, **stats, "planted_found": f"{found}/{len(planted)}",
                         "same_as_first": same, "matches_per_query": round(sum(map(len, results)) / len(results), 2)})
            print(f"{n:>11,} {name:<7} p50 {stats['p50_ms']:8.3f} ms  p99 {stats['p99_ms']:8.3f} ms  "
                  f"build {stats['build_s']:6.2f} s  planted {found}/{len(planted)}  same {same}", flush=True)
        del data
        gc.collect()
    banks_row = time_banks(args.banks, rng) if args.banks else None
    import numpy

    out = {"machine": cpu_model(), "cores_used": 1, "python": platform.python_version(), "numpy": numpy.__version__,
           "faiss": _faiss_version(), "radius": RADIUS, "queries": args.queries, "clustered": args.clustered,
           "seed": args.seed, "rows": rows, "banks_end_to_end": banks_row,
           "command": "OMP_NUM_THREADS=1 .venv/bin/python bench/bank_lookup.py"
                      + (" --clustered" if args.clustered else "")}
    path = RESULTS.with_name("bank_lookup_clustered.json") if args.clustered else RESULTS
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\n{out['machine']}, 1 thread, radius {RADIUS}, {args.queries} queries (half planted)\n")
    print(f"| {'hashes':>11} | {'index':<7} | {'p50 ms':>8} | {'p99 ms':>8} | {'build s':>7} | planted found |")
    print(f"|{'-' * 13}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 9}|{'-' * 15}|")
    for r in rows:
        print(f"| {r['size']:>11,} | {r['index']:<7} | {r['p50_ms']:>8.3f} | {r['p99_ms']:>8.3f} | "
              f"{r['build_s']:>7.2f} | {r['planted_found']:>13} |")
    if banks_row:
        print(f"\nBanks.query end to end (SQLite, {banks_row['entries']:,} entries): p50 {banks_row['p50_ms']} ms, "
              f"p99 {banks_row['p99_ms']} ms; first-query index load {banks_row['load_s']} s")
    print(f"\nwrote {path}")


def _faiss_version() -> str | None:
    try:
        import faiss
    except ImportError:
        return None
    return str(faiss.__version__)


if __name__ == "__main__":
    main()
