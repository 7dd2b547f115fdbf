"""Shared by the benchmarks: pin math libraries to one thread and name the CPU in the results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT / "tests" / "data" / "kodak"  # the 24 Kodak photos the image benches measure on
RESULTS = ROOT / "bench" / "results"  # where each bench writes its JSON
if str(ROOT) not in sys.path:  # the benches build their media with the tests' builders (tests/media.py)
    sys.path.insert(0, str(ROOT))
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def single_thread() -> None:
    """Call before importing numpy/cv2 so every figure is per core."""
    for var in THREAD_VARS:
        os.environ[var] = "1"


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def git_commit() -> str | None:
    """The measured code's version: the checkout's commit, ``+src-modified`` when ``src/`` differs from it (a run
    on uncommitted code says so; a merge of parts run on different code says so too)."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=False)
        dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "src"],
                               capture_output=True, timeout=10, check=False).returncode == 1
    except OSError:
        return None
    commit = out.stdout.strip()
    return (commit + ("+src-modified" if dirty else "")) or None


def add_groups(groups: list[dict]) -> dict:
    """Null-test groups of disjoint slices added up: exact counts, detections, maximum score, minimum p-value."""
    return {"count": sum(g["count"] for g in groups), "detections": sum(g["detections"] for g in groups),
            "max_score": max(g["max_score"] for g in groups), "min_p_value": min(g["min_p_value"] for g in groups)}


def merge_by(bys: list[dict]) -> dict:
    """Per-group breakdowns (``{dimension: {group: counts}}``) of disjoint slices, added up with add_groups."""
    grouped: dict[str, dict[str, list[dict]]] = {}
    for by in bys:
        for dim, groups in by.items():
            for key, g in groups.items():
                grouped.setdefault(dim, {}).setdefault(key, []).append(g)
    return {dim: {key: add_groups(gs) for key, gs in groups.items()} for dim, groups in grouped.items()}


def write_merged(paths: list[Path], out: Path, merge: Callable[[list[dict]], dict]) -> int:
    """``--merge`` of the resumable false-positive benches: add up the parts, write ``out``, say what it holds."""
    merged = merge([json.loads(p.read_text()) for p in paths])
    out.write_text(json.dumps(merged, indent=2))
    print(f"{merged['trials_done']} trials over {merged['trial_ranges']}: {merged['detections']} detected, "
          f"max score {merged['max_score']:.2f}; wrote {out}")
    return 0


def half_paths(half: str, step: int) -> list[Path]:
    """Every ``step``-th image of the Kodak and photo sets starting at the half's first (odd: kodim01, p01; even:
    kodim02, p02): step 2 is the whole half, step 4 every other image of it."""
    start = 0 if half == "odd" else 1
    return (sorted((ROOT / "tests" / "data" / "kodak").glob("kodim*.png"))[start::step]
            + sorted((ROOT / "tests" / "data" / "photos").glob("p*.jpg"))[start::step])


def marked_photos(wm, paths: list[Path]):
    """``(path, payload, marked image)`` per path; the payload is derived from the file name."""
    import hashlib

    from PIL import Image

    for path in paths:
        payload = hashlib.sha256(path.name.encode()).digest()[:8]
        yield path, payload, wm.embed(Image.open(path).convert("RGB"), payload)
