# ruff: noqa: E501, B023
"""Benchmark SynthGuard's invisible image watermark against invisible-watermark (dwtDct, dwtDctSvd, rivaGan).

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/watermark_image.py                      # full run (24 Kodak, 10,000 FP crops)
    .venv/bin/python bench/watermark_image.py --images 6 --fp 200  # quick run
    .venv/bin/python bench/watermark_image.py --half even --suite geometry --no-peers   # held-out geometry (issue 24)
    .venv/bin/python bench/watermark_image.py --set photos --half even --no-peers --fp 0   # the second photo set

Attack suites: "signal" (JPEG, resize, crop, small rotations, filters), "tune" (the geometric edits of issue 24,
tuned on the odd-numbered images), "held_out" (our own geometric edits, never tuned on), "geometry" (both),
"all".  ``--half odd|even`` selects kodim01, 03, ... or kodim02, 04, ...: report geometry on the even half.
The inset attacks paste the marked image into a photo from the other half.
``--set photos`` runs on tests/data/photos (24 photos from other sources, p01-p24) instead of Kodak, with the same
halves: odd p01, p03, ... (the tuning side) and even p02, p04, ... (held out; never tuned on); both halves mix the
sources (tests/data/README.md).  Results get a ``_photos`` suffix.

Writes bench/results/watermark_image.json and bench/results/watermark_image.png.
Detection for the peers (which have no presence test) is "bit matches >= k" with k the smallest count whose
binomial tail under random bits is <= 1e-6 (64 bits: k = 51; rivaGan's 32 bits: k = 30).
"""

from __future__ import annotations

from _machine import cpu_model, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from _geometry import HELD_OUT, TUNE  # noqa: E402
from PIL import Image, ImageEnhance, ImageFilter  # noqa: E402
from scipy.stats import binom  # noqa: E402

try:
    from skimage.metrics import structural_similarity  # noqa: E402
except ImportError:  # scikit-image is optional: SSIM is then reported as NaN
    def structural_similarity(*_a, **_k):  # noqa: D103
        return float("nan")

from synthguard.marking.watermark import ImageWatermarker  # noqa: E402
from tests.media import rotate_crop  # noqa: E402

cv2.setNumThreads(1)
ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT / "tests" / "data" / "kodak"
PHOTO_SETS = {"kodak": (KODAK, "kodim*.png"), "photos": (ROOT / "tests" / "data" / "photos", "p*.jpg")}
OUT = ROOT / "bench" / "results"
KEY = hashlib.sha256(b"synthguard bench key").digest()
SCHEME = ["private"]  # --scheme federated: the cross-deployment scheme (issue 19: common sync, keyed payload)


def _wm():
    if SCHEME[0] == "federated":
        from synthguard.marking.watermark.federated import FederatedWatermarker

        return FederatedWatermarker(KEY)
    return ImageWatermarker(KEY)


# ------------------------------------------------------------------------------------------------ attacks
def _jpeg(im, q, fmt="JPEG"):
    buf = io.BytesIO()
    im.convert("RGB").save(buf, fmt, quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _resize(im, f):
    return im.resize((round(im.width * f), round(im.height * f)), Image.BICUBIC)


def _crop(im, area, corner=False):
    f = area**0.5
    w, h = round(im.width * f), round(im.height * f)
    x, y = (0, 0) if corner else ((im.width - w) // 2, (im.height - h) // 2)
    return im.crop((x, y, x + w, y + h))


def _noise(im, sigma, seed=0):
    a = np.asarray(im, dtype=np.float32)
    a = a + np.random.default_rng(seed).normal(0, sigma, a.shape)
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), im.mode)


def _screenshot(im):
    r = _resize(im, 0.8)
    canvas = Image.new("RGB", (r.width + 40, r.height + 40), (255, 255, 255))
    canvas.paste(r, (20, 20))
    return _jpeg(canvas, 85)


