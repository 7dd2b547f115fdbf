"""Video (vPDQ) and audio (landmark) fingerprints: hashing speed and match rates under common transformations.

    OMP_NUM_THREADS=1 .venv/bin/python bench/fingerprint_av.py [--videos 8] [--clips 10]

Video: each source is a 10 s, 25 fps, 320x240 H.264 camera move over one Kodak image (tests/data/kodak);
copies are re-encoded (VP8/WebM 250 kb/s at 192x144; MPEG-4 Part 2 at 30 fps 240x180; H.264 120 kb/s at
160x120), mirrored, or cut to the first half.  A copy "matches" when vPDQ's rule holds (both shares >= 0.8 at
distance 31); false matches are counted over every ordered pair of different sources.  Speed is hashing time
(decode + PDQ at 1 fps) of a 30 s 640x360 H.264 video, in multiples of real time.

Audio: each source is a 30 s synthesised music-like clip (tests/test_fingerprint_audio.py: chords, drums, formant
sweep); copies are MP3 128 kb/s, resampled 44.1 -> 22.05 kHz, 20 dB quieter, a 10 s excerpt at a random offset,
the excerpt as 22.05 kHz MP3 64 kb/s, and the excerpt with white noise at 10 dB SNR.  A copy matches when the
matcher says so *and* the offset is right within 0.1 s.  False matches: the 10 s excerpts of every source against
every other source's reference.  Speed: fingerprinting a 30 s WAV (decode + resample + landmarks) and MP3.

Results go to bench/results/fingerprint_av.json.
"""

from __future__ import annotations

import os

from _machine import cpu_model  # bench/ is on sys.path when run

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the media generators live with the tests

from synthguard.fingerprint.audio import AudioHasher  # noqa: I001
from synthguard.fingerprint.video import VideoHasher, match
from synthguard.media import Media
from tests.test_fingerprint_audio import SR, mp3_bytes, resample, synth_music, wav_bytes
from tests.test_fingerprint_video import encode_video, pan_frames, transcode

RESULTS = ROOT / "bench" / "results" / "fingerprint_av.json"
KODAK = [f"kodim{i:02d}.png" for i in range(1, 25)]



def _best_time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


# --- video ------------------------------------------------------------------------------------------------------
VIDEO_COPIES = {
    "vp8_webm_250k_192x144": lambda d: transcode(d, codec="libvpx", container="webm", bit_rate=250_000,
                                                 size=(192, 144)),
    "mpeg4_30fps_240x180": lambda d: transcode(d, codec="mpeg4", bit_rate=400_000, size=(240, 180), fps=30),
    "h264_120k_160x120": lambda d: transcode(d, codec="libx264", bit_rate=120_000, size=(160, 120)),
}


