"""The image watermark after a small rotation, cropped or straightened (issue 24: "any rotation angle").

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/watermark_image_small_rotation.py --half even                        # held out
    .venv/bin/python bench/watermark_image_small_rotation.py --half even --without-angle-grid   # as before it

One half of each set (12 Kodak + 12 photos) is marked, rotated by each of ``ANGLES`` degrees (bicubic) and
either cropped to the largest same-aspect rectangle ("crop", the period kept) or also resized back ("fill", a
photo editor's straighten), then ``ImageWatermarker.detect`` (full search).  Under about 1.5 degrees the
autocorrelation's rotation model misses the angle on photos textured all over (kodim05, kodim13); the
``image.PRIOR_ANGLES`` grid (to 1 degree) holds them.  ``--without-angle-grid`` empties that grid (its candidates stay counted,
so the p-values are the same or larger) to measure the detector as it was.  A case counts when the exact payload
is recovered.  Writes bench/results/watermark_image_small_rotation_<half>[_without].json.
"""

from __future__ import annotations

from _machine import RESULTS, cpu_model, git_commit, half_paths, marked_photos, single_thread  # noqa: E402  (bench/ is on sys.path)

single_thread()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

from synthguard.marking.watermark import ImageWatermarker  # noqa: E402
from synthguard.marking.watermark import image as image_mod  # noqa: E402
from tests.media import rotate_crop  # noqa: E402

KEY = hashlib.sha256(b"small rotations").digest()
ANGLES = (0.3, -0.45, 0.6, -0.8, 1.1, -1.4, 2.5)  # off the grid's 0.25-degree points, one past its end


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=("odd", "even"), default="even")
    ap.add_argument("--without-angle-grid", action="store_true", help="empty image.PRIOR_ANGLES (the old search)")
    args = ap.parse_args(argv)
    if args.without_angle_grid:
        image_mod.PRIOR_ANGLES = ()
    paths = half_paths(args.half, 2)
    wm = ImageWatermarker(KEY)
    rows = []
    t0 = time.time()
    for path, payload, marked in marked_photos(wm, paths):
        for deg in ANGLES:
            for mode in ("crop", "fill"):
                r = wm.detect(rotate_crop(marked, deg, mode == "fill"))
                rows.append({"image": path.name, "degrees": deg, "mode": mode,
                             "recovered": bool(r.detected and r.payload == payload), "score": round(r.score, 2)})
    misses = [r for r in rows if not r["recovered"]]
    report = {"machine": {"cpu": cpu_model(), "python": platform.python_version(), "threads": 1},
              "commit": git_commit(), "angle_grid": not args.without_angle_grid, "half": args.half,
              "images": [p.name for p in paths], "angles": ANGLES, "cases": len(rows),
              "recovered": len(rows) - len(misses), "misses": misses, "wall_s": round(time.time() - t0, 1)}
    out = RESULTS / f"watermark_image_small_rotation_{args.half}{'_without' if args.without_angle_grid else ''}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"{report['recovered']}/{len(rows)} recovered ({args.half} half, angle grid "
          f"{'off' if args.without_angle_grid else 'on'}); misses: "
          + (", ".join(f"{m['image']} {m['degrees']} {m['mode']}" for m in misses) or "none"))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
