# ruff: noqa: E501
"""The image watermark pasted into another photo (issue 24's inset), five placements, both photo sets.

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/watermark_image_inset.py --half odd     # the tuning half
    .venv/bin/python bench/watermark_image_inset.py --half even    # held out (report this one)

Each marked image (Kodak kodim01-24 and tests/data/photos p01-p24, the half chosen like bench/watermark_image.py's
``--half``) is scaled to 30-50 % of a host photo's width (a photo of the other half, so no image is its own host)
and pasted at five placements: the two of bench/_geometry.py (``inset30``, ``inset40``), a top-left corner, the
centre at half the width and a bottom-right corner; then ``ImageWatermarker.detect`` (full search).  A case counts
when the exact payload is recovered.  Writes bench/results/watermark_image_inset_<half>.json.
"""

from __future__ import annotations

from _machine import RESULTS, cpu_model, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _geometry import inset  # noqa: E402
from PIL import Image  # noqa: E402

from synthguard.marking.watermark import ImageWatermarker  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEY = hashlib.sha256(b"synthguard bench key").digest()
SETS = {"kodak": (ROOT / "tests" / "data" / "kodak", "kodim*.png"), "photos": (ROOT / "tests" / "data" / "photos", "p*.jpg")}
# (name, width fraction of the host, host offset, position of the inset's free space)
PLACES = [("inset30", 0.3, 0, (0.3, 0.6)), ("inset40", 0.4, 7, (0.85, 0.15)), ("inset30tl", 0.3, 3, (0.05, 0.05)),
          ("inset50", 0.5, 5, (0.5, 0.5)), ("inset35br", 0.35, 11, (0.95, 0.9))]


def _split(set_name: str, half: str) -> tuple[list[Path], list[Path]]:
    folder, pattern = SETS[set_name]
    every = sorted(folder.glob(pattern))
    keep = 1 if half == "even" else 0  # even: kodim02, 04, ... (index 1, 3, ...), as bench/watermark_image.py
    return [p for k, p in enumerate(every) if k % 2 == keep], [p for k, p in enumerate(every) if k % 2 != keep]


def _one(args: tuple[str, str, int]) -> list[dict]:
    set_name, half, i = args
    paths, others = _split(set_name, half)
    hosts = [Image.open(p).convert("RGB") for p in others]
    wm = ImageWatermarker(KEY)
    payload = hashlib.sha256(b"img%d" % i).digest()[:8]
    marked = wm.embed(Image.open(paths[i]).convert("RGB"), payload)
    rows = []
    for name, frac, off, pos in PLACES:
        attacked = inset(marked, frac, hosts[(i + off) % len(hosts)], pos)
        t = time.process_time()
        r = wm.detect(attacked)
        rows.append({"set": set_name, "image": paths[i].name, "place": name, "size": attacked.size,
                     "recovered": bool(r.detected and r.payload == payload), "score": round(r.score, 2),
                     "cpu_s": time.process_time() - t})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=("odd", "even"), default="even")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    jobs = [(s, args.half, i) for s in SETS for i in range(len(_split(s, args.half)[0]))]
    t0 = time.time()
    with Pool(args.workers) as pool:
        rows = [r for rs in pool.map(_one, jobs) for r in rs]
    table = {s: {name: float(np.mean([r["recovered"] for r in rows if r["set"] == s and r["place"] == name]))
                 for name, *_ in PLACES} for s in SETS}
    report = {"machine": {"cpu": cpu_model(), "python": platform.python_version(), "threads": 1},
              "half": args.half, "places": [{"name": n, "width_fraction": f, "position": p} for n, f, _, p in PLACES],
              "recovered": table, "overall": float(np.mean([r["recovered"] for r in rows])),
              "misses": [r for r in rows if not r["recovered"]],
              "detect_cpu_s_median": float(np.median([r["cpu_s"] for r in rows])), "wall_s": time.time() - t0}
    out = args.out or RESULTS / f"watermark_image_inset_{args.half}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"{'set':8s}" + "".join(f"{n:>11s}" for n, *_ in PLACES))
    for s, by in table.items():
        print(f"{s:8s}" + "".join(f"{v:>11.2f}" for v in by.values()))
    print(f"overall {report['overall']:.3f} over {len(rows)} cases; misses: "
          + ", ".join(f"{m['image']} {m['place']}" for m in report["misses"]))
    print(f"median detect {report['detect_cpu_s_median'] * 1e3:.0f} ms CPU; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
