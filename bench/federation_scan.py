# ruff: noqa: E501
"""Benchmark detection across deployments (issue 19 item 3): scan cost vs the number of trusted providers, and the
public mode's known-pattern removal and forgery attacks.

Not run by CI.  Usage (from the project root, on a shared machine with ``nice``):

    nice .venv/bin/python bench/federation_scan.py                  # rounds 5, 8 removal images, 24 forgeries
    nice .venv/bin/python bench/federation_scan.py --rounds 3 --removal 4 --forgery 8

1. Scan time: a platform with 1, 10 and 100 trusted providers (provider A, a real deployment in public mode; B, a
   real deployment in shared mode whose key the platform holds through a grant; the rest signed descriptors of
   synthetic providers, half public, half shared with their keys held) scans a 1620x1080 JPEG marked by A
   (metadata stripped) and an unmarked one.  The three platforms are scanned round-robin (so load changes hit
   them alike); median of ``--rounds``.  The full scan (``scan()``: marks, our own private watermark, the federated
   search, dwtDct, PDQ) and its federated-watermark stage.  Resolution is off here (no credential: one lookup per
   mark found, whatever the trust list's size).
2. Removal (public mode): an attacker reads the token with the published key, rebuilds the exact tile, estimates
   the perceptual mask from the marked image and the amplitude by least squares, and subtracts ``beta`` times the
   estimate; detection (present) and attribution rates vs PSNR to the marked image (the attacker's distortion
   budget).  The same for the sync pilot alone (what an attacker knows of a shared-mode mark).
3. Forgery: B's published key embeds a made-up token on Kodak photos; a platform holding B's credential scans
   them: how many are "present", attributed to B, resolved (must be 0), and the verdicts.

Writes bench/results/federation_scan.json.
"""

from __future__ import annotations

from _machine import KODAK, RESULTS, cpu_model, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from PIL import Image  # noqa: E402

from synthguard.auth import Role, create_token  # noqa: E402
from synthguard.config import Settings  # noqa: E402
from synthguard.core import SynthGuard  # noqa: E402
from synthguard.errors import NotFoundError  # noqa: E402
from synthguard.keys import init_keys  # noqa: E402
from synthguard.ledger.checkpoint import vkey  # noqa: E402
from synthguard.marking.watermark import federated as fed  # noqa: E402
from synthguard.marking.watermark._pattern import PULSE, TILE  # noqa: E402
from synthguard.marking.watermark.image import TARGET_PSNR_DB, WORK_SHORT_SIDE, _mask  # noqa: E402
from synthguard.media import Media, Modality  # noqa: E402
from synthguard.scan import detectors_for, scan  # noqa: E402
from synthguard.trust import descriptor as desc  # noqa: E402
from synthguard.trust import resolve as res  # noqa: E402
from synthguard.trust import wmkeys  # noqa: E402
from synthguard.trust.trustlist import TrustList  # noqa: E402
from tests import deployments  # noqa: E402

cv2.setNumThreads(1)
SIZE = (1620, 1080)
BETAS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)


def kodak(n: int) -> Image.Image:
    return Image.open(KODAK / f"kodim{n:02d}.png").convert("RGB")


def encode(im: Image.Image, fmt: str = "JPEG", q: int = 90) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **({"quality": q} if fmt == "JPEG" else {}))
    return buf.getvalue()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def provider(root: Path, name: str, mode: str, producer: str) -> SynthGuard:
    return deployments.provider(root, name, mode, producer, scan_cache=False)


