"""Benchmark the job queue on Postgres: enqueue rate, drain throughput with 1/2/4 workers, and end-to-end latency
(enqueue -> completion committed) at a steady offered load.  (Not named queue.py: bench/ is on sys.path when a
benchmark runs, and a queue.py there would shadow the standard library's ``queue`` for every benchmark.)

Not run by CI.  Usage (from the project root; a throwaway schema is created and dropped):

    .venv/bin/python bench/job_queue.py                                   # postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/job_queue.py --url postgresql+psycopg://... --jobs 1000 --rate 50 --seconds 10

Each job does what a scan job does minus the scan itself: claim (FOR UPDATE SKIP LOCKED), then ONE transaction
with a ledger append and the fenced completion.  So the figures are the queue's own overhead per job; add the
scan time (bench/scan.py, bench/batch.py) for real jobs.  Writes bench/results/queue.json.
"""

from __future__ import annotations

from _machine import cpu_model, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def ledger_noop(ctx, lease) -> dict:
    with ctx.units() as uow:
        entry = ctx.ledger.append(uow.session, "scan", {"sha256": "0" * 64, "verdict": "none", "job": lease.id})
        ctx.queue.complete(uow, lease, {"ok": True}, ledger_index=entry.index)
    return {"ok": True}


def work(settings, index: int, total: int) -> None:  # a worker process: runs until ``total`` jobs are done
    from synthguard.core import SynthGuard

    with SynthGuard.open(settings) as sg:
        w = sg.jobs.worker(name=f"bench-{index}", handlers={"noop": ledger_noop})
        while True:
            if w.run_one() is None:
                if sg.jobs.queue.stats()["done"] >= total:
                    return
                time.sleep(0.005)


def idle_worker(settings, total: int, notify: bool) -> None:
    """The real `synthguard worker` loop (default 0.5-s poll), with or without LISTEN/NOTIFY wake-ups."""
    from synthguard.core import SynthGuard
    from synthguard.jobs import worker

    if not notify:  # the poll alone, as before LISTEN/NOTIFY
        worker.Wakeup.wait = lambda self, timeout: self.stop.wait(timeout)
    with SynthGuard.open(settings) as sg:
        sg.jobs.worker(name="bench-idle", handlers={"noop": ledger_noop}).run(max_jobs=total)


def pickup(admin, schema: str, settings, notify: bool, rate: float, seconds: float) -> dict:
    """Enqueue->done latency at a low offered rate: the worker is idle between jobs, so pickup dominates."""
    from synthguard.core import SynthGuard

    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    total = int(rate * seconds)
    with SynthGuard.open(settings) as sg:
        proc = mp.get_context("fork").Process(target=idle_worker, args=(settings, total, notify))
        sg.db.dispose()
        proc.start()
        time.sleep(2.0)  # the worker is up and idle
        t0 = time.perf_counter()
        for i in range(total):
            wait = t0 + i / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sg.jobs.queue.enqueue("noop", {"n": i})
        proc.join()
        lat = latencies(sg)
    return {"notify": notify, "offered_per_s": rate, "jobs": len(lat), "p50_ms": round(pct(lat, .5) * 1e3, 1),
            "p99_ms": round(pct(lat, .99) * 1e3, 1), "mean_ms": round(statistics.fmean(lat) * 1e3, 1)}


def run_workers(settings, n: int, total: int) -> list:
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=work, args=(settings, i, total)) for i in range(n)]
    for p in procs:
        p.start()
    return procs


def latencies(sg) -> list[float]:
    from synthguard.store.job_tables import Job

    with sg.db.session() as s:
        rows = s.execute(select(Job.created_at, Job.finished_at).where(Job.state == "done")).all()
    return sorted((f - c).total_seconds() for c, f in rows)


def pct(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=os.environ.get("SYNTHGUARD_TEST_POSTGRES_URL", DEFAULT_URL))
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--rate", type=float, default=100.0, help="offered load for the latency run, jobs/s")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--idle-rate", type=float, default=2.0, help="offered load for the idle-pickup run, jobs/s")
    args = ap.parse_args()

    from synthguard.config import Settings
    from synthguard.core import SynthGuard
    from synthguard.keys import init_keys

    schema = f"sg_bench_queue_{os.getpid()}"
    admin = create_engine(args.url)
    sep = "&" if "?" in args.url else "?"
    url = f"{args.url}{sep}options=-csearch_path%3D{schema}"
    drains, latency = [], {}
    with tempfile.TemporaryDirectory(prefix="sg-bench-queue-") as tmp:
        base = Settings.load(home=Path(tmp), jobs_inline=False)
        init_keys(base)
        for n in [int(x) for x in args.workers.split(",")]:
            with admin.begin() as c:
                c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                c.execute(text(f"CREATE SCHEMA {schema}"))
            settings = base.model_copy(update={"database_url": url})
            with SynthGuard.open(settings) as sg:
                t0 = time.perf_counter()
                for i in range(args.jobs):
                    sg.jobs.queue.enqueue("noop", {"n": i})
                enqueue_rate = args.jobs / (time.perf_counter() - t0)
                sg.db.dispose()
                t0 = time.perf_counter()
                for p in run_workers(settings, n, args.jobs):
                    p.join()
                secs = time.perf_counter() - t0
                done = sg.jobs.queue.stats()["done"]
                assert done == args.jobs, sg.jobs.queue.stats()
                assert sg.verify_ledger()["ok"]
            drains.append({"workers": n, "jobs": args.jobs, "seconds": round(secs, 2),
                           "jobs_per_s": round(args.jobs / secs, 1), "enqueue_per_s": round(enqueue_rate, 1)})
            print(f"drain x{n}: {args.jobs / secs:7.1f} jobs/s   (enqueue {enqueue_rate:.0f}/s, one producer)")
        # steady offered load: latency from enqueue to committed completion
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            c.execute(text(f"CREATE SCHEMA {schema}"))
        settings = base.model_copy(update={"database_url": url})
        with SynthGuard.open(settings) as sg:
            sg.db.dispose()
            total = int(args.rate * args.seconds)
            procs = []
            t0 = time.perf_counter()
            for i in range(total):
                wait = t0 + i / args.rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                sg.jobs.queue.enqueue("noop", {"n": i})
                if i == 0:
                    procs = run_workers(settings, 2, total)
            for p in procs:
                p.join()
            lat = latencies(sg)
        latency = {"workers": 2, "offered_per_s": args.rate, "jobs": len(lat), "p50_ms": round(pct(lat, .5) * 1e3, 1),
                   "p99_ms": round(pct(lat, .99) * 1e3, 1), "max_ms": round(lat[-1] * 1e3, 1),
                   "mean_ms": round(statistics.fmean(lat) * 1e3, 1)}
        print(f"latency at {args.rate:.0f} jobs/s, 2 workers: p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms")
        idle = [pickup(admin, schema, settings, notify, args.idle_rate, args.seconds) for notify in (False, True)]
        for row in idle:
            print(f"idle pickup at {args.idle_rate:.0f} jobs/s, worker loop (0.5-s poll), notify={row['notify']}: "
                  f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms")
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()
    result = {"benchmark": "job queue on Postgres", "drain": drains, "latency": latency, "idle_pickup": idle,
              "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                          "load_average_at_end": os.getloadavg()}}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "queue.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT / 'queue.json'}")


if __name__ == "__main__":
    main()
