"""Benchmark batch scans: the local engine (process pool) vs Ray Data with 1 and 2 workers.

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/batch.py                       # 2,000 generated 256x256 images
    .venv/bin/python bench/batch.py --images 300 --engines local:1,ray:1

The images are generated once (smooth gradients + noise + text, varied per image, PNG) into a temp folder;
every configuration scans the whole folder into its own JSONL through ``synthguard.batch.run_batch`` (the code
behind ``synthguard batch scan``), so the figures include process/actor start-up.  Math libraries are pinned to
one thread per process so "N workers" means N cores.  Writes bench/results/batch.json.
"""

from __future__ import annotations

from _machine import cpu_model, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"


def generate(folder: Path, n: int, size: int) -> None:
    rng = np.random.default_rng(42)
    y, x = np.mgrid[0:size, 0:size]
    for i in range(n):
        a, b, c = rng.uniform(0.2, 1.0, 3)
        base = np.stack([x * a, y * b, (x + y) * c / 2], axis=-1) * 255 / size
        img = np.clip(base + rng.normal(0, 10, base.shape), 0, 255).astype(np.uint8)
        im = Image.fromarray(img, "RGB")
        ImageDraw.Draw(im).text((10 + i % 50, 20 + i % 80), f"upload {i}", fill=(255, 255, 255))
        im.save(folder / f"img{i:05d}.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--engines", default="local:1,ray:1,local:2,ray:2", help="engine:workers, comma-separated")
    args = ap.parse_args()

    from synthguard.batch import run_batch
    from synthguard.config import Settings
    from synthguard.keys import init_keys

    with tempfile.TemporaryDirectory(prefix="sg-bench-batch-") as tmp:
        home = Path(tmp) / "home"
        os.environ["SYNTHGUARD_HOME"] = str(home)
        init_keys(Settings.load(home=home))
        images = Path(tmp) / "images"
        images.mkdir()
        t0 = time.perf_counter()
        generate(images, args.images, args.size)
        print(f"generated {args.images} images of {args.size}x{args.size} in {time.perf_counter() - t0:.1f} s")
        runs = []
        for spec in args.engines.split(","):
            engine, workers = spec.split(":")
            out = Path(tmp) / f"{engine}-{workers}.jsonl"
            t0 = time.perf_counter()
            summary = run_batch(images, out, engine=engine, workers=int(workers), resume=False)
            secs = time.perf_counter() - t0
            assert summary["files"] == args.images and summary["error"] == 0, summary
            runs.append({"engine": engine, "workers": int(workers), "seconds": round(secs, 2),
                         "images_per_s": round(args.images / secs, 1),
                         "verdicts": {k: summary[k] for k in ("none", "suspected_ai", "ai_generated")}})
            print(f"{engine:6} x{workers}: {secs:7.1f} s  {args.images / secs:6.1f} images/s", flush=True)
            runs[-1]["load_average"] = os.getloadavg()[0]
            write(args, runs)  # after every run: a slow machine still leaves the finished figures
    print(f"wrote {OUT / 'batch.json'}")


def write(args: argparse.Namespace, runs: list[dict]) -> None:
    result = {"benchmark": "batch scan", "images": args.images, "size": args.size, "runs": runs,
              "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                          "load_average_at_end": os.getloadavg()}}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "batch.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
