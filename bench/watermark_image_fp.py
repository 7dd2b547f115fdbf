"""False positives of the image watermark's full search on clean photos under random edits (issue 24).

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/watermark_image_fp.py                          # 100,000 trials
    .venv/bin/python bench/watermark_image_fp.py --trials 2000 --workers 2
    .venv/bin/python bench/watermark_image_fp.py --max-seconds 2100      # as many trials as fit in 35 minutes
    .venv/bin/python bench/watermark_image_fp.py --start 7345 --trials 5000 --out part2.json   # the next trials
    .venv/bin/python bench/watermark_image_fp.py --merge a.json part2.json --out merged.json  # runs added up

Each trial takes an unmarked photo (the 24 Kodak images and the 24 of tests/data/photos), crops a random
rectangle (25-100 % of the area), resizes it (0.3-2x, aspect change 0.5-2), applies one geometric edit (none,
mirror, quarter turn, a rotation by any angle cropped to fill) and, half the time, re-encodes it as JPEG (q 50-95);
then ``ImageWatermarker(key).detect(image, search="full")``.  Trial ``j`` is a function of ``(--seed, j)`` only, so
a run is reproducible whatever ``--workers`` is, and a shorter run is a prefix of a longer one.  ``--start`` runs
trials ``start .. start + trials - 1`` (a later slice), so the 100,000 can be run in parts on several machines or
days; ``--merge`` adds up parts with the same seed and disjoint ranges (counts, detections, maxima and minima are
exact; the score quantiles are kept per part).

Key: by default a fresh random key per trial (``--key random``).  The detector's bound holds over the key (the chip
signs are independent of the image), so drawing both the image and the key estimates the false-positive rate any
deployment's key sees, not one key's luck with these photos; ``--key bench`` uses the fixed bench key of
bench/watermark_image.py (one deployment's view).

Writes bench/results/watermark_image_fp.json (or ``--out``).
"""

from __future__ import annotations

from _machine import RESULTS, ROOT, add_groups, cpu_model, git_commit, merge_by, single_thread, write_merged  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from synthguard.marking.watermark import ImageWatermarker  # noqa: E402
from synthguard.marking.watermark.image import MIN_DETECT_SIDE  # noqa: E402
from tests.media import rotate_crop  # noqa: E402

cv2.setNumThreads(1)
DATA = ROOT / "tests" / "data"
SETS = {"kodak": sorted((DATA / "kodak").glob("kodim*.png")), "photos": sorted((DATA / "photos").glob("p*.jpg"))}
BENCH_KEY = hashlib.sha256(b"synthguard bench key").digest()
GEOMETRY = ("none", "mirror", "quarter_turn", "rotation")
FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS, "box": Image.BOX}
_CACHE: dict[Path, Image.Image] = {}
KEY_MODE = ["random"]  # set by main() before the workers fork


def _load(path: Path) -> Image.Image:
    if path not in _CACHE:
        _CACHE[path] = Image.open(path).convert("RGB")
    return _CACHE[path]


