"""Benchmark: the installed ``synthguard`` command as a user meets it, one process per run (issue 22).

Targets: ``--help`` and ``--version`` <= 0.2 s; ``inspect``, ``hash`` and ``watermark detect`` of a 1920x1080 JPEG
(labeled: visible label, watermark, metadata, C2PA) <= 0.5 s wall.  Median of 10 runs each, plus the median CPU
time (user + system of the child), which varies less than wall time on a shared machine.  The 1-minute load
average is recorded with the figures.  Prints a table and writes bench/results/cli.json.

Run: ``nice .venv/bin/python bench/cli.py`` (``PYTHONPATH=src`` to measure a source tree instead of the install).
"""

from __future__ import annotations

import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
RUNS = 10
TARGETS = {"--version": 0.2, "--help": 0.2, "inspect": 0.5, "hash": 0.5, "watermark detect": 0.5}


def _cli() -> list[str]:
    """The console script installed beside this interpreter (what `pip install synthguard` puts on PATH)."""
    script = Path(sys.executable).with_name("synthguard")
    found = str(script) if script.exists() else shutil.which("synthguard")
    if not found:
        raise SystemExit("no installed `synthguard` command beside this Python or on PATH")
    return [found]


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _image(path: Path) -> None:
    from PIL import Image

    src = Image.open(ROOT / "tests" / "data" / "kodak" / "kodim05.png").convert("RGB")
    buf = io.BytesIO()
    src.resize((1920, 1080), Image.LANCZOS).save(buf, "JPEG", quality=90)
    path.write_bytes(buf.getvalue())


def _bytecode() -> str:
    """Compile the installed package's bytecode first, as ``pip install`` of a wheel does: with
    PYTHONDONTWRITEBYTECODE set (CI images often set it) an editable install would otherwise compile every
    module on every run, which no installed user pays."""
    import compileall

    import synthguard

    package = Path(synthguard.__file__).parent
    compileall.compile_dir(package, quiet=1)
    return str(package)


def main() -> None:
    cli = _cli()
    compiled = _bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = os.environ | {"SYNTHGUARD_HOME": str(home / "home"), "SYNTHGUARD_PRODUCER": "ACME"}
        src, labeled = home / "gen.jpg", home / "labeled.jpg"
        _image(src)
        for setup in (["keys", "init"], ["users", "add", "u-1"],
                      ["users", "verify", "u-1", "--method", "mobile", "--identifier", "+86 138 0013 8000"],
                      ["label", str(src), "-o", str(labeled), "--user", "u-1"]):
            _run(cli + setup, env)
        cases = {"--version": ["--version"], "--help": ["--help"], "label --help": ["label", "--help"],
                 "inspect": ["inspect", str(labeled)], "hash": ["hash", str(labeled)],
                 "watermark detect": ["watermark", "detect", str(labeled)],
                 "label": ["label", str(src), "-o", str(home / "again.jpg"), "--user", "u-1"]}
        rows = []
        for name, args in cases.items():
            _run(cli + args, env)  # warm the page cache and the bytecode
            runs = [_run(cli + args, env) for _ in range(RUNS if name != "label" else 3)]
            wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            target = TARGETS.get(name)
            rows.append({"command": name, "median_wall_s": round(wall, 3), "min_wall_s": round(min(r[0] for r in runs), 3),
                         "median_cpu_s": round(cpu, 3), "runs": len(runs), "target_s": target,
                         "meets_target": None if target is None else wall <= target})
    result = {"cli": cli[0], "image": "1920x1080 JPEG q90 (kodim05 upscaled), labeled", "cpu": cpu_model(),
              "cores": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2),
              "python": platform.python_version(), "bytecode_compiled": compiled, "rows": rows}
    print(f"cli on {result['cpu']} ({result['cores']} cores, load {result['load_1min']}), {result['image']}")
    print(f"{'command':18} {'wall s':>7} {'min s':>7} {'cpu s':>7} {'target':>7}")
    for r in rows:
        target = f"{r['target_s']:.1f}" if r["target_s"] else "-"
        print(f"{r['command']:18} {r['median_wall_s']:7.3f} {r['min_wall_s']:7.3f} {r['median_cpu_s']:7.3f} {target:>7}")
    out = ROOT / "bench" / "results" / "cli.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