ATTACKS = {
    "none": lambda im: im,
    "jpeg90": lambda im: _jpeg(im, 90),
    "jpeg75": lambda im: _jpeg(im, 75),
    "jpeg50": lambda im: _jpeg(im, 50),
    "webp50": lambda im: _jpeg(im, 50, "WEBP"),
    "resize0.5": lambda im: _resize(im, 0.5),
    "resize0.75": lambda im: _resize(im, 0.75),
    "resize1.5": lambda im: _resize(im, 1.5),
    "crop50": lambda im: _crop(im, 0.5),
    "crop70": lambda im: _crop(im, 0.7),
    "cornercrop70": lambda im: _crop(im, 0.7, corner=True),
    "rot2": lambda im: rotate_crop(im, 2, True),
    "rot5": lambda im: rotate_crop(im, 5, True),
    "bright1.2": lambda im: ImageEnhance.Brightness(im).enhance(1.2),
    "bright0.8": lambda im: ImageEnhance.Brightness(im).enhance(0.8),
    "contrast0.8": lambda im: ImageEnhance.Contrast(im).enhance(0.8),
    "blur1": lambda im: im.filter(ImageFilter.GaussianBlur(1)),
    "noise5": lambda im: _noise(im, 5),
    "screenshot": _screenshot,
    "crop70+jpeg75": lambda im: _jpeg(_crop(im, 0.7), 75),
    "resize0.5+jpeg75": lambda im: _jpeg(_resize(im, 0.5), 75),
}
RELAXED = {"rot5", "crop50"}  # target 0.95 instead of 0.99
SUITES = {"signal": list(ATTACKS), "tune": list(TUNE), "held_out": list(HELD_OUT),
          "geometry": list(TUNE) + list(HELD_OUT), "all": list(ATTACKS) + list(TUNE) + list(HELD_OUT)}
SELECTED = list(ATTACKS)  # set by main() (the workers are forked after)
HOSTS: list = []  # inset hosts: photos not in the measured half


def _attack(name, im, i):
    if name in ATTACKS:
        return ATTACKS[name](im)
    return {**TUNE, **HELD_OUT}[name](im, i, HOSTS)


# ------------------------------------------------------------------------------------------------ peers
def _load_peers():
    """invisible-watermark imports torch only for rivaGan; stub it and run rivaGan's ONNX models directly."""
    sys.modules.setdefault("torch", types.ModuleType("torch"))
    import onnxruntime as ort
    from imwatermark import WatermarkDecoder, WatermarkEncoder

    model_dir = Path(sys.modules["imwatermark"].__file__).parent
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    enc = ort.InferenceSession(str(model_dir / "rivagan_encoder.onnx"), opts, providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(model_dir / "rivagan_decoder.onnx"), opts, providers=["CPUExecutionProvider"])

    def riva_embed(bgr, bits):
        frame = (bgr.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None, :, None]
        out = enc.run(None, {"frame": frame, "data": bits.astype(np.float32)[None]})[0]
        return ((np.clip(out[0, :, 0].transpose(1, 2, 0), -1, 1) + 1.0) * 127.5).astype(np.uint8)

    def riva_decode(bgr):
        frame = (bgr.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None, :, None]
        return (dec.run(None, {"frame": frame})[0][0] > 0.5).astype(np.uint8)

    def dwt(method):
        def embed(bgr, bits):
            e = WatermarkEncoder()
            e.set_watermark("bits", [int(b) for b in bits])
            return e.encode(bgr, method)

        def decode(bgr):
            return np.array(WatermarkDecoder("bits", 64).decode(bgr, method), dtype=np.uint8)

        return embed, decode

    return {"dwtDct": (*dwt("dwtDct"), 64), "dwtDctSvd": (*dwt("dwtDctSvd"), 64), "rivaGan": (riva_embed, riva_decode, 32)}


def _match_threshold(n_bits: int, fpr: float = 1e-6) -> int:
    return int(next(k for k in range(n_bits + 1) if binom.sf(k - 1, n_bits, 0.5) <= fpr))


def _to_bgr(im):
    return cv2.cvtColor(np.asarray(im.convert("RGB")), cv2.COLOR_RGB2BGR)


def _from_bgr(a):
    return Image.fromarray(cv2.cvtColor(a, cv2.COLOR_BGR2RGB))


