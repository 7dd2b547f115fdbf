"""Benchmark the HTTP service: scan requests/s and latency under upload traffic, and queue operations/s.

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/service.py                       # realistic mix, cache off then on, 2 workers
    .venv/bin/python bench/service.py --mix kodak --cache off  # the earlier run: 24 Kodak JPEGs round-robin
    SYNTHGUARD_SCAN_WATERMARK_SEARCH=priors .venv/bin/python bench/service.py --seconds 30

Starts ``uvicorn`` on 127.0.0.1 with ``--workers N`` (SQLite in a temporary home), once per cache setting
(``SYNTHGUARD_SCAN_CACHE`` off, then on), then:
1. open loop: ``POST /v1/scan`` at a fixed rate, latency measured from the scheduled send time (so a slow server
   cannot hide queueing).  ``--mix realistic`` (issue 28) is traffic like a platform's: uploads drawn from a
   catalogue of images (Kodak crops and re-encodes) with Zipf-distributed popularity (exponent ``--zipf``,
   about 1.1), a share of them labeled by a provider (watermark + AIGC metadata), and every ``--burst-every``
   seconds a burst of ``--burst`` uploads of one new viral file within a second; the catalogue is uploaded once
   before measuring, and the job workers finish its deep scans, as in a platform's steady state (``--no-warm``
   measures from a cold cache).  Reported: p50/p99 from the
   client, and the service's own time for repeats (``Server-Timing`` of cache hits);
2. closed loop: as fast as 4 concurrent clients go (same mix, no bursts) -> sustained scan requests/s;
3. queue operations: complaints filed (``POST /v1/complaints``) and claim + decide cycles per second.
Every response must be 200 (a scan of a valid image never fails): the bench exits 1 on any other status and 2
when requests got no answer (timeouts, dropped connections).  ``--scan-processes`` (uncached scans in child
processes) and ``--job-workers`` (deep scans in ``synthguard worker`` processes) default to 1; the workers run
with ``--nice 10`` (``--worker-nice``): the deep scans are background work and yield the cores to the uploads.
Math libraries are pinned to one thread per worker.  Writes bench/results/service[_<search>][_<mix>].json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from _machine import THREAD_VARS, cpu_model  # noqa: E402  (bench/ is on sys.path when run)
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT / "tests" / "data" / "kodak"
OUT = ROOT / "bench" / "results" / "service.json"
TIMING = re.compile(r"scan;dur=([0-9.]+).*cache;desc=(\w+)")
STAGE = re.compile(r"(\w+);dur=([0-9.]+)")


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    labeled: bool = False


@dataclass
class Tally:
    """Latencies from the client, the service's own scan time per cache outcome, and unexpected answers."""

    lat: list[float]
    service: dict[str, list[float]]
    unexpected: dict[str, int]
    stages: dict[str, list[float]]
    slow_hits: list[tuple[float, str]]

    @classmethod
    def new(cls) -> Tally:
        return cls([], {}, {}, {}, [])

    def add(self, latency: float, status: int | str, timing: str | None, name: str = "") -> None:
        self.lat.append(latency)
        if status != 200:  # an HTTP status, or the name of a transport error (ReadTimeout ...)
            self.unexpected[str(status)] = self.unexpected.get(str(status), 0) + 1
        m = TIMING.search(timing or "")
        if m:
            self.service.setdefault(m.group(2), []).append(float(m.group(1)) / 1000)
            if m.group(2) == "hit":  # where a repeat's time goes: upload read, bank match, actions, ledger ...
                self.slow_hits = sorted([*self.slow_hits, (float(m.group(1)), f"{name}: {timing}")], reverse=True)[:10]
                for name, dur in STAGE.findall(timing or ""):
                    if name != "scan":  # "cache": the lookup of the cached analysis
                        self.stages.setdefault(name, []).append(float(dur) / 1000)

    def summary(self) -> dict:
        http = sum(n for k, n in self.unexpected.items() if k.isdigit())
        out = {"requests": len(self.lat), "unexpected": dict(self.unexpected), "errors": http,
               "transport_errors": sum(self.unexpected.values()) - http,
               "p50_ms": pct(self.lat, .5), "p90_ms": pct(self.lat, .9), "p99_ms": pct(self.lat, .99),
               "max_ms": pct(self.lat, 1.0)}
        for outcome, v in sorted(self.service.items()):
            out[f"service_{outcome}"] = {"n": len(v), "p50_ms": pct(v, .5), "p99_ms": pct(v, .99)}
        if self.stages:
            out["service_hit_stages"] = {k: {"p50_ms": pct(v, .5), "p99_ms": pct(v, .99), "max_ms": pct(v, 1.0)}
                                         for k, v in sorted(self.stages.items())}
            out["slowest_hits"] = [t for _, t in self.slow_hits]  # the tail, stage by stage
        return out


