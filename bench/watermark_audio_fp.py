"""False positives of the audio watermark's whole detector on clean, edited audio (issue 25: 0 in 10,000).

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/watermark_audio_fp.py                                 # 10,000 trials
    .venv/bin/python bench/watermark_audio_fp.py --trials 500 --workers 2
    .venv/bin/python bench/watermark_audio_fp.py --max-seconds 3600 --out part1.json  # as many as fit in an hour
    .venv/bin/python bench/watermark_audio_fp.py --start 4000 --trials 6000 --out part2.json  # the next trials
    .venv/bin/python bench/watermark_audio_fp.py --merge part1.json part2.json            # runs added up
    .venv/bin/python bench/watermark_audio_fp.py --real sample.wav test.mp3 ...           # real recordings too

Why its own bench.  bench/watermark_audio.py's null test cuts 5-s excerpts from its 12 bench clips and detects
without the time/pitch-scale search; the deployed detector (``AudioWatermarker.detect``, scale search on) has
three routes to a detection: v2 offsets, the room layer (only on audio of 9.73 s or more) and the scale search,
which looks hardest exactly where sped-up or pitch-shifted audio arrives.  So each trial here draws:

- a clean source, cut to 5-15 s after the edit (about half the trials are long enough for the room layer):
  espeak-ng speech (six voices, random rate and pitch, sentences in random order), music-like or
  speech-like synthesis (random seed and sample rate), white or pink noise, or an excerpt of a ``--real``
  recording;
- an edit: none, MP3 64k, speed, tempo or pitch by a factor drawn from 0.85-1.15 (the search range), a room with
  RT60 0.3 or 0.6 s, or the speaker-to-microphone path; then MP3 64k on a third of the edited trials;
- a fresh random key (the bound holds over the key, so drawing both estimates what any deployment's key sees).

Trial ``j`` is a function of ``(--seed, j)`` only: a run is reproducible whatever ``--workers`` is, a shorter run
is a prefix of a longer one, and ``--start`` runs a later slice, so the 10,000 can be run in parts; ``--merge``
adds up parts with the same seed and disjoint ranges.

Writes bench/results/watermark_audio_fp.json (or ``--out``).
"""

from __future__ import annotations

from _machine import RESULTS, cpu_model, git_commit, merge_by, single_thread, write_merged  # noqa: E402  (bench/ is on sys.path when run)

single_thread()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from watermark_audio import SENTENCES, espeak  # noqa: E402

from synthguard.codecs.audio import encode_lossy  # noqa: E402
from synthguard.marking.audio import attacks as edit  # noqa: E402
from synthguard.marking.audio.io import decode_bytes, music_like, speech_like  # noqa: E402
from synthguard.marking.watermark.audio import AudioWatermarker  # noqa: E402

VOICES = ("en", "en-us", "cmn", "de", "fr", "es")  # non-Mandarin voices read the English sentences
SOURCES = ("speech", "speech", "music", "speechlike", "noise", "real")
EDITS = ("none", "mp3", "speed", "tempo", "pitch", "room", "speaker_mic")
RATES = (8000, 16000, 22050, 44100, 48000)
CHECKPOINT = 100  # trials between progress lines and saves
REAL: list[tuple[str, np.ndarray, int]] = []  # --real recordings, loaded by main() before the workers fork


