"""Benchmark the platform scan (no ML): images/s per core on Kodak, with per-stage times.

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/scan.py                 # 24 Kodak images x 3 rounds, bank of 2,000 PDQ hashes
    .venv/bin/python bench/scan.py --rounds 1 --bank 200

One process, BLAS/OpenCV threads pinned to 1, so the figures are per core.  Stages (mean ms per image):
decode (PNG -> pixels), marks (AIGC + IPTC metadata, C2PA), watermark (ours; SD dwtDct), PDQ (+ SHA-256),
bank lookup (SHA-256 + PDQ against the banks).  The end-to-end rate is measured separately through ``scan()``.
Writes bench/results/scan.json.
"""

from __future__ import annotations

from _machine import KODAK, RESULTS, cpu_model, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.keys import init_keys
from synthguard.media import Media
from synthguard.scan import banks_for, detectors_for, scan

cv2.setNumThreads(1)
STAGE_OF = {"image.aigc": "marks", "image.iptc": "marks", "image.c2pa": "marks",
            "image.watermark": "watermark (ours)", "image.federated.watermark": "watermark (federated)",
            "image.dwtdct": "watermark (SD dwtDct)"}


def fill_banks(sg: SynthGuard, n: int) -> None:
    banks = banks_for(sg)
    if banks is None:
        raise SystemExit("synthguard.fingerprint.banks is missing: the bank stage cannot be measured")
    rng = np.random.default_rng(0)
    banks.create("bench-pdq", kind="pdq", description="random hashes", actor="bench")
    banks.create("bench-sha", kind="sha256", description="random hashes", actor="bench")
    for i in range(n):
        banks.add("bench-pdq", rng.bytes(32).hex(), reason=f"bench {i}", actor="bench")
    for i in range(max(1, n // 10)):
        banks.add("bench-sha", rng.bytes(32).hex(), reason=f"bench {i}", actor="bench")


def stage_times(sg: SynthGuard, blobs: list[bytes], rounds: int) -> dict[str, list[float]]:
    from synthguard.fingerprint.pdq import PDQHasher

    marks, _ = detectors_for(sg)
    banks = banks_for(sg)
    times: dict[str, list[float]] = {}

    def add(stage: str, dt: float) -> None:
        times.setdefault(stage, []).append(dt)

    for _ in range(rounds):
        for data in blobs:
            per: dict[str, float] = {}
            t0 = time.perf_counter()
            media = Media.from_bytes(data)
            media.image()
            per["decode"] = time.perf_counter() - t0
            for det in marks:
                t0 = time.perf_counter()
                det.detect(media)
                stage = STAGE_OF.get(det.name, det.name)
                per[stage] = per.get(stage, 0.0) + time.perf_counter() - t0
            t0 = time.perf_counter()
            pdq = PDQHasher().hash(media)
            _ = media.sha256
            per["pdq + sha256"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            banks.query("sha256", media.sha256)
            banks.query("pdq", pdq.value)
            per["bank lookup"] = time.perf_counter() - t0
            for k, v in per.items():
                add(k, v)
    return times


def end_to_end(sg: SynthGuard, blobs: list[bytes], rounds: int) -> float:
    t0 = time.perf_counter()
    n = 0
    for _ in range(rounds):
        for data in blobs:
            scan(sg.scanner, data)
            n += 1
    return n / (time.perf_counter() - t0)


def run_mode(settings: Settings, blobs: list[bytes], rounds: int, search: str) -> dict:
    sg = SynthGuard.open(settings.model_copy(update={"scan_watermark_search": search}))
    try:
        scan(sg.scanner, blobs[0])  # warm up: detectors built, bank indexes loaded
        times = stage_times(sg, blobs, rounds)
        rate = end_to_end(sg, blobs, rounds)
    finally:
        sg.close()
    stages = {k: {"mean_ms": 1000 * statistics.mean(v), "p95_ms": 1000 * float(np.percentile(v, 95))}
              for k, v in times.items()}
    total_ms = sum(s["mean_ms"] for s in stages.values())
    no_ours = total_ms - stages["watermark (ours)"]["mean_ms"]
    return {"stages": stages, "sum_of_stages_ms": total_ms,
            "images_per_s_per_core": {"end_to_end_scan": rate, "sum_of_stages": 1000 / total_ms,
                                      "without_our_watermark_detector": 1000 / no_ours}}


def jpeg(data: bytes, quality: int = 90) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bank", type=int, default=2000, help="PDQ hashes in the bench bank")
    ap.add_argument("--format", choices=("png", "jpeg"), default="jpeg",
                    help="uploads as the Kodak PNGs or re-encoded as JPEG q90 (what platforms mostly receive)")
    ap.add_argument("--search", choices=("full", "priors", "both"), default="both",
                    help="scan_watermark_search setting(s) to measure")
    args = ap.parse_args()
    blobs = [p.read_bytes() for p in sorted(KODAK.glob("*.png"))]
    if args.format == "jpeg":
        blobs = [jpeg(b) for b in blobs]
    modes = ("full", "priors") if args.search == "both" else (args.search,)
    with tempfile.TemporaryDirectory() as home:
        settings = Settings.load(home=Path(home))
        init_keys(settings)
        with SynthGuard.open(settings) as sg:
            fill_banks(sg, args.bank)
        results = {m: run_mode(settings, blobs, args.rounds, m) for m in modes}
    result = {
        "images": len(blobs), "rounds": args.rounds, "bank_pdq_entries": args.bank,
        "image_size": f"768x512 (Kodak, {'PNG' if args.format == 'png' else 'JPEG q90'})", "threads": 1,
        "modes": results, "target_images_per_s_per_core": 50,
        "machine": {"python": platform.python_version(), "cpu": cpu_model(), "cpus": os.cpu_count(),
                    "load_average_at_end": os.getloadavg()[0]},
    }
    for mode, res in results.items():
        stages, total_ms = res["stages"], res["sum_of_stages_ms"]
        print(f"\n== scan_watermark_search={mode}")
        print(f"{'stage':28s} {'mean ms':>9s} {'p95 ms':>9s} {'share':>7s}")
        for k, st in sorted(stages.items(), key=lambda kv: -kv[1]["mean_ms"]):
            print(f"{k:28s} {st['mean_ms']:9.2f} {st['p95_ms']:9.2f} {st['mean_ms'] / total_ms:7.1%}")
        print(f"{'sum':28s} {total_ms:9.2f}")
        r = res["images_per_s_per_core"]
        print(f"end-to-end scan(): {r['end_to_end_scan']:.1f} images/s per core (sum of stages "
              f"{r['sum_of_stages']:.1f}; without our watermark detector {r['without_our_watermark_detector']:.1f}; "
              "target 50)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "scan.json" if args.format == "png" and args.search == "both" else f"scan_{args.format}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