def make_app():  # uvicorn --factory entry point (each worker builds its own app from the environment)
    from synthguard.config import Settings
    from synthguard.server import create_app

    return create_app(Settings.load(), serving=True)  # as `synthguard serve` does


def jpegs() -> list[bytes]:
    out = []
    for p in sorted(KODAK.glob("kodim*.png"))[:24]:
        buf = io.BytesIO()
        Image.open(p).convert("RGB").save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    if not out:
        sys.exit(f"no Kodak images in {KODAK}")
    return out


def variant(k: int, tag: str = "c") -> Upload:
    """Catalogue item ``k``: a Kodak image cropped at a k-dependent offset, JPEG q 85..94 (distinct bytes)."""
    paths = sorted(KODAK.glob("kodim*.png"))[:24]
    img = Image.open(paths[k % len(paths)]).convert("RGB")
    dx, dy = (k // len(paths)) * 7 % 64, (k // len(paths)) * 13 % 48
    img = img.crop((dx, dy, img.width - 64 + dx, img.height - 48 + dy))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85 + k % 10)
    return Upload(f"{tag}{k}.jpg", buf.getvalue())


def catalogue(sg, n: int, labeled_share: float, tmp: Path) -> list[Upload]:
    """``n`` distinct images; the first ``labeled_share`` of them labeled by a provider (as generated content
    reaches a platform: watermark + AIGC metadata, no C2PA).  Zipf rank 1 is a labeled one when any is."""
    items = [variant(k) for k in range(n)]
    labeled = int(round(n * labeled_share))
    if labeled:
        sg.add_user("bench-u")
        sg.verify_user("bench-u", "mobile", identifier="+86 138 0013 8000")
    for k in range(labeled):
        out = tmp / f"l{k}.jpg"
        sg.label(items[k].data, user="bench-u", producer="BENCH", output=out, c2pa=False, visible=False)
        items[k] = Upload(f"l{k}.jpg", out.read_bytes(), labeled=True)
    rng = random.Random(7)
    rng.shuffle(items)  # popularity does not follow the labeled/unlabeled split
    return items


def zipf_sampler(n: int, exponent: float, rng: random.Random):
    weights = [1 / (r ** exponent) for r in range(1, n + 1)]
    return lambda: rng.choices(range(n), weights=weights)[0]


def schedule(items: list[Upload], rate: float, seconds: float, exponent: float, burst: int, burst_every: float,
             seed: int, viral_from: int) -> list[tuple[float, Upload]]:
    """(send offset in s, upload): ``rate``/s from the Zipf mix, plus a burst of one new viral file every
    ``burst_every`` s (``burst`` uploads within one second)."""
    rng = random.Random(seed)
    pick = zipf_sampler(len(items), exponent, rng)
    plan = [(i / rate, items[pick()]) for i in range(int(rate * seconds))]
    t, v = burst_every / 2, viral_from
    while burst and t < seconds:
        viral = variant(v, "v")
        plan += [(t + j / burst, viral) for j in range(burst)]
        t, v = t + burst_every, v + 1
    return sorted(plan, key=lambda x: x[0])