def _source(rng: np.random.Generator, seconds: float) -> tuple[str, np.ndarray, int]:
    kind = SOURCES[int(rng.integers(len(SOURCES)))]
    if kind == "real" and not REAL:
        kind = "speech"
    if kind == "speech":
        voice = VOICES[int(rng.integers(len(VOICES)))]
        texts = SENTENCES["cmn" if voice == "cmn" else "en"]
        parts, rate, total = [], 22050, 0.0
        while total < seconds:
            x, rate = espeak(str(rng.choice(texts)), voice, int(rng.integers(120, 200)), int(rng.integers(20, 80)))
            parts.append(x)
            total += len(x) / rate
        return f"speech-{voice}", np.concatenate(parts)[: int(seconds * rate)], rate
    if kind in ("music", "speechlike"):
        rate = RATES[int(rng.integers(len(RATES)))]
        seed = int(rng.integers(1 << 30))
        x = music_like(seconds, rate, seed=seed) if kind == "music" else speech_like(seconds, rate, seed=seed)
        return kind, x, rate
    if kind == "noise":
        rate = 16000
        white = rng.normal(0.0, 0.1, int(seconds * rate))
        if rng.random() < 0.5:
            return "noise-white", white.astype(np.float32), rate
        spec = np.fft.rfft(white)
        spec[1:] /= np.sqrt(np.arange(1, len(spec)))  # 1/f power
        pink = np.fft.irfft(spec, len(white))
        return "noise-pink", (0.1 * pink / (pink.std() + 1e-12)).astype(np.float32), rate
    name, x, rate = REAL[int(rng.integers(len(REAL)))]
    n = min(len(x), int(seconds * rate))
    a = int(rng.integers(0, len(x) - n + 1))
    return f"real-{name}", x[a:a + n], rate


def _mp3(x: np.ndarray, rate: int) -> np.ndarray:
    y = decode_bytes(encode_lossy(x, rate, "mp3", 64_000)).samples
    return y.mean(axis=1) if y.ndim == 2 else y


def make_trial(seed: int, j: int) -> tuple[np.ndarray, int, dict]:
    """Trial ``j``'s clean, edited audio and what was done to it (a pure function of ``seed`` and ``j``)."""
    rng = np.random.default_rng([seed, j])
    seconds = float(rng.uniform(5.0, 15.0))  # the length detected: sources are drawn longer and cut after the edit
    source, x, rate = _source(rng, seconds * 1.16)
    x = x.mean(axis=1) if x.ndim == 2 else x
    kind = EDITS[int(rng.integers(len(EDITS)))]
    factor = float(np.exp(rng.uniform(np.log(0.85), np.log(1.15))))
    rt60 = (0.3, 0.6)[int(rng.integers(2))]
    if kind == "mp3":
        x = _mp3(x, rate)
    elif kind in ("speed", "tempo", "pitch"):
        x = getattr(edit, kind)(x, rate, factor)
    elif kind == "room":
        x = edit.room(x, rate, rt60, seed=int(rng.integers(1 << 20)))
    elif kind == "speaker_mic":
        x = edit.speaker_mic(x, rate, seed=int(rng.integers(1 << 20)))
    then_mp3 = kind not in ("none", "mp3") and rng.random() < 1 / 3
    if then_mp3:
        x = _mp3(x, rate)
    x = x[: int(seconds * rate)]
    meta = {"source": source, "rate": rate, "seconds": round(len(x) / rate, 3), "edit": kind,
            "factor": factor if kind in ("speed", "tempo", "pitch") else None,
            "rt60": rt60 if kind == "room" else None, "then_mp3": then_mp3}
    return np.asarray(x, np.float32), rate, meta


def _key(seed: int, j: int) -> bytes:
    return hashlib.sha256(b"audio fp key %d %d" % (seed, j)).digest()


def _one(args: tuple[int, int]) -> dict:
    seed, j = args
    x, rate, meta = make_trial(seed, j)
    t = time.process_time()
    r = AudioWatermarker(_key(seed, j)).detect(x, rate)  # as deployed with the scale search on
    meta.update(j=j, detected=bool(r.detected), score=float(r.score), p_value=float(r.p_value),
                layer=r.layer, detect_cpu_s=time.process_time() - t)
    return meta


def _group(rows: list[dict]) -> dict:
    return {"count": len(rows), "detections": int(sum(r["detected"] for r in rows)),
            "max_score": float(max(r["score"] for r in rows)), "min_p_value": float(min(r["p_value"] for r in rows))}


def summarise(rows: list[dict]) -> dict:
    by = {k: {v: _group([r for r in rows if r[k] == v]) for v in sorted({r[k] for r in rows})}
          for k in ("source", "edit")}
    long_rows = [r for r in rows if r["seconds"] >= 9.73]
    cpu = np.array([r["detect_cpu_s"] for r in rows])
    secs = np.array([r["seconds"] for r in rows])
    return {**_group(rows), "room_layer_read": len(long_rows), "by": by,
            "detect_x_realtime_median": float(np.median(secs / np.maximum(cpu, 1e-9))),
            "detect_cpu_s_median": float(np.median(cpu)),
            "worst": sorted(rows, key=lambda r: -r["score"])[:5]}


