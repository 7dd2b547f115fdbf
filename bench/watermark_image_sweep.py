"""The image watermark after geometric edits: small rotations, cropped or straightened, one-axis stretches, and a
stretch then a rotation (issue 24: "any rotation angle", "independent scales in x and y").

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/watermark_image_sweep.py --edit rotation --half even            # held out
    .venv/bin/python bench/watermark_image_sweep.py --edit rotation --half even --without  # without its grid
    .venv/bin/python bench/watermark_image_sweep.py --edit stretch --half even [--without]
    .venv/bin/python bench/watermark_image_sweep.py --edit stretch-rotation --half even [--without]

One half of each set (12 Kodak + 12 photos) is marked and edited, then ``ImageWatermarker.detect`` (full search):

- ``rotation``: each of ``ANGLES`` degrees (bicubic), cropped to the largest same-aspect rectangle ("crop", the
  period kept) or also resized back ("fill", a photo editor's straighten).  Under about 1 degree the
  autocorrelation's rotation model misses the angle on photos textured all over (kodim05, kodim13, p13); the
  ``image.PRIOR_ANGLES`` grid holds them.  ``--without`` empties that grid.
- ``stretch``: the width or the height (not both) scaled by each of ``FACTORS`` (bicubic): a forced aspect ratio.
  On kodim05's brickwork the 2-D autocorrelation buries every stretch's lattice; ``image.stretches`` (one axis at
  a prior's period, the other from ``_sync.axis_periods``) finds most.  ``--without`` turns it off.
- ``stretch-rotation``: a stretch (``STRETCHES``), then a rotation by each of ``TURNS`` degrees, cropped or
  straightened (a photo forced to a format, then straightened): a rotated rectangular lattice.
  ``_affine.rotated_stretches`` (the angle from the kept axis alone, then the stretch) hands it to the reserve.
  ``--without`` turns it off.

``--without``'s candidates stay counted, so its p-values are the same or larger: it measures the detector as it
was.  A case counts when the exact payload is recovered.  Writes
bench/results/watermark_image_sweep_<edit>_<half>[_without].json.
"""

from __future__ import annotations

from _machine import RESULTS, cpu_model, git_commit, half_paths, marked_photos, single_thread  # noqa: E402  (bench/ is on sys.path)

single_thread()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

from PIL import Image  # noqa: E402

from synthguard.marking.watermark import ImageWatermarker, _affine  # noqa: E402
from synthguard.marking.watermark import image as image_mod  # noqa: E402
from tests.media import rotate_crop  # noqa: E402

ANGLES = (0.3, -0.45, 0.6, -0.8, 1.1, -1.4, 2.5)  # off the grid's 0.125-degree points, past its end
FACTORS = (0.6, 0.8, 0.94, 0.97, 1.03, 1.06, 1.25, 1.6)
STRETCHES = ((0.8, 1.0), (1.3, 1.0), (1.0, 0.75))  # (width, height) factors
TURNS = (3.0, -12.0, 25.0)
EDITS = {
    "rotation": [({"degrees": d, "mode": m}, lambda im, d=d, m=m: rotate_crop(im, d, m == "fill"))
                 for d in ANGLES for m in ("crop", "fill")],
    "stretch": [({"factor": f, "axis": ax},
                 lambda im, f=f, ax=ax: im.resize((round(im.width * f), im.height) if ax == "x"
                                                  else (im.width, round(im.height * f)), Image.BICUBIC))
                for f in FACTORS for ax in ("x", "y")],
    "stretch-rotation": [({"width": fx, "height": fy, "degrees": d, "mode": m},
                          lambda im, fx=fx, fy=fy, d=d, m=m: rotate_crop(
                              im.resize((round(im.width * fx), round(im.height * fy)), Image.BICUBIC), d, m == "fill"))
                         for fx, fy in STRETCHES for d in TURNS for m in ("crop", "fill")],
}
KEYS = {"rotation": b"small rotations", "stretch": b"stretches", "stretch-rotation": b"stretch rotations"}


def _without(edit: str) -> None:
    if edit == "rotation":
        image_mod.PRIOR_ANGLES = ()
    elif edit == "stretch-rotation":
        _affine.rotated_stretches = lambda *args, **kwargs: []
    else:
        image_mod.stretches = lambda rn, periods: []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edit", choices=tuple(EDITS), default="rotation")
    ap.add_argument("--half", choices=("odd", "even"), default="even")
    ap.add_argument("--without", action="store_true", help="without the edit's search model (the old detector)")
    args = ap.parse_args(argv)
    if args.without:
        _without(args.edit)
    paths = half_paths(args.half, 2)
    wm = ImageWatermarker(hashlib.sha256(KEYS[args.edit]).digest())
    rows = []
    t0 = time.time()
    for path, payload, marked in marked_photos(wm, paths):
        for params, edit in EDITS[args.edit]:
            r = wm.detect(edit(marked))
            rows.append({"image": path.name, **params,
                         "recovered": bool(r.detected and r.payload == payload), "score": round(r.score, 2)})
    misses = [r for r in rows if not r["recovered"]]
    report = {"machine": {"cpu": cpu_model(), "python": platform.python_version(), "threads": 1},
              "commit": git_commit(), "edit": args.edit, "model": not args.without, "half": args.half,
              "images": [p.name for p in paths], "params": [p for p, _ in EDITS[args.edit]], "cases": len(rows),
              "recovered": len(rows) - len(misses), "misses": misses, "wall_s": round(time.time() - t0, 1)}
    out = RESULTS / f"watermark_image_sweep_{args.edit}_{args.half}{'_without' if args.without else ''}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"{report['recovered']}/{len(rows)} recovered ({args.edit}, {args.half} half, "
          f"{'without' if args.without else 'with'} its model); misses: "
          + (", ".join(" ".join(str(v) for k, v in m.items() if k not in ("recovered", "score")) for m in misses)
             or "none"))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
