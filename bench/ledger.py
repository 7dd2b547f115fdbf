"""Ledger benchmark: append rates, proof generation + verification and full verification at 1,000,000 entries.

    .venv/bin/python bench/ledger.py [--size 1000000] [--db PATH]

Everything runs on a file SQLite database (default pysqlite settings: rollback journal, synchronous=FULL) in
one process and one thread.  Appends use realistic generation events (two SHA-256 hex fields and ids).
"single" calls Ledger.append once per event and commits every 1,000 events; "single, commit each" commits
every event; "batched" calls Ledger.append_many with 1,000 events per call and commit.  The 1M tree is built
with append_many in 10,000-event transactions (the same code path as production, not a bulk shortcut).
Proof timings are per proof: Ledger.inclusion_proof (3 SQL queries) + merkle.verify_inclusion.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from _machine import cpu_model  # bench/ is on sys.path when run
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from synthguard.ledger import Ledger
from synthguard.store.base import Base

RESULTS = Path(__file__).parent / "results" / "ledger.json"


def _event(i: int) -> tuple[str, dict[str, object]]:
    return "generation", {"content_id": f"c-{i}", "user": f"u-{i % 9973}", "model": "sdxl-1.0",
                          "input_sha256": f"{i:064x}", "output_sha256": f"{i * 7919:064x}"}



def _session(path: Path) -> Session:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return Session(engine)


def bench_appends(tmp: Path, ledger: Ledger) -> dict[str, float]:
    rates = {}
    with _session(tmp / "single.db") as s:
        n, t = 20_000, time.perf_counter()
        for i in range(n):
            ledger.append(s, *_event(i))
            if i % 1000 == 999:
                s.commit()
        s.commit()
        rates["append_single_commit_1000_per_s"] = n / (time.perf_counter() - t)
        n, t = 1_000, time.perf_counter()
        for i in range(n):
            ledger.append(s, *_event(i))
            s.commit()
        rates["append_single_commit_each_per_s"] = n / (time.perf_counter() - t)
    with _session(tmp / "batched.db") as s:
        n, t = 50_000, time.perf_counter()
        for start in range(0, n, 1000):
            ledger.append_many(s, [_event(i) for i in range(start, start + 1000)])
            s.commit()
        rates["append_many_1000_per_s"] = n / (time.perf_counter() - t)
    return rates


def bench_million(path: Path, size: int, ledger: Ledger) -> dict[str, float]:
    key = Ed25519PrivateKey.generate()
    out: dict[str, float] = {}
    with _session(path) as s:
        t = time.perf_counter()
        for start in range(0, size, 10_000):
            ledger.append_many(s, [_event(i) for i in range(start, min(size, start + 10_000))])
            s.commit()
        out["build_seconds"] = time.perf_counter() - t
        out["build_per_s"] = size / out["build_seconds"]
        ledger.checkpoint(s, key)
        s.commit()
        rng = random.Random(7)
        for i in rng.sample(range(size), 50):  # warm the statement cache and page cache
            ledger.inclusion_proof(s, i).verify()
        times = []
        for i in rng.sample(range(size), 2000):
            t = time.perf_counter()
            assert ledger.inclusion_proof(s, i).verify()
            times.append((time.perf_counter() - t) * 1000)
        out["inclusion_ms_mean"] = statistics.fmean(times)
        out["inclusion_ms_p50"] = statistics.median(times)
        out["inclusion_ms_p99"] = statistics.quantiles(times, n=100)[98]
        ctimes = []
        for old in rng.sample(range(1, size), 500):
            t = time.perf_counter()
            assert ledger.consistency_proof(s, old).verify()
            ctimes.append((time.perf_counter() - t) * 1000)
        out["consistency_ms_mean"] = statistics.fmean(ctimes)
        t = time.perf_counter()
        report = ledger.verify(s, key.public_key())
        out["verify_seconds"] = time.perf_counter() - t
        assert report.ok, report.summary()
    out["db_megabytes"] = path.stat().st_size / 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="where to build the big ledger (default: a temp dir)")
    args = parser.parse_args()
    ledger = Ledger()
    with tempfile.TemporaryDirectory() as tmp:
        appends = bench_appends(Path(tmp), ledger)
        big = bench_million(args.db or Path(tmp) / "big.db", args.size, ledger)
    result = {"machine": cpu_model(), "python": platform.python_version(), "sqlite": __import__("sqlite3").sqlite_version,
              "entries": args.size, **appends, **big}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        ("machine", result["machine"]),
        ("append, single, commit every 1,000", f"{appends['append_single_commit_1000_per_s']:,.0f} /s"),
        ("append, single, commit each", f"{appends['append_single_commit_each_per_s']:,.0f} /s"),
        ("append_many, 1,000 per commit", f"{appends['append_many_1000_per_s']:,.0f} /s"),
        (f"build {args.size:,} (append_many, 10k/commit)",
         f"{big['build_seconds']:.1f} s ({big['build_per_s']:,.0f} /s)"),
        (f"inclusion proof gen+verify @ {args.size:,}",
         f"mean {big['inclusion_ms_mean']:.3f} ms, p50 {big['inclusion_ms_p50']:.3f}, "
         f"p99 {big['inclusion_ms_p99']:.3f}"),
        (f"consistency proof gen+verify @ {args.size:,}", f"mean {big['consistency_ms_mean']:.3f} ms"),
        (f"full verify @ {args.size:,}", f"{big['verify_seconds']:.1f} s"),
        ("database size", f"{big['db_megabytes']:.0f} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