def merge(parts: list[dict]) -> dict:
    if len({(p["seed"], tuple(p["real"])) for p in parts}) != 1:
        raise SystemExit("--merge: the parts differ in seed or real recordings")
    ranges = sorted(tuple(r) for p in parts for r in p["trial_ranges"])
    if any(a[1] > b[0] for a, b in zip(ranges, ranges[1:], strict=False)):
        raise SystemExit(f"--merge: overlapping trial ranges {ranges}")
    total = sum(p["trials_done"] for p in parts)
    return {**{k: parts[0][k] for k in ("seed", "real")}, "trials_done": total, "trial_ranges": [list(r) for r in ranges],
            "detections": sum(p["detections"] for p in parts), "max_score": max(p["max_score"] for p in parts),
            "min_p_value": min(p["min_p_value"] for p in parts),
            "room_layer_read": sum(p["room_layer_read"] for p in parts),
            "commits": sorted({c for p in parts for c in p.get("commits", [p.get("commit")]) if c}),
            "by": merge_by([p["by"] for p in parts if "by" in p]),
            "parts": [{k: leaf[k] for k in ("trial_ranges", "detections", "max_score", "detect_x_realtime_median",
                                            "machine")}
                      for part in parts for leaf in part.get("parts", [part])]}  # a merged report merges again


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--start", type=int, default=0, help="first trial index (a later slice of the same sequence)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=None, help="stop after this much wall time")
    ap.add_argument("--real", nargs="*", default=[], help="real recordings to draw excerpts from")
    ap.add_argument("--merge", type=Path, nargs="+", default=None, help="add up these reports instead of running")
    ap.add_argument("--out", type=Path, default=RESULTS / "watermark_audio_fp.json")
    args = ap.parse_args(argv)
    if args.merge:
        return write_merged(args.merge, args.out, merge)
    for path in args.real:
        a = decode_bytes(Path(path).read_bytes(), name=path)
        REAL.append((Path(path).name, a.samples.mean(axis=1) if a.samples.ndim == 2 else a.samples, a.rate))
    rows: list[dict] = []
    t0 = time.perf_counter()
    commit = git_commit()  # the detector the run started on
    command = " ".join(["bench/watermark_audio_fp.py", *(sys.argv[1:] if argv is None else argv)])

    def save() -> dict:
        """Write what has finished (every CHECKPOINT trials and at the end, so a stopped run keeps its prefix)."""
        summary = summarise(rows)
        doc = {"seed": args.seed, "real": [Path(p).name for p in args.real], "trials_done": len(rows),
               "trial_ranges": [[args.start, args.start + len(rows)]], "commit": commit, **summary,
               "wall_s": time.perf_counter() - t0, "command": command,
               "machine": {"cpu": cpu_model(), "python": platform.python_version(), "workers": args.workers,
                           "threads": 1}}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1))
        tmp.replace(args.out)
        return summary

    jobs = [(args.seed, j) for j in range(args.start, args.start + args.trials)]
    with Pool(args.workers) as procs:
        try:
            for row in procs.imap(_one, jobs, chunksize=2):
                rows.append(row)
                if row["detected"]:
                    print(f"  DETECTED trial {row['j']}: {row}", flush=True)
                if len(rows) % CHECKPOINT == 0:
                    save()
                    print(f"  {len(rows)} trials, {sum(r['detected'] for r in rows)} detected, "
                          f"max score {max(r['score'] for r in rows):.2f}", flush=True)
                if args.max_seconds and time.perf_counter() - t0 > args.max_seconds:
                    break
        except KeyboardInterrupt:
            print("  interrupted: keeping the trials that finished", flush=True)
        procs.terminate()
    if not rows:
        raise SystemExit("no trial finished")
    summary = save()
    print(f"{len(rows)} trials: {summary.get('detections')} detected, max score {summary.get('max_score', 0):.2f}, "
          f"room layer read on {summary.get('room_layer_read')}; detect {summary.get('detect_x_realtime_median', 0):.1f}x "
          f"real time (median); wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
