"""How the audio mark's power budget is split between v2 and the room layer, and what each split costs (issue 25).

Not run by CI.  Usage (from the project root):

    PYTHONPATH=src .venv/bin/python bench/watermark_audio_split.py                  # room shares 0.3 0.4 0.5
    PYTHONPATH=src .venv/bin/python bench/watermark_audio_split.py --shares 0.3 0.5 --kinds all

Why.  On the 24-clip bench set the room layer misses rooms and the speaker-mic path only on espeak-ng speech, and
every one of those clips is longer than a room cycle (10.5-24 s).  The cause is the budget: a dry run of the room
layer without a power limit needs 0.20-0.28 of the whole 31-dB budget on the music-like and speech-like clips but
0.70-1.71 of it on speech (``need``), so at its fixed share (1 - ``audio.V2_SHARE`` = 0.3) it is rationed on speech.
Giving it more takes from v2, which is rationed on speech too.  For each room share this measures, on the chosen
clips of bench/watermark_audio.py's corpus (espeak-ng speech by default):

- the room layer alone (``audio_room.read``: gate and CRC) after rooms RT60 0.3 / 0.6 s and the speaker-mic path
  (0 dB direct-to-reverberant), each also followed by MP3 64k;
- the whole deployed detector (scale search on) after speed 0.9 / 1.1, which only v2 can read;
- SNR and v2's clean first-stage z.

Writes bench/results/watermark_audio_split.json (or ``--out``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import RESULTS, cpu_model, git_commit, single_thread  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402

import numpy as np  # noqa: E402
import watermark_audio as wa  # noqa: E402

from synthguard.marking.watermark import audio as wma  # noqa: E402
from synthguard.marking.watermark import audio_room  # noqa: E402

ROOM_EDITS = ("room_rt0.3", "room_rt0.6", "speaker_mic")
SPEED_EDITS = ("speed_0.9", "speed_1.1")


def need(wm: wma.AudioWatermarker, x: np.ndarray, rate: int, payload: bytes) -> float:
    """The room layer's unrationed mark power as a fraction of the whole budget (both layers)."""
    xx = np.asarray(x, np.float64)
    budget = float(np.mean(xx * xx)) * 10 ** (-wm.target_snr_db / 10)
    m = audio_room.mark(wm.room_layout, wma.to_mono_work(xx, rate), payload, math.inf)
    return float(np.mean(m * m)) / budget if m is not None else 0.0


def run_share(share: float, clips, keep: list[str]) -> dict:  # noqa: ANN001 - corpus rows
    """Embed and attack the ``keep`` clips with the room layer at ``share`` of the budget (v2 the rest)."""
    wma.V2_SHARE = 1.0 - share  # the production constant, for this run only
    wm = wma.AudioWatermarker(wa.KEY)
    rng = np.random.default_rng(3)  # the payloads of bench/watermark_audio.py's run_edits
    found: dict[str, list[str]] = {e: [] for e in [*ROOM_EDITS, *(e + "+mp3_64k" for e in ROOM_EDITS), *SPEED_EDITS]}
    snrs, v2_z = [], []
    for name, x, rate in clips:
        payload = rng.bytes(8)
        if name not in keep:
            continue
        y = wm.embed(x, rate, payload)
        snrs.append(wa.snr_db(x, y))
        v2_z.append(wm._detect(y, rate, None).score)
        for e in ROOM_EDITS:
            a = wa.EDITS[e](y, rate)
            for label, b in ((e, a), (e + "+mp3_64k", wa.mp3_64k(a, rate))):
                r = audio_room.read(wm.room_layout, wma._prepare(b, rate)[0])
                if r is not None and r.detected and r.payload == payload:
                    found[label].append(name)
        for e in SPEED_EDITS:
            r = wm.detect(wa.EDITS[e](y, rate), rate)
            if r.detected and r.payload == payload:
                found[e].append(name)
    n = len(snrs)
    return {"room_share": share, "n": n, "found": {e: len(v) / n for e, v in found.items()},
            "missed": {e: [c for c in keep if c not in v] for e, v in found.items()},
            "snr_db_min": float(np.min(snrs)), "v2_clean_z_median": float(np.median(v2_z))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=24, help="the first N clips of the corpus")
    ap.add_argument("--kinds", default="espeak", help="clip name prefix to keep (espeak, music, speechlike) or all")
    ap.add_argument("--shares", type=float, nargs="+", default=[0.3, 0.4, 0.5], help="room-layer shares to try")
    ap.add_argument("--out", type=Path, default=RESULTS / "watermark_audio_split.json")
    args = ap.parse_args(argv)
    clips = wa.corpus(args.clips)
    keep = [c[0] for c in clips if args.kinds == "all" or c[0].startswith(args.kinds)]
    wm, rng = wma.AudioWatermarker(wa.KEY), np.random.default_rng(3)  # the room layer's need: the same for every share
    needs = {name: round(need(wm, x, rate, payload), 3) for (name, x, rate), payload in
             ((c, rng.bytes(8)) for c in clips) if name in keep}
    rows = []
    for share in args.shares:
        rows.append({**run_share(share, clips, keep), "room_need": needs})
        r = rows[-1]
        print(f"room share {share:.2f} (v2 {1 - share:.2f}), {r['n']} clips: SNR min {r['snr_db_min']:.2f} dB, "
              f"v2 clean z median {r['v2_clean_z_median']:.2f}", flush=True)
        for e, f in r["found"].items():
            print(f"  {e:22s} found {f:.2f}  missed {r['missed'][e]}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "clips": keep, "commit": git_commit(),
                                    "command": "bench/watermark_audio_split.py " + " ".join(sys.argv[1:]),
                                    "machine": {"cpu": cpu_model(), "threads": 1}}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
