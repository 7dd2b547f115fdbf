"""Consent-gate matching benchmark: same-person match rate, different-person false-match rate, time per check.

    .venv/bin/python bench/consent.py [--extra-faces DIR] [--out bench/results/consent.json]

Faces (dlib ResNet, Euclidean distance, threshold FACE_CARD.threshold):
  - the Kodak photos with a frontal face (tests/data/kodak: kodim04, 15, 17, 18: four different people);
  - with ``--extra-faces DIR`` (``scripts/bench_faces.sh DIR`` extracts the public-domain photos that the
    face_recognition sdist ships as test data: obama.jpg, obama2.jpg, obama3.jpg, biden.jpg), genuine pairs of
    *different photos* of one person: files named PERSON.jpg / PERSON2.jpg ... are one person;
  - every photo also after JPEG quality 50, after resizing to 0.5, and both.
  Genuine pairs: a photo against its own degraded copies and against other photos of the same person.
  Impostor pairs: every pair of different people, originals and degraded copies.
Voices (resemblyzer GE2E in numpy, cosine, threshold VOICE_CARD.threshold): espeak-ng "speakers" (a voice
  variant plus a pitch), each saying three different sentences at different speeds, also after MP3 64 kbit/s.
  Genuine: same speaker, different sentence (and MP3 copies); impostor: different speakers.
Time per check: the consent gate end to end (decode, detect/VAD, embed, match against the enrolled gallery, grant
  lookup) on one SQLite database, median of the runs.
"""

from __future__ import annotations

import os

from _machine import cpu_model  # bench/ is on sys.path when run

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import io
import itertools
import json
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from synthguard.consent import faces, likeness, voices  # noqa: E402
from synthguard.media import Media  # noqa: E402

KODAK_FACES = {"kodim04": "kodak-woman-hat", "kodim15": "kodak-girl-facepaint", "kodim17": "kodak-statue-woman",
               "kodim18": "kodak-woman-dress"}
SPEAKERS = [("en+m1", 45), ("en+m3", 50), ("en+m7", 40), ("en+f2", 60), ("en+f4", 70), ("en-us+m2", 55),
            ("en-gb-scotland+m4", 48), ("en+f5", 80)]
SENTENCES = [("The quick brown fox jumps over the lazy dog beside the quiet river.", 150),
             ("I agree that this service may use my voice only for the avatar we discussed.", 135),
             ("Seven blue birds sang on the wire while the morning train rolled past the station.", 165)]


def jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def variants(img: Image.Image) -> dict[str, bytes]:
    half = img.resize((img.width // 2, img.height // 2), Image.BILINEAR)
    return {"jpeg50": jpeg(img, 50), "resize0.5": jpeg(half, 95), "resize0.5+jpeg50": jpeg(half, 50)}


def face_set(extra: Path | None) -> list[tuple[str, str, str, bytes]]:
    """(person, photo, variant, bytes)."""
    items: list[tuple[str, str, str, bytes]] = []
    photos = [(KODAK_FACES[p.stem], p) for p in sorted((ROOT / "tests/data/kodak").glob("*.png"))
              if p.stem in KODAK_FACES]
    if extra:
        photos += [(re.sub(r"\d+$", "", p.stem), p) for p in sorted(extra.glob("*.jpg"))]
    for person, path in photos:
        img = Image.open(path)
        items.append((person, path.stem, "original", path.read_bytes()))
        items += [(person, path.stem, v, data) for v, data in variants(img).items()]
    return items


def face_embeddings(items):
    out, times, missed = [], [], []
    for person, photo, variant, data in items:
        t0 = time.perf_counter()
        found = faces.faces(Media.from_bytes(data, f"{photo}-{variant}"))
        times.append(time.perf_counter() - t0)
        good = [f for f in found if f.identifiable]
        if not good:
            missed.append(f"{photo}/{variant}")
            continue
        out.append((person, photo, variant, good[0].embedding))  # largest face
    return out, times, missed


def pair_stats(embs, card, *, genuine_rule):
    gen, imp = [], []
    for (p1, ph1, v1, e1), (p2, ph2, v2, e2) in itertools.combinations(embs, 2):
        score = card.score(e1, e2)
        if p1 == p2:
            if genuine_rule(ph1, v1, ph2, v2):
                gen.append(score)
        else:
            imp.append(score)
    def rate(xs):
        return round(sum(card.matches(x) for x in xs) / len(xs), 4) if xs else None
    def summary(xs):
        return {"n": len(xs), "min": round(min(xs), 4), "median": round(statistics.median(xs), 4),
                "max": round(max(xs), 4)} if xs else {"n": 0}
    from dataclasses import replace

    grid = (0.5, 0.55, 0.6, 0.65) if card.metric == "euclidean" else (0.8, 0.85, 0.88, 0.9, 0.92, 0.94)
    sweep = {}
    for thr in grid:
        c = replace(card, threshold=thr)
        sweep[str(thr)] = {"match": round(sum(c.matches(x) for x in gen) / max(len(gen), 1), 4),
                           "false_match": round(sum(c.matches(x) for x in imp) / max(len(imp), 1), 4)}
    return {"threshold": card.threshold, "metric": card.metric, "genuine_pairs": summary(gen),
            "impostor_pairs": summary(imp), "same_person_match_rate": rate(gen),
            "different_person_false_match_rate": rate(imp), "sweep": sweep}


def speak(tmp: Path, name: str, text: str, voice: str, pitch: int, speed: int) -> bytes:
    path = tmp / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(path), text],
                   check=True, capture_output=True)
    return path.read_bytes()


