"""Time the image watermark detector per core (issue 24's speed targets) and record its decisions.

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/watermark_detect_speed.py                  # timing table -> bench/results/
    .venv/bin/python bench/watermark_detect_speed.py --decisions OUT  # decisions on marked+attacked and unmarked
                                                                      # images (JSON), to diff before/after a change

Timing: median of ``--repeats`` detections of unmarked and marked Kodak images at 1080p (kodim08/03/13 resized
to 1920x1280, cropped to 1920x1080) and at 768x512, with ``search=full`` and ``search=priors``; CPU time and wall
time (on a shared machine the CPU time is the figure to compare).  bench/results/watermark_detect_decisions.json
holds the decision table (138 detections) as of the speed work, to diff against after a change.
"""

from __future__ import annotations

from _machine import KODAK, RESULTS, cpu_model, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
from _geometry import HELD_OUT, TUNE, jpeg  # noqa: E402
from PIL import Image  # noqa: E402

from synthguard.marking.watermark import ImageWatermarker  # noqa: E402

cv2.setNumThreads(1)
KEY = hashlib.sha256(b"synthguard bench key").digest()
PAYLOAD = bytes(range(8))
TIMED = ("kodim08", "kodim03", "kodim13")
DECIDED = ("kodim01", "kodim03", "kodim08", "kodim13", "kodim19", "kodim23")
ATTACKS = {
    "none": lambda im, s, h: im,
    "jpeg75": lambda im, s, h: jpeg(im, 75),
    "resize0.6+jpeg80": lambda im, s, h: jpeg(im.resize((round(im.width * 0.6), round(im.height * 0.6)),
                                                       Image.BICUBIC), 80),
    **{k: TUNE[k] for k in ("mirror", "rot90", "aspect0.8", "keystone5", "rot10fill", "rot45crop", "crop25",
                            "inset30", "aspect0.8+crop70")},
    **{k: HELD_OUT[k] for k in ("keystone8h", "inset40", "rot-23fill", "mirror+crop50")},
}


def hd(name: str) -> Image.Image:
    """A 1080p frame: the Kodak photo resized to 1920 px wide, centre-cropped to 1080 rows."""
    im = Image.open(KODAK / f"{name}.png").convert("RGB")
    im = im.resize((1920, round(im.height * 1920 / im.width)), Image.BICUBIC)
    top = (im.height - 1080) // 2
    return im.crop((0, top, 1920, top + 1080))


def median_ms(wm: ImageWatermarker, im: Image.Image, search: str, repeats: int) -> dict[str, float]:
    """Median wall and CPU milliseconds of one detection (CPU time: what one core spends, robust when the machine
    is shared; wall: what a caller waits)."""
    wm.detect(im, search=search)
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        wm.detect(im, search=search)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"wall": 1000 * statistics.median(wall), "cpu": 1000 * statistics.median(cpu)}


def timing(repeats: int) -> dict:
    wm = ImageWatermarker(KEY)
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for name in TIMED:
        small = Image.open(KODAK / f"{name}.png").convert("RGB")
        for size, im in (("1080p", hd(name)), ("768x512", small)):
            marked = wm.embed(im, PAYLOAD)
            rows[f"{name} {size} unmarked"] = {s: median_ms(wm, im, s, repeats) for s in ("full", "priors")}
            rows[f"{name} {size} marked"] = {s: median_ms(wm, marked, s, repeats) for s in ("full", "priors")}
    print(f"{'image':28s} {'full cpu ms':>12s} {'(wall)':>8s} {'priors cpu ms':>14s} {'(wall)':>8s}")
    for k, r in rows.items():
        f, p = r["full"], r["priors"]
        print(f"{k:28s} {f['cpu']:12.1f} {f['wall']:8.1f} {p['cpu']:14.1f} {p['wall']:8.1f}")
    return rows


def decisions() -> dict:
    wm = ImageWatermarker(KEY)
    hosts = [Image.open(KODAK / f"kodim{i:02d}.png").convert("RGB") for i in (2, 4, 6)]
    out = {}
    for seed, name in enumerate(DECIDED):
        im = Image.open(KODAK / f"{name}.png").convert("RGB")
        marked = wm.embed(im, PAYLOAD)
        for attack, fn in ATTACKS.items():
            for label, src in (("marked", marked), ("unmarked", im)):
                if label == "unmarked" and attack not in ("none", "jpeg75", "rot10fill", "keystone5", "inset30"):
                    continue
                r = wm.detect(fn(src, seed, hosts))
                out[f"{name} {attack} {label}"] = {"detected": r.detected,
                                                   "payload": r.payload.hex() if r.payload else None,
                                                   "score": round(r.score, 3)}
        for size_label, big in (("1080p", hd(name)),):
            for label, src in (("marked", wm.embed(big, PAYLOAD)), ("unmarked", big)):
                r = wm.detect(src)
                out[f"{name} {size_label} {label}"] = {"detected": r.detected,
                                                       "payload": r.payload.hex() if r.payload else None,
                                                       "score": round(r.score, 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--decisions", help="write the decision table to this JSON file instead of timing")
    args = ap.parse_args()
    if args.decisions:
        with open(args.decisions, "w") as f:
            json.dump(decisions(), f, indent=1, sort_keys=True)
        return
    rows = timing(args.repeats)
    result = {"repeats": args.repeats, "threads": 1, "unit": "median ms per detect() call (cpu: process time, wall: elapsed)", "rows": rows,
              "targets_ms": {"1080p unmarked full": 30},
              "machine": {"python": platform.python_version(), "cpu": cpu_model(), "cpus": os.cpu_count(),
                          "load_average_at_end": os.getloadavg()[0]}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "watermark_detect_speed.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
