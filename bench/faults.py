"""Fault run: sustained uploads to the HTTP service while worker processes are SIGKILLed and Postgres is restarted,
then the audit — every accepted upload has exactly one completed scan and one ledger entry; `ledger verify` passes.

Not run by CI (it restarts the local Postgres cluster: root and loopback only).  Usage, from the project root:

    .venv/bin/python bench/faults.py                       # 60 s of load, 4 clients, 2 workers
    .venv/bin/python bench/faults.py --seconds 20 --no-db-restart

Pieces: `synthguard serve` (uvicorn on 127.0.0.1), `synthguard worker --concurrency 2` (the supervisor restarts
killed workers), client threads POSTing /v1/jobs/scan with an Idempotency-Key each and retrying the SAME key on
a connection error or 5xx (what a real client does; "accepted" = keys that got 202/200), a killer thread
(SIGKILL a worker every few seconds) and, half-way, `pg_ctlcluster ... restart`.  Writes bench/results/faults.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
from _machine import cpu_model  # noqa: E402  (bench/ is on sys.path when run)
from PIL import Image
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def png(i: int) -> bytes:
    rng = np.random.default_rng(i)
    img = rng.integers(0, 255, (64 + i % 32, 96, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img, "RGB").save(buf, "PNG")
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _json_or_text(out: str | None) -> object:
    try:
        return json.loads(out or "null")
    except ValueError:
        return (out or "")[-500:]


def restart_postgres() -> float:
    cluster = sorted(os.listdir("/etc/postgresql"))[-1]
    t0 = time.perf_counter()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True,
                   capture_output=True)
    return time.perf_counter() - t0


class Client(threading.Thread):
    def __init__(self, base: str, token: str, stop: threading.Event, seed: int):
        super().__init__(daemon=True)
        self.base, self.token, self.stop, self.seed = base, token, stop, seed
        self.accepted: dict[str, str] = {}  # idempotency key -> job id
        self.retries = self.errors_5xx = self.conn_errors = 0

    def run(self) -> None:
        i = 0
        with httpx.Client(base_url=self.base, timeout=30) as http:
            while not self.stop.is_set():
                key, body = str(uuid.uuid4()), png(self.seed * 1_000_000 + i)
                i += 1
                for attempt in range(60):  # the same key until the service accepts it
                    try:
                        r = http.post("/v1/jobs/scan", files={"file": ("u.png", body, "image/png")},
                                      headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": key})
                    except httpx.TransportError:
                        self.conn_errors += 1
                        r = None
                    if r is not None and r.status_code in (200, 202):
                        self.accepted[key] = r.json()["id"]
                        break
                    if r is not None and r.status_code < 500:
                        raise SystemExit(f"unexpected {r.status_code}: {r.text}")
                    self.errors_5xx += r is not None
                    self.retries += 1
                    time.sleep(min(2.0, 0.1 * 2 ** attempt))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=os.environ.get("SYNTHGUARD_TEST_POSTGRES_URL", DEFAULT_URL))
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kill-every", type=float, default=5.0)
    ap.add_argument("--no-db-restart", action="store_true")
    args = ap.parse_args()

    from synthguard.auth import Role, create_token
    from synthguard.config import Settings
    from synthguard.core import SynthGuard
    from synthguard.keys import init_keys
    from synthguard.store.job_tables import Job

    schema = f"sg_bench_faults_{os.getpid()}"
    admin = create_engine(args.url, pool_pre_ping=True)  # its pooled connection dies with the restart
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in args.url else "?"
    url = f"{args.url}{sep}options=-csearch_path%3D{schema}"
    tmp = tempfile.mkdtemp(prefix="sg-bench-faults-")
    env = dict(os.environ) | {"SYNTHGUARD_HOME": tmp, "SYNTHGUARD_DATABASE_URL": url, "SYNTHGUARD_JOBS_INLINE": "false",
                              "SYNTHGUARD_JOB_LEASE_SECONDS": "10", "SYNTHGUARD_JOB_BACKOFF_SECONDS": "0.5",
                              "SYNTHGUARD_JOB_MAX_ATTEMPTS": "10", "SYNTHGUARD_RATE_LIMIT_PER_MINUTE": "0",
                              "OMP_NUM_THREADS": "1"}
    settings = Settings.load(home=Path(tmp), database_url=url)
    init_keys(settings)
    with SynthGuard.open(settings) as sg:
        token, _ = create_token(sg.db, Role.PLATFORM, "acme", "fault run")
    port = free_port()
    py = [sys.executable, "-m", "synthguard"]
    server = subprocess.Popen(py + ["serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    sup = subprocess.Popen(py + ["worker", "--concurrency", str(args.workers), "--json"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/docs", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    stop = threading.Event()
    clients = [Client(base, token, stop, i) for i in range(args.clients)]
    kills, db_restart = 0, None
    t0 = time.perf_counter()
    for c in clients:
        c.start()
    try:
        while time.perf_counter() - t0 < args.seconds:
            time.sleep(args.kill_every)
            kids = children(sup.pid)
            if kids:
                os.kill(random.choice(kids), signal.SIGKILL)
                kills += 1
            if db_restart is None and not args.no_db_restart and time.perf_counter() - t0 > args.seconds / 2:
                db_restart = round(restart_postgres(), 2)
                print(f"postgres restarted ({db_restart} s)")
        stop.set()
        for c in clients:
            c.join(timeout=120)
        load_secs = time.perf_counter() - t0
        accepted = {k: v for c in clients for k, v in c.accepted.items()}
        with SynthGuard.open(settings) as sg:  # drain: wait for the workers to finish every accepted job
            deadline = time.perf_counter() + 600
            while sg.jobs.queue.pending() and time.perf_counter() < deadline:
                time.sleep(1)
            drain_secs = time.perf_counter() - t0 - load_secs
            report = sg.jobs.audit()
            with sg.db.session() as s:
                rows = {j.id: j for j in s.scalars(select(Job).where(Job.id.in_(list(accepted.values()))))}
                lat = sorted((j.finished_at - j.created_at).total_seconds() for j in rows.values() if j.finished_at)
                attempts = sum(j.attempts for j in rows.values())
    finally:
        sup.send_signal(signal.SIGTERM)
        server.send_signal(signal.SIGTERM)
        out, _ = sup.communicate(timeout=120)
        server.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    missing = [j for j in accepted.values() if j not in rows or rows[j].state != "done"]
    result = {
        "benchmark": "fault run (HTTP uploads + SIGKILLed workers + Postgres restart)",
        "seconds_of_load": round(load_secs, 1), "drain_seconds": round(drain_secs, 1), "clients": args.clients,
        "workers": args.workers, "worker_kills": kills, "postgres_restart_seconds": db_restart,
        "accepted": len(accepted), "scanned": report["scanned"], "lost": len(missing) + report["lost"],
        "duplicated": report["duplicated"], "dead": report["dead"], "ledger_ok": report["ledger_ok"],
        "audit": report, "attempts_total": attempts,
        "client_retries": sum(c.retries for c in clients), "client_5xx": sum(c.errors_5xx for c in clients),
        "client_connection_errors": sum(c.conn_errors for c in clients),
        "accepted_per_s": round(len(accepted) / load_secs, 1),
        "latency_ms": {"p50": round(lat[len(lat) // 2] * 1e3), "p99": round(lat[int(len(lat) * .99)] * 1e3),
                       "max": round(lat[-1] * 1e3)} if lat else None,
        "supervisor": _json_or_text(out),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_end": os.getloadavg()},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "faults.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()
    print(json.dumps({k: result[k] for k in ("accepted", "scanned", "lost", "duplicated", "dead", "ledger_ok",
                                              "worker_kills", "postgres_restart_seconds", "accepted_per_s",
                                              "latency_ms")}, indent=2))
    print(f"wrote {OUT / 'faults.json'}")
    if result["lost"] or result["duplicated"] or not result["ledger_ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