def synthetic(i: int) -> tuple[dict, str | None]:
    """A signed descriptor of a synthetic provider (real format and signature): half public, half shared
    (then the key a grant would have delivered is returned, to be held in the trust entry)."""
    key = Ed25519PrivateKey.generate()
    origin = f"provider{i:03d}.example/log"
    det = hashlib.sha256(b"bench detection key %d" % i).digest()
    mode = "public" if i % 2 else "shared"
    doc = {"version": desc.VERSION, "issued": datetime.now(UTC).isoformat(timespec="seconds"),
           "producer": f"P-{i:03d}", "name": f"provider {i}", "filing_number": None,
           "log": {"origin": origin, "vkey": vkey(origin, key)}, "c2pa_chain_pem": None,
           "watermark": {"mode": mode, "scheme": fed.SCHEME, "sync": fed.SYNC_NAME.decode(), "key_id": fed.key_id(det),
                         "detection_key": det.hex() if mode == "public" else None, "schemes": ["synthguard.image-wm"]},
           "lookup": f"https://p{i:03d}.example/v1/records/{{content_id}}", "takedown": None}
    return {"descriptor": doc, "signature": base64.b64encode(key.sign(desc.canonical(doc))).decode()}, \
        (det.hex() if mode == "shared" else None)


def platform_with(root: Path, n: int, a: SynthGuard, b: SynthGuard) -> SynthGuard:
    st = Settings.load(database_url=None, home=root / f"platform{n}", service_name=f"platform{n}", scan_cache=False)
    init_keys(st)
    p = SynthGuard.open(st)
    trust = TrustList(st.home / "trust-list.json")
    trust.add(desc.build(a, base_url="https://a.example"))
    if n >= 2:
        trust.add(desc.build(b, base_url="https://b.example"))
        signed = wmkeys.grant(b, wmkeys.recipient_public(st.home), platform=f"platform{n}")
        trust.set_watermark_key("b", wmkeys.open_grant(signed, trust.find("b"), st.home).hex())
    for i in range(2, n):
        signed, held = synthetic(i)
        trust.add(signed)
        if held:
            trust.set_watermark_key(signed["descriptor"]["log"]["origin"], held)
    return p


def scan_times(root: Path, rounds: int) -> dict:
    a = provider(root, "a", "public", "P-A")
    b = provider(root, "b", "shared", "P-B")
    big = kodak(23).resize(SIZE, Image.LANCZOS)
    made = a.label(encode(big, "PNG"), user="u-1", visible=False, output=root / "a-out.png")
    a.checkpoint()
    marked = encode(Image.open(root / "a-out.png").convert("RGB"))  # metadata stripped, re-encoded
    unmarked = encode(kodak(14).resize(SIZE, Image.LANCZOS))
    plats = {n: platform_with(root, n, a, b) for n in (1, 10, 100)}
    times: dict = {n: {k: [] for k in ("marked", "unmarked", "marked_wm", "unmarked_wm", "marked_fed", "unmarked_fed",
                                       "marked_cpu", "unmarked_cpu", "marked_fed_cpu", "unmarked_fed_cpu")}
                   for n in plats}
    feds = {n: next(d for d in detectors_for(p, Modality.IMAGE)[0] if d.name == "image.federated.watermark")
            for n, p in plats.items()}
    checks: dict = {}
    order = list(plats)
    for r in range(rounds + 1):  # round 0 warms up (imports, detector construction, FFT plans)
        for n in order[r % 3:] + order[: r % 3]:  # the order rotates: no platform always goes first
            p = plats[n]
            for name, data in (("marked", marked), ("unmarked", unmarked)):
                media = Media.from_bytes(data, f"{name}.jpg")
                t0, c0 = time.perf_counter(), time.process_time()
                out = scan(p, media)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                fedev = [e for e in out.evidence if e["source"] == "image.federated.watermark"]
                if r == 0:
                    checks[f"{n}/{name}"] = [{k: e["evidence"].get(k) for k in ("provider", "token", "status", "keys", "decodes")} for e in fedev]
                    continue
                times[n][name].append(dt)
                times[n][f"{name}_cpu"].append(dc)
                times[n][f"{name}_wm"].append(out.timings.get("watermark", 0.0))
                media = Media.from_bytes(data, f"{name}.jpg")
                media.decode()
                t0, c0 = time.perf_counter(), time.process_time()
                feds[n].detect(media)  # the federated step alone (the watermark stage also runs our own + dwtDct)
                times[n][f"{name}_fed"].append(time.perf_counter() - t0)
                times[n][f"{name}_fed_cpu"].append(time.process_time() - c0)
    got = checks["100/marked"]
    assert got and got[0]["provider"] == "a" and got[0]["token"] == made.watermark_payload, got
    assert not checks["100/unmarked"] and not checks["1/unmarked"], checks
    med = {n: {k: statistics.median(v) * 1000 for k, v in t.items()} for n, t in times.items()}
    for p in plats.values():
        p.close()
    a.close()
    b.close()
    return {"ms": med, "ratio_100_vs_1": {k: med[100][k] / med[1][k] for k in med[1]},
            "ratio_10_vs_1": {k: med[10][k] / med[1][k] for k in med[1]}, "checks": checks,
            "image": f"{SIZE[0]}x{SIZE[1]} JPEG q90", "rounds": rounds}


