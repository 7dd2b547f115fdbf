"""Memory of the public routes under 20 concurrent bomb uploads (issue 18 finding 5).

Not run by CI.  Usage (from the project root):

    nice .venv/bin/python bench/security_bombs.py                 # 20 concurrent uploads, default public budget
    nice .venv/bin/python bench/security_bombs.py --clients 20 --workers 2 --memory-mb 768 --seconds 20

Starts ``uvicorn`` (one worker, SQLite in a temporary home) and sends ``--clients`` concurrent anonymous uploads,
a mix of the review's bombs, to ``POST /v1/inspect`` and the ``/check`` page:
  - an OOXML zip bomb (a docx of ~200 KB whose document.xml inflates to 200 MB),
  - an 8K (7680x4320) H.264 video of 60 s at 1 fps,
  - a PNG carrying a 10 MB XMP packet,
  - a 62-megapixel PNG (pixel bomb just under max_pixels).
While they run, the resident memory of the server process and all its children (the fork server and the sandbox
workers) is sampled every 50 ms from /proc.  The stated budget is

    server baseline (measured idle, after one warm-up inspection) + public_workers x public_memory_mb

and the bench fails (exit 1) when the peak total exceeds it.  Writes bench/results/security_bombs.json.  Figures
on a shared, loaded machine: call them "loaded".
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _machine import THREAD_VARS, cpu_model  # noqa: E402  (bench/ is on sys.path when run)
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
from tests.media import docx_bomb, long_video, png_with_xmp  # noqa: E402

OUT = ROOT / "bench" / "results" / "security_bombs.json"


def make_app():  # uvicorn --factory entry point
    from synthguard.config import Settings
    from synthguard.server import create_app

    return create_app(Settings.load())


# --- the bombs ------------------------------------------------------------------------------------------------
def video_bomb(seconds: int = 60, fps: int = 1) -> bytes:
    return long_video(Path(tempfile.mkdtemp()) / "8k.mp4", (7680, 4320), seconds, fps)


def xmp_bomb(mb: int = 10) -> bytes:
    return png_with_xmp(mb << 20)


def pixel_bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (7900, 7900), (10, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


# --- measuring --------------------------------------------------------------------------------------------------
def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            pass
        todo += children.get(p, [])
    return total


def start(home: Path, args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    env = os.environ | {"SYNTHGUARD_HOME": str(home), "SYNTHGUARD_PUBLIC_WORKERS": str(args.workers),
                        "SYNTHGUARD_PUBLIC_MEMORY_MB": str(args.memory_mb),
                        "SYNTHGUARD_PUBLIC_SECONDS": str(args.seconds),
                        "SYNTHGUARD_PUBLIC_RATE_PER_MINUTE": "0"} | {v: "1" for v in THREAD_VARS}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT / "bench"), env.get("PYTHONPATH", "")])
    subprocess.run([sys.executable, "-m", "synthguard", "keys", "init"], env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "security_bombs:make_app", "--app-dir",
                             str(ROOT / "bench"), "--port", str(port), "--log-level", "warning", "--no-access-log"],
                            env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("the server did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2, help="public_workers")
    ap.add_argument("--memory-mb", type=int, default=768, help="public_memory_mb")
    ap.add_argument("--seconds", type=int, default=20, help="public_seconds")
    args = ap.parse_args()
    t0 = time.time()
    bombs = {"docx-zip-bomb": ("bomb.docx", docx_bomb(200)), "8k-video-60s": ("8k.mp4", video_bomb()),
             "png-10mb-xmp": ("xmp.png", xmp_bomb()), "png-62mp": ("big.png", pixel_bomb())}
    print(f"bombs built in {time.time() - t0:.1f} s: " + ", ".join(f"{k} {len(v[1]) // 1024} KB"
                                                                    for k, v in bombs.items()))
    home = Path(tempfile.mkdtemp(prefix="sg-bombs-"))
    proc, url = start(home, args)
    try:
        warm = httpx.post(url + "/v1/inspect", files={"file": ("w.png", xmp_bomb(0), "image/png")}, timeout=120)
        assert warm.status_code == 200, warm.text
        time.sleep(1)
        baseline = tree_rss(proc.pid)
        budget = baseline + args.workers * (args.memory_mb << 20)
        peak, stop = [baseline], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], tree_rss(proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        names = list(bombs)
        jobs = [(names[i % len(names)], "/v1/inspect") for i in range(args.clients)]

        def send(job: tuple[str, str]) -> dict:
            name, path = job
            fname, data = bombs[name]
            t = time.monotonic()
            try:
                r = httpx.post(url + path, files={"file": (fname, data, "application/octet-stream")}, timeout=600)
                code, err = r.status_code, (r.json().get("error") if r.headers.get("content-type", "").startswith(
                    "application/json") else None)
            except httpx.HTTPError as exc:
                code, err = 0, type(exc).__name__
            return {"bomb": name, "status": code, "error": err, "seconds": round(time.monotonic() - t, 2)}

        t1 = time.monotonic()
        with ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(send, jobs))
        wall = time.monotonic() - t1
        stop.set()
        sampler.join()
    finally:
        proc.terminate()
        proc.wait(10)
    by_bomb: dict[str, dict] = {}
    for r in results:
        b = by_bomb.setdefault(r["bomb"], {"status": {}, "max_seconds": 0.0})
        key = f"{r['status']} {r['error'] or ''}".strip()
        b["status"][key] = b["status"].get(key, 0) + 1
        b["max_seconds"] = max(b["max_seconds"], r["seconds"])
    report = {
        "bench": "security_bombs", "note": "loaded: 2 shared cores, other engineers' jobs running",
        "cpu": cpu_model(), "clients": args.clients,
        "settings": {"public_workers": args.workers, "public_memory_mb": args.memory_mb,
                     "public_seconds": args.seconds},
        "bomb_sizes_kb": {k: len(v[1]) // 1024 for k, v in bombs.items()},
        "baseline_mb": round(baseline / 2**20, 1), "budget_mb": round(budget / 2**20, 1),
        "peak_mb": round(peak[0] / 2**20, 1), "within_budget": peak[0] <= budget,
        "wall_seconds": round(wall, 1), "by_bomb": by_bomb,
        "server_errors": sum(1 for r in results if r["status"] >= 500 and r["status"] != 503 or r["status"] == 0),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'bomb':<16} {'answers':<48} {'max s':>6}")
    for name, b in by_bomb.items():
        print(f"{name:<16} {json.dumps(b['status']):<48} {b['max_seconds']:>6.1f}")
    print(f"server tree RSS: baseline {report['baseline_mb']} MB, peak {report['peak_mb']} MB, "
          f"budget {report['budget_mb']} MB -> {'OK' if report['within_budget'] else 'OVER BUDGET'}; "
          f"{args.clients} uploads in {report['wall_seconds']} s (loaded)")
    return 0 if report["within_budget"] and not report["server_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