def quality(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    psnr = 10 * np.log10(255**2 / max(np.mean((x - y) ** 2), 1e-12))
    return float(psnr), float(structural_similarity(x, y, channel_axis=2, data_range=255))


# ------------------------------------------------------------------------------------------------ runs
def _ours_one(args):
    i, path = args
    wm = _wm()
    im = Image.open(path).convert("RGB")
    payload = hashlib.sha256(b"img%d" % i).digest()[:8]
    marked = wm.embed(im, payload)
    row = {"quality": quality(im, marked), "attacks": {}}
    for name in SELECTED:
        a = _attack(name, marked, i)
        blind = wm.detect(a)
        verify = wm.detect(a, expected=payload)
        row["attacks"][name] = (blind.detected, blind.payload == payload, verify.bit_accuracy, blind.score)
    return row


def _peer_one(args):
    i, path, name = args
    embed, decode, n_bits = _load_peers()[name]
    im = Image.open(path).convert("RGB")
    bits = np.unpackbits(np.frombuffer(hashlib.sha256(b"img%d" % i).digest()[:8], np.uint8))[:n_bits]
    marked = _from_bgr(embed(_to_bgr(im), bits))
    k = _match_threshold(n_bits)
    row = {"quality": quality(im, marked), "attacks": {}}
    for an in SELECTED:
        a = _attack(an, marked, i)
        try:
            got = decode(_to_bgr(a))
            acc = float(np.mean(got[:n_bits] == bits))
        except Exception:  # noqa: BLE001 - a peer failing on an attacked image counts as chance level
            acc = 0.5
        row["attacks"][an] = (acc * n_bits >= k, acc == 1.0, acc, None)
    return row


def _fp_one(args):
    j, paths = args
    wm = _wm()
    rng = np.random.default_rng(10_000 + j)
    im = Image.open(paths[j % len(paths)]).convert("RGB")
    if j >= len(paths):  # random crop + resize
        w, h = im.size
        cw, ch = int(rng.integers(160, w + 1)), int(rng.integers(160, h + 1))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        f = float(rng.uniform(0.4, 2.0))
        im = im.crop((x, y, x + cw, y + ch))
        im = im.resize((max(96, round(cw * f)), max(96, round(ch * f))), Image.BICUBIC)
        edit = j % 5  # and the geometry the search covers: mirror, quarter turn, any angle, aspect change
        if edit == 1:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        elif edit == 2:
            im = im.transpose(Image.Transpose.ROTATE_90)
        elif edit == 3 and min(im.size) >= 200:
            im = rotate_crop(im, float(rng.uniform(-45, 45)), True)
        elif edit == 4:
            im = im.resize((max(96, round(im.width * float(rng.uniform(0.5, 1.0)))), im.height), Image.BICUBIC)
    r = wm.detect(im)
    return r.detected, r.score


def _summarise(rows):
    out = {"psnr": float(np.mean([r["quality"][0] for r in rows])), "psnr_min": float(np.min([r["quality"][0] for r in rows])),
           "ssim": float(np.mean([r["quality"][1] for r in rows])), "ssim_min": float(np.min([r["quality"][1] for r in rows])),
           "attacks": {}}
    for name in SELECTED:
        v = [r["attacks"][name] for r in rows]
        out["attacks"][name] = {"detection": float(np.mean([x[0] for x in v])), "payload_exact": float(np.mean([x[1] for x in v])),
                                "bit_accuracy": float(np.mean([x[2] for x in v])),
                                "min_score": None if v[0][3] is None else float(np.min([x[3] for x in v]))}
    return out


def _timing(peers):
    wm = _wm()
    base = Image.open(KODAK / "kodim05.png").convert("RGB")
    res = {}
    for w, h in ((512, 512), (768, 512), (1920, 1080)):
        im = base.resize((w, h), Image.BICUBIC)
        m = wm.embed(im, bytes(8))
        wm.detect(m)
        te = min(_clock(lambda: wm.embed(im, bytes(8))) for _ in range(5))
        td = min(_clock(lambda: wm.detect(m)) for _ in range(5))  # marked: the fast path
        mj = _jpeg(m, 85)
        tj = min(_clock(lambda: wm.detect(mj)) for _ in range(5))  # re-encoded: the fast path
        tu = min(_clock(lambda: wm.detect(im)) for _ in range(5))  # unmarked: the full lattice search
        res[f"ours_{w}x{h}"] = {"embed_ms": te, "detect_ms": td, "detect_reencoded_ms": tj, "detect_unmarked_ms": tu}
        if (w, h) == (768, 512):
            continue  # peers: the two reference sizes only
        for name, (embed, decode, n_bits) in peers.items():
            bgr = _to_bgr(im)
            bits = np.zeros(n_bits, np.uint8)
            te = min(_clock(lambda: embed(bgr, bits)) for _ in range(2))
            td = min(_clock(lambda: decode(bgr)) for _ in range(2))
            res[f"{name}_{w}x{h}"] = {"embed_ms": te, "detect_ms": td}
    return res


def _clock(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1e3



def _plot(results, path, results_images=24, set_name="Kodak"):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    names = list(SELECTED)
    methods = list(results)
    fig, ax = plt.subplots(figsize=(max(16, 0.45 * len(names)), 5))
    width = 0.8 / len(methods)
    for k, m in enumerate(methods):
        acc = [results[m]["attacks"][a]["bit_accuracy"] for a in names]
        ax.bar(np.arange(len(names)) + k * width, acc, width, label=m)
    ax.axhline(0.99, color="k", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=45, ha="right")
    ax.set_ylim(0.4, 1.01)
    ax.set_ylabel("mean bit accuracy")
    ax.set_title(f"Bit accuracy per attack, {results_images} {set_name} images (ours: 64-bit payload; rivaGan: 32 bits)")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--fp", type=int, default=10_000, help="random crops/resizes of unmarked images for the FP test")
    ap.add_argument("--workers", type=int, default=1, help="processes (each single-threaded)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--peer-images", type=int, default=None, help="images for the peers (rivaGan is slow on CPU)")
    ap.add_argument("--half", choices=("all", "odd", "even"), default="all",
                    help="odd: kodim01, 03, ... (tuning); even: kodim02, 04, ... (held out); same for p01-p24")
    ap.add_argument("--set", choices=tuple(PHOTO_SETS), default="kodak",
                    help="photos: tests/data/photos (results file suffixed _photos)")
    ap.add_argument("--suite", choices=tuple(SUITES), default="all")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--scheme", choices=("private", "federated"), default="private",
                    help="federated: the cross-deployment scheme (results file suffixed _federated)")
    args = ap.parse_args(argv)
    SCHEME[0] = args.scheme
    folder, pattern = PHOTO_SETS[args.set]
    every = sorted(folder.glob(pattern))
    keep = {"all": lambda k: True, "odd": lambda k: k % 2 == 0, "even": lambda k: k % 2 == 1}[args.half]
    paths = [p for k, p in enumerate(every) if keep(k)][: args.images]
    SELECTED[:] = SUITES[args.suite]
    HOSTS[:] = [Image.open(p).convert("RGB") for p in every if p not in paths] or [Image.open(every[0]).convert("RGB")]
    if not paths:
        raise SystemExit(f"no {pattern} images in {folder}")
    peers = {} if args.no_peers else _load_peers()
    t0 = time.time()
    with Pool(args.workers) as pool:
        results = {"synthguard": _summarise(pool.map(_ours_one, list(enumerate(paths))))}
        for name in peers:
            peer_paths = paths[: args.peer_images or len(paths)]
            results[name] = _summarise(pool.map(_peer_one, [(i, p, name) for i, p in enumerate(peer_paths)]))
        fp = pool.map(_fp_one, [(j, paths) for j in range(len(paths) + args.fp)], chunksize=16)
    timing = {} if args.no_timing else _timing(peers)
    fp_count = int(sum(d for d, _ in fp))
    report = {
        "machine": {"cpu": cpu_model(), "python": platform.python_version(), "threads": 1},
        "images": len(paths), "peer_images": args.peer_images or len(paths), "key": "sha256('synthguard bench key')",
        "set": args.set, "half": args.half, "suite": args.suite, "image_names": [p.name for p in paths],
        "results": results,
        "false_positives": {"unmarked": len(paths), "random_crops_resizes": args.fp, "detected": fp_count,
                            "max_score": float(max(s for _, s in fp))},
        "timing_ms": timing, "wall_s": time.time() - t0,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    stem = "watermark_image" + ("" if (args.half, args.suite) == ("all", "all") else f"_{args.suite}_{args.half}")
    stem += "_federated" if args.scheme == "federated" else ""
    stem += "" if args.set == "kodak" else f"_{args.set}"
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2))
    _plot(results, OUT / f"{stem}.png", len(paths), "Kodak" if args.set == "kodak" else args.set)
    methods = list(results)
    print(f"{'attack':18s}" + "".join(f"{m:>24s}" for m in methods))
    print(f"{'':18s}" + "".join(f"{'bitacc  det  exact':>24s}" for _ in methods))
    for a in SELECTED:
        cells = "".join(f"{results[m]['attacks'][a]['bit_accuracy']:>10.3f}{results[m]['attacks'][a]['detection']:>6.2f}"
                        f"{results[m]['attacks'][a]['payload_exact']:>8.2f}" for m in methods)
        print(f"{a:18s}{cells}")
    for m in methods:
        r = results[m]
        print(f"{m}: PSNR {r['psnr']:.2f} (min {r['psnr_min']:.2f})  SSIM {r['ssim']:.4f} (min {r['ssim_min']:.4f})")
    print(f"false positives: {fp_count} / {len(fp)} (max score {report['false_positives']['max_score']:.2f})")
    for k, v in timing.items():
        extra = "".join(f"  {n[7:-3]} {v[n]:6.1f} ms" for n in ("detect_reencoded_ms", "detect_unmarked_ms") if n in v)
        print(f"{k:28s} embed {v['embed_ms']:8.1f} ms  detect {v['detect_ms']:8.1f} ms{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
