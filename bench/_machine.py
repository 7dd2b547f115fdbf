"""Shared by the benchmarks: pin math libraries to one thread and name the CPU in the results."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
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