# ------------------------------------------------------------------------------------------------ removal
def _estimate(marked: Image.Image, tile: np.ndarray) -> np.ndarray:
    """The attacker's estimate of the added luminance pattern (before the amplitude): the embedder's own steps
    with the mask computed on the marked image."""
    rgb = np.asarray(marked).astype(np.float32)
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    h, w = luma.shape
    s = WORK_SHORT_SIDE / min(h, w)
    hw, ww = round(h * s), round(w * s)
    yw = cv2.resize(luma, (ww, hw), interpolation=cv2.INTER_AREA)
    pat = np.tile(tile, (-(-hw // TILE), -(-ww // TILE)))[:hw, :ww] * _mask(yw)
    return cv2.resize(pat, (w, h), interpolation=cv2.INTER_LINEAR), luma


def _pilot_tile(key: bytes, token: bytes) -> np.ndarray:
    """The pilot's share of the tile (the public sync pattern), on the tile's own scale."""
    lay = fed.layout_for(key)
    from synthguard.marking.watermark import payload as pl

    full = np.real(np.fft.ifft2(np.fft.fft2(lay.comb(lay.chip_values(pl.encode(token)))) * PULSE))
    pilot = np.real(np.fft.ifft2(np.fft.fft2(lay.comb(np.where(lay.pilot, lay.signs, 0.0))) * PULSE))
    return (pilot / np.sqrt(np.mean(full * full))).astype(np.float32)


def removal(images: list[int]) -> dict:
    key_pub = fed.derive(hashlib.sha256(b"bench provider public").digest(), "public")
    key_sh = fed.derive(hashlib.sha256(b"bench provider shared").digest(), "shared")
    out: dict = {}
    for variant, key in (("full public pattern (public mode)", key_pub), ("sync pilot only (shared mode)", key_sh)):
        rows = {beta: {"present": 0, "attributed": 0, "psnr_to_marked": [], "psnr_to_original": []} for beta in BETAS}
        det = fed.FederatedDetector({fed.key_id(key): key})
        reader = fed.FederatedDetector({fed.key_id(key_pub): key_pub})  # what the attacker can read (public key)
        for n in images:
            orig = kodak(n)
            token = hashlib.sha256(b"tok %d" % n).digest()[:8]
            marked = fed.FederatedWatermarker(key).embed(orig, token)
            if variant.startswith("full"):
                got = reader.detect(marked)
                assert got.attribution is not None
                tile = fed.tile_for(key, got.attribution.payload)  # the token read with the published key
            else:
                tile = _pilot_tile(key, token)  # the pilot is common and public; the payload signs are not
            est, luma = _estimate(marked, tile)
            hp = luma - cv2.GaussianBlur(luma, (0, 0), 2.0)
            ehp = est - cv2.GaussianBlur(est, (0, 0), 2.0)
            amp = float(np.sum(hp * ehp) / max(np.sum(ehp * ehp), 1e-9))  # least squares amplitude
            base = np.asarray(marked).astype(np.float32)
            for beta in BETAS:
                attacked = np.clip(np.rint(base - beta * amp * est[..., None]), 0, 255).astype(np.uint8)
                r = det.detect(Image.fromarray(attacked))
                row = rows[beta]
                row["present"] += int(r.present)
                row["attributed"] += int(r.attribution is not None and r.attribution.payload == token)
                row["psnr_to_marked"].append(psnr(attacked, np.asarray(marked)))
                row["psnr_to_original"].append(psnr(attacked, np.asarray(orig)))
        out[variant] = [{"beta": beta, "detection_rate": v["present"] / len(images),
                         "attribution_rate": v["attributed"] / len(images),
                         "psnr_to_marked_db": round(statistics.mean(v["psnr_to_marked"]), 2),
                         "psnr_to_original_db": round(statistics.mean(v["psnr_to_original"]), 2)}
                        for beta, v in rows.items()]
    return {"images": [f"kodim{n:02d}" for n in images], "embed_psnr_db": TARGET_PSNR_DB, "variants": out}


# ------------------------------------------------------------------------------------------------ forgery
def forgery(root: Path, images: list[int]) -> dict:
    from fastapi.testclient import TestClient

    from synthguard.server import create_app

    b = provider(root, "forge-b", "public", "P-B")
    b.label(encode(kodak(1), "PNG"), user="u-1", visible=False)  # B has a real record too
    b.checkpoint()
    client = TestClient(create_app(b.settings, sg=b))

    def get(url: str, headers: dict) -> dict:
        r = client.get(url.removeprefix("https://b.example"), headers=headers)
        if r.status_code == 404:
            raise NotFoundError("the provider has no record {url}", values={"url": url})
        r.raise_for_status()
        return r.json()

    res._httpx_get = get  # the platform's HTTP client, routed to B's app
    st = Settings.load(database_url=None, home=root / "forge-platform", service_name="platform", scan_cache=False)
    init_keys(st)
    p = SynthGuard.open(st)
    trust = TrustList(st.home / "trust-list.json")
    trust.add(desc.build(b, base_url="https://b.example"))
    trust.set_lookup_token("P-B", create_token(b.db, Role.PLATFORM, "default", "platform")[0])
    public = bytes.fromhex(trust.find("P-B").descriptor["descriptor"]["watermark"]["detection_key"])
    counts = {"photos": len(images), "present": 0, "attributed_to_B": 0, "resolved": 0, "verdicts": {}, "statuses": {}}
    psnrs = []
    for n in images:
        orig = kodak(n)
        token = os.urandom(8)  # made up: the attacker cannot compute a real one without B's integrity key
        forged = fed.FederatedWatermarker(public).embed(orig, token)
        psnrs.append(psnr(np.asarray(forged), np.asarray(orig)))
        out = scan(p, Media.from_bytes(encode(forged), f"forged{n}.jpg"))
        ev = [e for e in out.evidence if e["source"] == "image.federated.watermark"]
        counts["present"] += int(bool(ev))
        counts["attributed_to_B"] += sum(1 for e in ev if e["evidence"].get("origin") == trust.find("P-B").origin)
        counts["resolved"] += sum(1 for e in ev if e["evidence"].get("resolved"))
        for e in ev:
            s = e["evidence"].get("status")
            counts["statuses"][s] = counts["statuses"].get(s, 0) + 1
        counts["verdicts"][out.verdict] = counts["verdicts"].get(out.verdict, 0) + 1
    counts["forgery_psnr_db"] = round(statistics.mean(psnrs), 2)
    p.close()
    b.close()
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--removal", type=int, default=8, help="Kodak images for the removal attack")
    ap.add_argument("--forgery", type=int, default=24, help="Kodak photos forged")
    ap.add_argument("--parts", default="scan,removal,forgery", help="which parts to run (comma-separated); the "
                    "others are kept from the existing results file")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    old = json.loads((RESULTS / "federation_scan.json").read_text()) if (RESULTS / "federation_scan.json").is_file() else {}
    load0 = os.getloadavg()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="sg-fedbench-") as tmp:
        root = Path(tmp)
        os.environ.pop("SYNTHGUARD_DATABASE_URL", None)
        st = scan_times(root, args.rounds) if "scan" in parts else old["scan"]
        st["ms"] = {int(k): v for k, v in st["ms"].items()}
        print(f"\nscan time, {st['image']} (median of {args.rounds} rounds, ms)")
        print(f"{'providers':>10} {'scan unmarked':>14} {'scan marked':>12} {'wm stage unm.':>14} {'wm stage m.':>12} "
              f"{'federated unm.':>15} {'federated m.':>13}")
        for n, v in st["ms"].items():
            print(f"{n:>10} {v['unmarked']:>14.0f} {v['marked']:>12.0f} {v['unmarked_wm']:>14.0f} {v['marked_wm']:>12.0f} "
                  f"{v['unmarked_fed']:>15.0f} {v['marked_fed']:>13.0f}")
        print("CPU time of the process (single-threaded: what load on other cores cannot inflate), ms")
        print(f"{'providers':>10} {'scan unmarked':>14} {'scan marked':>12} {'federated unm.':>15} {'federated m.':>13}")
        for n, v in st["ms"].items():
            if "unmarked_cpu" in v:
                print(f"{n:>10} {v['unmarked_cpu']:>14.0f} {v['marked_cpu']:>12.0f} {v['unmarked_fed_cpu']:>15.0f} "
                      f"{v['marked_fed_cpu']:>13.0f}")
        r = st["ratio_100_vs_1"]
        for kind, suffix in (("wall", ""), ("cpu", "_cpu")):
            if f"unmarked{suffix}" in r:
                print(f"100 vs 1 provider ({kind}): scan unmarked x{r['unmarked' + suffix]:.3f}, marked "
                      f"x{r['marked' + suffix]:.3f}; federated step unmarked x{r['unmarked_fed' + suffix]:.3f}, "
                      f"marked x{r['marked_fed' + suffix]:.3f} (target <= 1.2)")
        rm = removal(list(range(1, 25, max(1, 24 // args.removal)))[: args.removal]) if "removal" in parts \
            else old["removal"]
        for variant, rows in rm["variants"].items():
            print(f"\nremoval, {variant} ({len(rm['images'])} images, embedded at {TARGET_PSNR_DB} dB)")
            print(f"{'beta':>6} {'PSNR to marked':>15} {'PSNR to original':>17} {'detected':>9} {'attributed':>11}")
            for row in rows:
                print(f"{row['beta']:>6.2f} {row['psnr_to_marked_db']:>15.2f} {row['psnr_to_original_db']:>17.2f} "
                      f"{row['detection_rate']:>9.2f} {row['attribution_rate']:>11.2f}")
        fg = forgery(root, list(range(1, 25))[: args.forgery]) if "forgery" in parts else old["forgery"]
        print(f"\nforgery (public key, made-up token) on {fg['photos']} Kodak photos at {fg['forgery_psnr_db']} dB: "
              f"present {fg['present']}, attributed to B {fg['attributed_to_B']}, resolved {fg['resolved']}, "
              f"statuses {fg['statuses']}, verdicts {fg['verdicts']}")
    load1 = os.getloadavg()
    earlier = old.get("load_average") or ({p: {"start": old["load_average_start"], "end": old["load_average_end"]}
                                            for p in ("scan", "removal", "forgery")} if "load_average_start" in old else {})
    loads = earlier | {part: {"start": load0, "end": load1} for part in parts}
    result = {"scan": st, "removal": rm, "forgery": fg, "load_average": loads, "parts_run_last": sorted(parts),
              "seconds": round(time.time() - t0, 1), "cpu": cpu_model(), "python": sys.version.split()[0],
              "platform": platform.platform(), "nice": os.nice(0), "date": datetime.now(UTC).isoformat(timespec="seconds")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "federation_scan.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"\nload average start {load0}, end {load1}; wrote {RESULTS / 'federation_scan.json'}")


if __name__ == "__main__":
    main()