def make_trial(seed: int, j: int, pool: list[tuple[str, Path]]) -> tuple[Image.Image, dict]:
    """Trial ``j``'s clean image and what was done to it (a pure function of ``seed``, ``j`` and the pool)."""
    rng = np.random.default_rng([seed, j])
    set_name, path = pool[int(rng.integers(len(pool)))]
    im = _load(path)
    w, h = im.size
    area = float(rng.uniform(0.25, 1.0))
    fw = float(rng.uniform(area, 1.0))  # width fraction; the height fraction area / fw is <= 1 too
    cw, ch = max(1, round(w * fw)), max(1, round(h * area / fw))
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    im = im.crop((x, y, x + cw, y + ch))
    scale = math.exp(rng.uniform(math.log(0.3), math.log(2.0)))
    aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
    nw, nh = cw * scale * math.sqrt(aspect), ch * scale / math.sqrt(aspect)
    grow = max(1.0, MIN_DETECT_SIDE / min(nw, nh))  # the detector refuses smaller images: clamp (counted)
    filt = str(rng.choice(list(FILTERS)))
    im = im.resize((max(1, round(nw * grow)), max(1, round(nh * grow))), FILTERS[filt])
    geometry = GEOMETRY[int(rng.integers(len(GEOMETRY)))]
    angle = 0.0
    if geometry == "mirror":
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT if rng.random() < 0.5 else Image.Transpose.FLIP_TOP_BOTTOM)
    elif geometry == "quarter_turn":
        im = im.transpose((Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180,
                           Image.Transpose.ROTATE_270)[int(rng.integers(3))])
    elif geometry == "rotation":
        angle = float(rng.uniform(-180.0, 180.0))
        rotated = rotate_crop(im, angle, bool(rng.random() < 0.5))
        if min(rotated.size) >= MIN_DETECT_SIDE:
            im = rotated
        else:  # cropping to fill left too little: keep the rotation, resized back
            im = rotate_crop(im, angle, True)
    quality = 0
    if rng.random() < 0.5:
        quality = int(rng.integers(50, 96))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
        im = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    meta = {"set": set_name, "image": path.name, "area": area, "scale": scale, "aspect": aspect, "filter": filt,
            "clamped": grow > 1.0, "geometry": geometry, "angle": angle, "jpeg": quality, "size": im.size}
    return im, meta


def _key(seed: int, j: int) -> bytes:
    if KEY_MODE[0] == "bench":
        return BENCH_KEY
    return hashlib.sha256(b"fp key %d %d" % (seed, j)).digest()


def _one(args):
    seed, j, pool = args
    im, meta = make_trial(seed, j, pool)
    t = time.perf_counter()
    r = ImageWatermarker(_key(seed, j)).detect(im, search="full")
    meta.update(detected=bool(r.detected), score=float(r.score), p_value=float(r.p_value),
                detect_s=time.perf_counter() - t, j=j)
    return meta


def _group(rows: list[dict]) -> dict:
    scores = np.array([r["score"] for r in rows])
    return {"count": len(rows), "detections": int(sum(r["detected"] for r in rows)),
            "max_score": float(scores.max()), "min_p_value": float(min(r["p_value"] for r in rows))}


def summarise(rows: list[dict]) -> dict:
    scores = np.array([r["score"] for r in rows])
    qs = (0.5, 0.9, 0.99, 0.999, 0.9999)
    worst = max(rows, key=lambda r: r["score"])
    by = {k: {v: _group([r for r in rows if r[k] == v]) for v in sorted({r[k] for r in rows})}
          for k in ("set", "geometry", "filter")}
    by["jpeg"] = {name: _group(sel) for name, sel in (("none", [r for r in rows if not r["jpeg"]]),
                                                      ("q50-95", [r for r in rows if r["jpeg"]])) if sel}
    return {**_group(rows), "score_quantiles": {str(q): float(np.quantile(scores, q)) for q in qs},
            "clamped_to_min_side": int(sum(r["clamped"] for r in rows)),
            "detect_s_median": float(np.median([r["detect_s"] for r in rows])),
            "worst_trial": {k: worst[k] for k in ("j", "set", "image", "geometry", "angle", "jpeg", "size", "score",
                                                  "p_value")},
            "by": by, "detected_trials": [r for r in rows if r["detected"]]}