def bench_video(n: int) -> dict:
    hasher = VideoHasher()
    sources = [encode_video(pan_frames(KODAK[i], seconds=10.0), bit_rate=1_500_000) for i in range(n)]
    refs = [hasher.fingerprint(Media.from_bytes(s)) for s in sources]
    rows: dict[str, dict] = {}
    for name, make in VIDEO_COPIES.items():
        ms = [match(hasher.fingerprint(Media.from_bytes(make(s))), r) for s, r in zip(sources, refs, strict=True)]
        rows[name] = _video_row(ms)
    mirrored = []
    for s, r in zip(sources, refs, strict=True):
        frames = [np.ascontiguousarray(f[:, ::-1]) for f in _decode_all(s)]
        mirrored.append(match(hasher.fingerprint(Media.from_bytes(encode_video(frames))), r))
    rows["mirrored (not expected to match)"] = _video_row(mirrored)
    halves = [match(type(r)(frames=r.frames[: len(r.frames) // 2], fps=r.fps), r) for r in refs]
    rows["first half (partial: expected no match)"] = _video_row(halves)
    cross = [match(refs[i], refs[j]) for i in range(n) for j in range(n) if i != j]
    rows["different source (false match)"] = _video_row(cross)

    long_video = encode_video(pan_frames(KODAK[0], seconds=30.0, size=(640, 360)), bit_rate=2_000_000)
    media = Media.from_bytes(long_video)
    speed = {f"{fps:g} fps": 30.0 / _best_time(lambda fps=fps: VideoHasher(fps=fps).fingerprint(media))
             for fps in (1.0, 4.0)}
    size = len(hasher.hash(media).value)
    return {"sources": n, "rows": rows, "x_realtime_640x360_h264": speed, "hash_json_bytes_30s": size}


def _decode_all(data: bytes) -> list[np.ndarray]:
    import io

    import av

    with av.open(io.BytesIO(data)) as src:
        return [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]


def _video_row(ms) -> dict:
    return {"pairs": len(ms), "match_rate": float(np.mean([m.is_match for m in ms])),
            "mean_query_share": float(np.mean([m.query_share for m in ms])),
            "min_query_share": float(np.min([m.query_share for m in ms])),
            "max_query_share": float(np.max([m.query_share for m in ms])),
            "mean_target_share": float(np.mean([m.target_share for m in ms]))}


# --- audio ------------------------------------------------------------------------------------------------------
def bench_audio(n: int) -> dict:
    hasher = AudioHasher()
    rng = np.random.default_rng(0)
    clips = [synth_music(100 + i) for i in range(n)]
    refs = [hasher.fingerprint(Media.from_bytes(wav_bytes(x))) for x in clips]
    starts = rng.uniform(0, 20, n)
    excerpts = [x[int(s * SR): int((s + 10) * SR)] for x, s in zip(clips, starts, strict=True)]

    def noisy(e: np.ndarray) -> np.ndarray:
        return e + rng.standard_normal(len(e)).astype(np.float32) * np.std(e) / np.sqrt(10.0)

    copies = {
        "mp3_128k": lambda i: (mp3_bytes(clips[i]), 0.0),
        "resampled_22.05k": lambda i: (wav_bytes(resample(clips[i], 1, 2), SR // 2), 0.0),
        "volume_-20dB": lambda i: (wav_bytes(0.1 * clips[i]), 0.0),
        "excerpt_10s_of_30s": lambda i: (wav_bytes(excerpts[i]), starts[i]),
        "excerpt_mp3_64k_22.05k": lambda i: (mp3_bytes(resample(excerpts[i], 1, 2), SR // 2, 64_000), starts[i]),
        "excerpt_noise_10dB_snr": lambda i: (wav_bytes(noisy(excerpts[i])), starts[i]),
    }
    rows: dict[str, dict] = {}
    for name, make in copies.items():
        results = []
        for i in range(n):
            data, offset = make(i)
            m = hasher.query(Media.from_bytes(data), refs[i])
            results.append((m.is_match and abs(m.offset - offset) < 0.1, m))
        rows[name] = _audio_row(results)
    cross = []
    for i in range(n):
        x = hasher.samples(Media.from_bytes(wav_bytes(excerpts[i])))
        cross += [(hasher.match_samples(x, refs[j]).is_match, hasher.match_samples(x, refs[j]))
                  for j in range(n) if j != i]
    rows["different source (false match)"] = _audio_row(cross)

    wav, mp3 = Media.from_bytes(wav_bytes(clips[0])), Media.from_bytes(mp3_bytes(clips[0]))
    speed = {"wav_44.1k": 30.0 / _best_time(lambda: hasher.fingerprint(wav)),
             "mp3_128k": 30.0 / _best_time(lambda: hasher.fingerprint(mp3)),
             "query_4_shifts_wav": 30.0 / _best_time(lambda: hasher.query(wav, refs[0]))}
    return {"sources": n, "rows": rows, "x_realtime_30s": speed,
            "landmarks_per_second": float(np.mean([len(r) for r in refs]) / 30.0),
            "hash_hex_bytes_30s": len(hasher.hash(wav).value)}


def _audio_row(results) -> dict:
    ms = [m for _, m in results]
    return {"pairs": len(ms), "match_rate": float(np.mean([ok for ok, _ in results])),
            "median_votes": float(np.median([m.votes for m in ms])), "min_votes": int(min(m.votes for m in ms)),
            "max_votes": int(max(m.votes for m in ms)), "median_score": float(np.median([m.score for m in ms]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--videos", type=int, default=8)
    ap.add_argument("--clips", type=int, default=10)
    args = ap.parse_args()
    t0 = time.perf_counter()
    video = bench_video(args.videos)
    audio = bench_audio(args.clips)
    print(f"\nvideo (vPDQ, 1 fps, distance 31, shares >= 0.8), {args.videos} sources")
    print(f"{'copy':42} {'pairs':>5} {'match':>6} {'q-share mean/min/max':>22}")
    for name, r in video["rows"].items():
        print(f"{name:42} {r['pairs']:5d} {r['match_rate']:6.0%} "
              f"{r['mean_query_share']:8.2f}/{r['min_query_share']:.2f}/{r['max_query_share']:.2f}")
    print("hashing speed (x real time, 640x360 H.264):",
          ", ".join(f"{k}: {v:.0f}x" for k, v in video["x_realtime_640x360_h264"].items()))
    print(f"\naudio (landmarks at 8 kHz), {args.clips} sources, "
          f"{audio['landmarks_per_second']:.0f} landmarks/s")
    print(f"{'copy':42} {'pairs':>5} {'match':>6} {'votes med/min/max':>20} {'score':>6}")
    for name, r in audio["rows"].items():
        print(f"{name:42} {r['pairs']:5d} {r['match_rate']:6.0%} "
              f"{r['median_votes']:8.0f}/{r['min_votes']}/{r['max_votes']:<6} {r['median_score']:6.3f}")
    print("hashing speed (x real time, 30 s):", ", ".join(f"{k}: {v:.0f}x" for k, v in audio["x_realtime_30s"].items()))
    out = {"machine": {"cpu": cpu_model(), "python": platform.python_version(), "threads": 1},
           "video": video, "audio": audio, "seconds": round(time.perf_counter() - t0, 1)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)} in {out['seconds']} s")


if __name__ == "__main__":
    main()