def mp3_64k(wav: bytes) -> bytes:
    import av

    from synthguard.codecs.av import audio_samples

    x = audio_samples(Media.from_bytes(wav, "x.wav"), 22050)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as out:
        st = out.add_stream("libmp3lame", rate=22050, layout="mono")
        st.bit_rate = 64000
        frame = av.AudioFrame.from_ndarray((np.clip(x, -1, 1) * 32767).astype(np.int16)[None, :], format="s16",
                                           layout="mono")
        frame.rate = 22050
        for pkt in st.encode(frame):
            out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)
    return buf.getvalue()


def voice_set(tmp: Path):
    items = []
    for (voice, pitch), (i, (text, speed)) in itertools.product(SPEAKERS, enumerate(SENTENCES)):
        wav = speak(tmp, f"{voice}-{pitch}-{i}", text, voice, pitch, speed)
        items.append((f"{voice}/p{pitch}", f"s{i}", "wav", wav))
        items.append((f"{voice}/p{pitch}", f"s{i}", "mp3-64k", mp3_64k(wav)))
    return items


def voice_embeddings(items):
    out, times = [], []
    for person, clip, variant, data in items:
        t0 = time.perf_counter()
        vp = voices.embed_media(Media.from_bytes(data, f"{clip}.{variant}"))
        times.append(time.perf_counter() - t0)
        out.append((person, clip, variant, vp.embedding))
    return out, times


def gate_timing(face_items, voice_items) -> dict[str, float]:
    from synthguard.config import Settings
    from synthguard.core import SynthGuard
    from synthguard.keys import init_keys

    home = Path(tempfile.mkdtemp(prefix="sg-bench-consent-"))
    try:
        settings = Settings.load(home=home, database_url=f"sqlite:///{home / 'db.sqlite'}")
        init_keys(settings)
        with SynthGuard.open(settings) as sg:
            originals = [(p, d) for p, _, v, d in face_items if v == "original"]
            for i, (_, data) in enumerate(originals):
                sg.consent.enroll(f"f{i}", faces=[Media.from_bytes(data, "ref")])
            wavs = [d for _, c, v, d in voice_items if v == "wav" and c == "s0"]
            for i, data in enumerate(wavs):
                sg.consent.enroll(f"v{i}", voices=[Media.from_bytes(data, "ref.wav")])
            probe_face = Media.from_bytes(face_items[1][3], "probe.jpg")
            probe_voice = Media.from_bytes([d for _, c, v, d in voice_items if c == "s1"][0], "probe.wav")
            out = {}
            for name, probe, purpose in (("face_check_seconds", probe_face, "face_swap"),
                                         ("voice_check_seconds", probe_voice, "voice_clone")):
                runs = []
                for _ in range(5):
                    m = Media.from_bytes(probe.data, probe.name)
                    t0 = time.perf_counter()
                    sg.consent_gate.check([m], purpose=purpose, user="u-bench")
                    runs.append(time.perf_counter() - t0)
                out[name] = round(statistics.median(runs), 4)
            out["gallery"] = {"faces": len(originals), "voices": len(wavs)}
            return out
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra-faces", type=Path, help="dir from scripts/bench_faces.sh (same-person photo pairs)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/consent.json")
    args = ap.parse_args()
    cards = likeness.cards()
    face_items = face_set(args.extra_faces)
    femb, ftimes, missed = face_embeddings(face_items)
    faces_res = pair_stats(femb, cards["face"], genuine_rule=lambda a, va, b, vb: True)
    faces_res["cross_photo_genuine"] = pair_stats(
        [e for e in femb if e[2] == "original"], cards["face"], genuine_rule=lambda a, va, b, vb: a != b
    )["same_person_match_rate"]
    faces_res |= {"photos": sorted({(p, ph) for p, ph, _, _ in face_items}), "not_identified": missed,
                  "seconds_per_image_detect_embed": round(statistics.median(ftimes), 4)}
    with tempfile.TemporaryDirectory() as tmp:
        voice_items = voice_set(Path(tmp))
    vemb, vtimes = voice_embeddings(voice_items)
    voices_res = pair_stats(vemb, cards["voice"], genuine_rule=lambda a, va, b, vb: a != b or va != vb)
    voices_res |= {"speakers": len(SPEAKERS), "clips": len(voice_items),
                   "seconds_per_clip_embed": round(statistics.median(vtimes), 4)}
    result = {"faces": faces_res, "voices": voices_res, "gate": gate_timing(face_items, voice_items),
              "model_sha256": {"face": likeness.model_sha256("face"), "voice": likeness.model_sha256("voice")},
              "machine": {"cpu": cpu_model(), "python": platform.python_version(), "cores": os.cpu_count(),
                          "note": "2 cores shared with other workers; times are wall-clock medians"}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for kind in ("faces", "voices"):
        r = result[kind]
        print(f"{kind:6s} thr {r['threshold']}: same-person match {r['same_person_match_rate']} "
              f"(n={r['genuine_pairs']['n']}), false match {r['different_person_false_match_rate']} "
              f"(n={r['impostor_pairs']['n']}); genuine median {r['genuine_pairs'].get('median')}, "
              f"impostor median/extreme {r['impostor_pairs'].get('median')}/"
              f"{r['impostor_pairs'].get('min' if r['metric'] == 'euclidean' else 'max')}")
    print(f"gate: {result['gate']}")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