def merge(parts: list[dict]) -> dict:
    """Reports of disjoint slices (same seed, key mode and sets) added up: exact for the counts, detections,
    maximum score and minimum p-value, overall and per group."""
    if len({(p["seed"], p["key"], json.dumps(p["sets"])) for p in parts}) != 1:
        raise SystemExit("--merge: the parts differ in seed, key mode or sets")
    ranges = sorted(r for p in parts for r in p.get("trial_ranges", [[0, p["trials_done"]]]))
    if any(a[1] > b[0] for a, b in zip(ranges, ranges[1:], strict=False)):
        raise SystemExit(f"--merge: overlapping trial ranges {ranges}")
    worst = max((p["worst_trial"] for p in parts), key=lambda w: w["score"])
    return {"machine": [p["machine"] for p in parts], "commits": [p.get("commit") for p in parts], "seed": parts[0]["seed"], "key": parts[0]["key"],
            "search": "full", "sets": parts[0]["sets"], "edits": parts[0]["edits"], "trial_ranges": ranges,
            "trials_done": sum(p["trials_done"] for p in parts), **add_groups(parts),
            "score_quantiles_per_part": [p["score_quantiles"] for p in parts], "worst_trial": worst,
            "by": merge_by([p["by"] for p in parts]),
            "detected_trials": [t for p in parts for t in p["detected_trials"]],
            "wall_s": sum(p["wall_s"] for p in parts)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="stop after this wall time; the trials done (a prefix 0..n-1) are reported")
    ap.add_argument("--workers", type=int, default=1, help="processes (each single-threaded)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first trial index (a later slice of the same sequence)")
    ap.add_argument("--merge", type=Path, nargs="+", default=None, help="add up these reports instead of running")
    ap.add_argument("--key", choices=("random", "bench"), default="random",
                    help="random: a fresh key per trial (default); bench: the fixed bench key")
    ap.add_argument("--sets", default="kodak,photos", help="comma-separated: kodak, photos")
    ap.add_argument("--out", type=Path, default=RESULTS / "watermark_image_fp.json")
    args = ap.parse_args(argv)
    if args.merge:
        return write_merged(args.merge, args.out, merge)
    KEY_MODE[0] = args.key
    pool = [(s, p) for s in args.sets.split(",") for p in SETS[s]]
    if not pool:
        raise SystemExit(f"no images in {DATA}")
    t0 = time.time()
    rows: list[dict] = []
    stopped = False
    with Pool(args.workers) as procs:
        for row in procs.imap(_one, [(args.seed, j, pool) for j in range(args.start, args.start + args.trials)], chunksize=4):
            rows.append(row)
            if len(rows) % 500 == 0:
                print(f"{len(rows)} trials, {sum(r['detected'] for r in rows)} detected, "
                      f"max score {max(r['score'] for r in rows):.2f}, {time.time() - t0:.0f} s", flush=True)
            if args.max_seconds is not None and time.time() - t0 > args.max_seconds:
                stopped = True
                procs.terminate()
                break
    wall = time.time() - t0
    summary = summarise(rows)
    report = {
        "machine": {"cpu": cpu_model(), "python": platform.python_version(), "threads": 1, "workers": args.workers,
                    "shared": "2 cores shared with other jobs; run under nice -n 15"},
        "trials_requested": args.trials, "trials_done": len(rows), "stopped_by_time_limit": stopped,
        "trial_ranges": [[args.start, args.start + len(rows)]], "commit": git_commit(),
        "seed": args.seed, "key": "a fresh sha256('fp key <seed> <j>') per trial" if args.key == "random"
        else "sha256('synthguard bench key')",
        "search": "full", "sets": {s: len(SETS[s]) for s in args.sets.split(",")},
        "edits": "crop 25-100% area, resize 0.3-2x with aspect 0.5-2 (short side >= MIN_DETECT_SIDE), one of "
                 "none/mirror/quarter turn/rotation (any angle, cropped to fill), JPEG q50-95 half the time",
        **summary, "wall_s": wall,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"{'group':28s}{'count':>8s}{'det':>6s}{'max z':>8s}{'min p':>10s}")
    print(f"{'all':28s}{summary['count']:>8d}{summary['detections']:>6d}{summary['max_score']:>8.2f}"
          f"{summary['min_p_value']:>10.2g}")
    for k, groups in summary["by"].items():
        for v, g in groups.items():
            print(f"{k + '=' + v:28s}{g['count']:>8d}{g['detections']:>6d}{g['max_score']:>8.2f}{g['min_p_value']:>10.2g}")
    print("score quantiles: " + "  ".join(f"{q}: {v:.2f}" for q, v in summary["score_quantiles"].items()))
    print(f"{len(rows)} trials in {wall:.0f} s ({'stopped by --max-seconds' if stopped else 'complete'}); "
          f"median detect {summary['detect_s_median'] * 1e3:.0f} ms; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