def pct(v: list[float], q: float) -> float:
    s = sorted(v)
    return round(s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))] * 1000, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """``uvicorn --workers N`` and, with ``job_workers``, ``synthguard worker`` processes beside it (the deep
    scans then run there, as in a deployment, instead of in the request processes)."""

    def __init__(self, home: Path, workers: int, extra_env: dict[str, str], job_workers: int = 0,
                 worker_nice: int = 0):
        env = os.environ | {"SYNTHGUARD_HOME": str(home)} | {v: "1" for v in THREAD_VARS} | extra_env
        env.setdefault("SYNTHGUARD_RATE_LIMIT_PER_MINUTE", "1000000")  # the bench is one token: measure the service
        if job_workers:
            env["SYNTHGUARD_JOBS_INLINE"] = "false"
        port = free_port()
        self.procs = [subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "service:make_app",
                                        "--app-dir", str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port),
                                        "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
                                       env=env)]
        if job_workers:
            self.procs.append(subprocess.Popen([sys.executable, "-m", "synthguard", "worker", "--concurrency",
                                                str(job_workers), "--nice", str(worker_nice)],
                                               env=env, stdout=subprocess.DEVNULL))
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        sys.exit("the service did not start")

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=60)


def drain(home: Path, timeout: float = 900.0) -> float:
    """Wait until the job workers have no queued or running job (the catalogue's deep scans); seconds waited."""
    from synthguard.config import Settings
    from synthguard.core import SynthGuard

    t0 = time.perf_counter()
    with SynthGuard.open(Settings.load(home=home)) as sg:
        while sg.jobs.queue.pending():
            if time.perf_counter() - t0 > timeout:
                sys.exit("the job workers did not finish the warm-up's deep scans")
            time.sleep(0.5)
    return round(time.perf_counter() - t0, 1)


def open_loop(url: str, token: str, plan: list[tuple[float, Upload]], rate: float) -> dict:
    tally, lock = Tally.new(), threading.Lock()
    client = httpx.Client(base_url=url, timeout=30, limits=httpx.Limits(max_connections=64))
    t0 = time.perf_counter() + 0.2

    def one(job: tuple[float, Upload]) -> None:
        offset, up = job
        due = t0 + offset
        time.sleep(max(0.0, due - time.perf_counter()))
        try:
            r = client.post("/v1/scan", headers={"Authorization": f"Bearer {token}"},
                            files={"file": (up.name, up.data, "image/jpeg")})
            status, timing = r.status_code, r.headers.get("server-timing")
        except httpx.HTTPError as exc:  # a timeout counts as an error, with its latency
            status, timing = type(exc).__name__, None
        with lock:
            tally.add(time.perf_counter() - due, status, timing, up.name)

    with ThreadPoolExecutor(64) as pool:
        list(pool.map(one, plan))
    took = time.perf_counter() - t0
    return {"rate_offered": rate, "achieved_rps": round(len(plan) / took, 1)} | tally.summary()


def closed_loop(url: str, token: str, items: list[Upload], seconds: float, exponent: float,
                concurrency: int = 4) -> dict:
    tally, lock = Tally.new(), threading.Lock()
    stop = time.perf_counter() + seconds
    client = httpx.Client(base_url=url, timeout=30)

    def worker(k: int) -> None:
        pick = zipf_sampler(len(items), exponent, random.Random(100 + k))
        while time.perf_counter() < stop:
            up = items[pick()]
            t = time.perf_counter()
            try:
                r = client.post("/v1/scan", headers={"Authorization": f"Bearer {token}"},
                                files={"file": (up.name, up.data, "image/jpeg")})
                status, timing = r.status_code, r.headers.get("server-timing")
            except httpx.HTTPError as exc:
                status, timing = type(exc).__name__, None
            with lock:
                tally.add(time.perf_counter() - t, status, timing, up.name)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    took = time.perf_counter() - t0
    return {"concurrency": concurrency, "rps": round(len(tally.lat) / took, 1)} | tally.summary()


def queue_ops(url: str, reviewer: str, n: int) -> dict:
    client = httpx.Client(base_url=url, timeout=30)
    body = {"tenant": "bench", "kind": "unlabeled_ai", "location": "post-x"}
    t0 = time.perf_counter()
    for _ in range(n):
        client.post("/v1/complaints", json=body).raise_for_status()
    filed = time.perf_counter() - t0
    h = {"Authorization": f"Bearer {reviewer}"}

    def cycle(_: int) -> int:
        c = client.post("/v1/moderation/claim", headers=h)
        if c.status_code == 204:
            return 0
        client.post(f"/v1/moderation/cases/{c.json()['id']}/actions", headers=h,
                    json={"action": "dismiss", "reason_code": "not_infringing"}).raise_for_status()
        return 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        done = sum(pool.map(cycle, range(n)))
    decided = time.perf_counter() - t0
    return {"complaints": n, "complaints_per_s": round(n / filed, 1), "claim_decide_cycles": done,
            "cycles_per_s": round(done / decided, 1), "queue_ops_per_s": round(2 * done / decided, 1)}


