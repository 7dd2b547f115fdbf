"""Issue 25, detection speed: CPU time of ``AudioWatermarker.detect`` per case, and its decisions.

Cases: the room bench's corpus (``watermark_audio_room.corpus``) marked and read unedited, after speed 1.1, after a
room (RT60 0.6 s, 0 dB DRR) and after MP3 64k, plus the same clips unmarked (the platform's common case, which runs
every stage).  Each detection is timed ``--repeats`` times (CPU time of one thread, the median kept) with the scale
search off (as deployed by default) and, with ``--scale``, on.  The decisions (detected, payload, layer, score
rounded to 0.01) are written beside the timings so that a speed change can be checked against a saved run:
``--compare FILE`` fails (exit 1) if any case is found in FILE and not now, or its payload changed.

    PYTHONPATH=src nice -n 15 .venv/bin/python bench/watermark_audio_speed.py --clips 8 [--scale] [--compare F]
    PYTHONPATH=src nice -n 15 .venv/bin/python bench/watermark_audio_speed.py --clips 2 --profile unmarked

Writes bench/results/watermark_audio_speed.json unless ``--out``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import RESULTS, cpu_model, single_thread  # noqa: E402

single_thread()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
from watermark_audio_room import KEY, PAYLOAD, _mp3, corpus  # noqa: E402

from synthguard.marking.audio import attacks as edit  # noqa: E402
from synthguard.marking.watermark.audio import AudioWatermarker  # noqa: E402

EDITS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "none": lambda y, r: y, "speed_1.1": lambda y, r: edit.speed(y, r, 1.1),
    "room_rt0.6": lambda y, r: edit.room(y, r, 0.6, seed=2), "mp3_64k": _mp3,
}


def cases(n: int) -> list[tuple[str, str, np.ndarray, int]]:
    """(clip, case, samples, rate): every clip marked through each edit, then the clip unmarked."""
    wm = AudioWatermarker(KEY)
    out = []
    for name, x, rate in corpus(n):
        y = wm.embed(x, rate, PAYLOAD)
        mono = y.mean(axis=1) if y.ndim == 2 else y
        for en, e in EDITS.items():
            out.append((name, en, np.asarray(e(mono, rate), np.float64), rate))
        out.append((name, "unmarked", np.asarray(x, np.float64), rate))
    return out


def decision(res) -> dict:  # noqa: ANN001 - AudioWatermarkResult
    return {"detected": bool(res.detected), "payload": res.payload.hex() if res.payload else None,
            "layer": res.layer if res.detected else None, "score": round(float(res.score), 2)}


def measure(args: argparse.Namespace) -> dict:
    wm = AudioWatermarker(KEY)
    rows = []
    for clip, case, x, rate in cases(args.clips):
        for scale in ((False, True) if args.scale else (False,)):
            times = []
            for _ in range(args.repeats):
                t0 = time.process_time()
                res = wm.detect(x, rate, scale_search=scale)
                times.append(time.process_time() - t0)
            seconds = len(x) / rate
            rows.append({"clip": clip, "case": case, "scale_search": scale, **decision(res),
                         "x_realtime": round(seconds / float(np.median(times)), 1)})
            print(f"{clip:18s} {case:10s} scale {scale!s:5s} {rows[-1]}", flush=True)
    summary = {}
    for scale in sorted({r["scale_search"] for r in rows}):
        sel = [r for r in rows if r["scale_search"] == scale]
        group = {"unmarked": [r for r in sel if r["case"] == "unmarked"],
                 "marked_unedited": [r for r in sel if r["case"] == "none"],
                 "marked_edited": [r for r in sel if r["case"] not in ("none", "unmarked")],
                 "marked_all": [r for r in sel if r["case"] != "unmarked"]}
        summary[f"scale_search_{str(scale).lower()}"] = {
            k: {"median_x_realtime": float(np.median([r["x_realtime"] for r in v])),
                "found": sum(r["payload"] == PAYLOAD.hex() and r["detected"] for r in v), "n": len(v)}
            for k, v in group.items()}
    return {"clips": args.clips, "repeats": args.repeats, "summary": summary, "rows": rows}


def compare(now: dict, path: str) -> list[str]:
    """Cases found before and not now, or read with another payload: what a speed change must not cause."""
    key = ("clip", "case", "scale_search")
    before = {tuple(r[k] for k in key): r for r in json.loads(Path(path).read_text())["result"]["rows"]}
    worse = []
    for r in now["rows"]:
        b = before.get(tuple(r[k] for k in key))
        if b is None:
            continue
        if (b["detected"] and not r["detected"]) or (r["detected"] and r["payload"] != b["payload"]) or (
                r["detected"] and not b["detected"] and r["case"] == "unmarked"):
            worse.append(f"{r['clip']} {r['case']} scale {r['scale_search']}: {b} -> {r}")
        elif b != {**r, "x_realtime": b["x_realtime"]}:
            print(f"changed (not worse): {r['clip']} {r['case']}: score {b['score']} -> {r['score']}, "
                  f"layer {b['layer']} -> {r['layer']}")
    return worse


def profile(args: argparse.Namespace) -> None:
    wm = AudioWatermarker(KEY)
    sel = [c for c in cases(args.clips) if c[1] == args.profile]
    prof = cProfile.Profile()
    prof.enable()
    for _clip, _case, x, rate in sel:
        wm.detect(x, rate, scale_search=args.scale)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scale", action="store_true", help="also time detect with the scale search on")
    ap.add_argument("--compare", default=None, help="a saved run: fail if a decision got worse")
    ap.add_argument("--profile", default=None, choices=[*EDITS, "unmarked"], help="cProfile one case instead")
    ap.add_argument("--out", default="watermark_audio_speed.json")
    args = ap.parse_args()
    if args.profile:
        profile(args)
        return
    t0 = time.time()
    result = measure(args)
    meta = {"argv": sys.argv[1:], "cpu": cpu_model(), "wall_seconds": round(time.time() - t0, 1),
            "note": "CPU time of one thread on a shared 2-core host (other jobs running)"}
    (RESULTS / args.out).write_text(json.dumps({"meta": meta, "result": result}, indent=1) + "\n")
    print(json.dumps(result["summary"], indent=1))
    if args.compare:
        worse = compare(result, args.compare)
        print("\n".join(worse) or "decisions: none worse")
        sys.exit(1 if worse else 0)


if __name__ == "__main__":
    main()
