"""Benchmark: label a 1920x1080 JPEG (visible + metadata + C2PA, and with the watermark too) on one core.

Prints a table and writes bench/results/label_image.json. Run: `.venv/bin/python bench/label_image.py`.
"""

from __future__ import annotations

from _machine import cpu_model, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
from PIL import Image  # noqa: E402

cv2.setNumThreads(1)

from synthguard.config import Settings  # noqa: E402
from synthguard.core import SynthGuard  # noqa: E402
from synthguard.keys import init_keys  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT / "tests" / "data" / "kodak"
RUNS = 15



def main() -> None:
    if not KODAK.is_dir():
        raise SystemExit(f"missing {KODAK}")
    src = Image.open(KODAK / "kodim05.png").convert("RGB").resize((1920, 1080), Image.LANCZOS)
    buf = io.BytesIO()
    src.save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings.load(home=Path(home))
        init_keys(settings)
        sg = SynthGuard.open(settings)
        sg.add_user("bench")
        sg.verify_user("bench", "mobile")
        rows = []
        for name, kw in [("visible+metadata+C2PA", {"watermark": False}),
                         ("visible+watermark+metadata+C2PA", {"watermark": True})]:
            sg.label(data, user="bench", producer="ACME", output=Path(home) / "warm.jpg", **kw)  # warm caches
            times = []
            for i in range(RUNS):
                t = time.perf_counter()
                sg.label(data, user="bench", producer="ACME", output=Path(home) / f"o{i}.jpg", **kw)
                times.append(time.perf_counter() - t)
            rows.append({"pipeline": name, "median_s": statistics.median(times), "min_s": min(times),
                         "max_s": max(times), "runs": RUNS})
        t = time.perf_counter()
        for i in range(5):
            sg.inspect(Path(home) / f"o{i}.jpg")
        rows.append({"pipeline": "inspect (all readers)", "median_s": (time.perf_counter() - t) / 5,
                     "min_s": None, "max_s": None, "runs": 5})
        sg.close()
    result = {"image": "1920x1080 JPEG q90 (kodim05 upscaled)", "threads": 1, "cpu": cpu_model(),
              "python": platform.python_version(), "target_s": 0.5, "rows": rows}
    print(f"label_image on {result['cpu']} (1 thread), {result['image']}")
    print(f"{'pipeline':36} {'median s':>9} {'min s':>7} {'max s':>7}")
    for r in rows:
        fmt = lambda v: f"{v:7.3f}" if v is not None else "      -"  # noqa: E731
        print(f"{r['pipeline']:36} {r['median_s']:9.3f} {fmt(r['min_s'])} {fmt(r['max_s'])}")
    out = ROOT / "bench" / "results" / "label_image.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