def run_service(home: Path, args, items: list[Upload], platform_tok: str, reviewer: str, cache: str) -> dict:
    """One server (``--workers`` processes) with the cache on or off: open loops, closed loop, queue."""
    svc = Service(home, args.workers, {"SYNTHGUARD_SCAN_CACHE": "true" if cache == "on" else "false",
                                       "SYNTHGUARD_SCAN_PROCESSES": str(args.scan_processes)}, args.job_workers,
                  args.worker_nice)
    url = svc.url
    try:
        for up in items[:4]:  # warm both workers (imports, detector set-up)
            for _ in range(args.workers):
                httpx.post(f"{url}/v1/scan", headers={"Authorization": f"Bearer {platform_tok}"},
                           files={"file": ("w.jpg", up.data, "image/jpeg")}, timeout=60)
        warm = None
        if args.warm and args.mix == "realistic" and cache == "on":  # steady state: the catalogue was seen before
            t0 = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda up: httpx.post(f"{url}/v1/scan", files={"file": (up.name, up.data, "image/jpeg")},
                                                    headers={"Authorization": f"Bearer {platform_tok}"}, timeout=300),
                              items))
            warm = {"uploads": len(items), "seconds": round(time.perf_counter() - t0, 1)}
            if args.job_workers:  # seen before means deep-scanned before too: the workers finish the backlog
                warm["deep_scans_drained_s"] = drain(home)
        runs = []
        for i, r in enumerate(float(x) for x in args.rates.split(",")):
            if args.mix == "kodak":
                plan = [(j / r, items[j % len(items)]) for j in range(int(r * args.seconds))]
            else:
                plan = schedule(items, r, args.seconds, args.zipf, args.burst, args.burst_every, seed=i,
                                viral_from=10_000 + 100 * i + (1000 if cache == "on" else 0))
            runs.append(open_loop(url, platform_tok, plan, r))
        sat = closed_loop(url, platform_tok, items, args.saturate_seconds,
                          args.zipf if args.mix == "realistic" else 0.0)
        q = queue_ops(url, reviewer, args.queue) if args.queue else None
    finally:
        svc.stop()
    return {"cache": cache, "warm_up": warm, "open_loop": runs, "saturation": sat, "queue": q}


