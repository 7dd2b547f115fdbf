# ruff: noqa: E501
"""The image watermark after a resize and then a crop of a few pixels (issue 24's weak photos).

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/watermark_image_resize_crop.py              # tuning-half images (kodim01, 05, ..; p01, 05, ..)
    .venv/bin/python bench/watermark_image_resize_crop.py --half even  # held out (kodim02, 06, ..; p02, 06, ..)

Every 4th image of each set (6 Kodak + 6 photos) is marked, resized by 0.55-1.6 (bicubic) and cropped by a few
pixels (even or uneven margins, 1-13 px), then ``ImageWatermarker.detect`` (full search).  Such copies keep a
period ~1-3 % off what their short side predicts; on photos textured all over the autocorrelation does not show
the true one.  A case counts when the exact payload is recovered.  Writes
bench/results/watermark_image_resize_crop_<half>.json.
"""

from __future__ import annotations

from _machine import RESULTS, cpu_model, half_paths, marked_photos, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

from PIL import Image  # noqa: E402

from synthguard.marking.watermark import ImageWatermarker  # noqa: E402

KEY = hashlib.sha256(b"sweep").digest()
FACTORS = (0.55, 0.7, 0.83, 0.9, 1.1, 1.3, 1.6)
CROPS = ((1, 1, 1, 1), (2, 2, 2, 2), (3, 0, 0, 3), (5, 5, 5, 5), (0, 0, 7, 0), (12, 4, 0, 9))  # left, top, right, bottom


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=("odd", "even"), default="odd")
    args = ap.parse_args(argv)
    paths = half_paths(args.half, 4)
    wm = ImageWatermarker(KEY)
    rows = []
    t0 = time.time()
    for path, payload, marked in marked_photos(wm, paths):
        for f, (left, top, right, bottom) in itertools.product(FACTORS, CROPS):
            a = marked.resize((round(marked.width * f), round(marked.height * f)), Image.BICUBIC)
            a = a.crop((left, top, a.width - right, a.height - bottom))
            r = wm.detect(a)
            rows.append({"image": path.name, "factor": f, "crop": [left, top, right, bottom],
                         "recovered": bool(r.detected and r.payload == payload), "score": round(r.score, 2)})
    misses = [r for r in rows if not r["recovered"]]
    report = {"machine": {"cpu": cpu_model(), "python": platform.python_version(), "threads": 1},
              "half": args.half, "images": [p.name for p in paths], "factors": FACTORS, "crops": CROPS,
              "cases": len(rows), "recovered": len(rows) - len(misses), "misses": misses, "wall_s": time.time() - t0}
    out = RESULTS / f"watermark_image_resize_crop_{args.half}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"{report['recovered']}/{len(rows)} recovered ({args.half} half); misses: "
          + (", ".join(f"{m['image']} x{m['factor']} crop {m['crop']}" for m in misses) or "none"))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