def report(res: dict, seconds: float) -> None:
    print(f"--- scan cache {res['cache']}" + (f" (warmed with the catalogue: {res['warm_up']['uploads']} uploads in "
                                              f"{res['warm_up']['seconds']} s)" if res["warm_up"] else ""))
    for r in res["open_loop"]:
        hits = r.get("service_hit")
        print(f"open loop at {r['rate_offered']}/s for {seconds:.0f}s: {r['requests']} requests, achieved "
              f"{r['achieved_rps']}/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, unexpected {r['unexpected']}"
              + (f"; repeats in the service: p50 {hits['p50_ms']} ms, p99 {hits['p99_ms']} ms (n={hits['n']})"
                 if hits else "")
              + (f"; burst followers (waited for the first scan): p99 {r['service_shared']['p99_ms']} ms "
                 f"(n={r['service_shared']['n']})" if r.get("service_shared") else ""))
    sat = res["saturation"]
    hits = sat.get("service_hit")
    print(f"closed loop ({sat['concurrency']} clients): {sat['rps']} req/s, p50 {sat['p50_ms']} ms, "
          f"p99 {sat['p99_ms']} ms, unexpected {sat['unexpected']}"
          + (f"; repeats in the service: p50 {hits['p50_ms']} ms, p99 {hits['p99_ms']} ms (n={hits['n']})"
             if hits else ""))
    if res["queue"]:
        q = res["queue"]
        print(f"queue: {q['complaints_per_s']} complaints/s; {q['cycles_per_s']} claim+decide cycles/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mix", choices=("realistic", "kodak"), default="realistic")
    ap.add_argument("--cache", choices=("both", "on", "off"), default="both")
    ap.add_argument("--rates", default="20", help="Offered scan rates (req/s), comma-separated.")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--saturate-seconds", type=float, default=15.0)
    ap.add_argument("--queue", type=int, default=0, help="Complaints for the queue benchmark (0: skip it).")
    ap.add_argument("--catalogue", type=int, default=200, help="Distinct images in the realistic mix.")
    ap.add_argument("--labeled", type=float, default=0.2, help="Share of the catalogue labeled by a provider.")
    ap.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent of the popularity of images.")
    ap.add_argument("--burst", type=int, default=20, help="Uploads of one new viral file per burst (0: none).")
    ap.add_argument("--burst-every", type=float, default=10.0, help="Seconds between viral bursts.")
    ap.add_argument("--warm", action=argparse.BooleanOptionalAction, default=True,
                    help="Upload the catalogue once before measuring (a platform's steady state; viral files stay new).")
    ap.add_argument("--scan-processes", type=int, default=1,
                    help="SYNTHGUARD_SCAN_PROCESSES: child processes per server process for uncached scans.")
    ap.add_argument("--job-workers", type=int, default=1,
                    help="`synthguard worker` processes for the deep scans (0: in the server processes).")
    ap.add_argument("--worker-nice", type=int, default=10,
                    help="`synthguard worker --nice`: deep scans are background work (0: same priority as uploads).")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sg-bench-service-") as tmp:
        home = Path(tmp)
        os.environ["SYNTHGUARD_HOME"] = str(home)
        from synthguard.auth import Role, create_token
        from synthguard.config import Settings
        from synthguard.core import SynthGuard
        from synthguard.keys import init_keys

        settings = Settings.load(home=home, scan_cache=False)
        init_keys(settings)
        with SynthGuard.open(settings) as sg:  # migrate once before the workers start
            platform_tok = create_token(sg.db, Role.PLATFORM, "bench")[0]
            reviewer = create_token(sg.db, Role.REVIEWER, "bench")[0]
            if args.mix == "kodak":
                items = [Upload(f"k{i}.jpg", d) for i, d in enumerate(jpegs())]
            else:
                items = catalogue(sg, args.catalogue, args.labeled, home)
            sg.scan(items[0].data, log=False)  # warm-up, then the in-process baseline under the same machine load
            t0 = time.perf_counter()
            for up in items[:24]:
                sg.scan(up.data, log=False)
            inproc_ms = round((time.perf_counter() - t0) * 1000 / min(24, len(items)), 1)
        results = [run_service(home, args, items, platform_tok, reviewer, c)
                   for c in (("off", "on") if args.cache == "both" else (args.cache,))]
    search = os.environ.get("SYNTHGUARD_SCAN_WATERMARK_SEARCH", "full")
    result = {"benchmark": "service", "workers": args.workers, "mix": args.mix, "database": "sqlite",
              "scan_processes": args.scan_processes, "job_workers": args.job_workers,
              "worker_nice": args.worker_nice,
              "scan_watermark_search": search, "in_process_scan_ms_per_image": inproc_ms, "runs": results,
              "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                          "load_avg_at_end": os.getloadavg(),
                          "note": "loaded: 2 cores shared with other workers; figures vary with their load"}}
    if args.mix == "realistic":
        result |= {"catalogue": args.catalogue, "labeled_share": args.labeled, "zipf": args.zipf,
                   "burst": args.burst, "burst_every_s": args.burst_every}
    name = "service" + ("" if search == "full" else f"_{search}") + ("" if args.mix == "kodak" else "_realistic")
    out = OUT.with_name(f"{name}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for res in results:
        report(res, args.seconds)
    print(f"in-process scan (one thread, same machine load): {inproc_ms} ms/image")
    print(f"load average at end: {statistics.mean(os.getloadavg()):.2f}; wrote {out.relative_to(ROOT)}")
    runs = [r for res in results for r in [*res["open_loop"], res["saturation"]]]
    bad, lost = sum(r["errors"] for r in runs), sum(r["transport_errors"] for r in runs)
    if bad:
        print(f"FAILED: {bad} unexpected HTTP answers (every scan of a valid image must be 200)", file=sys.stderr)
        sys.exit(1)
    if lost:
        print(f"FAILED: {lost} requests got no answer (timeouts, dropped connections)", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
