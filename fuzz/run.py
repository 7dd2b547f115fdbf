"""Coverage-guided fuzzing with atheris: every target of fuzz/targets.py for a bounded time, one process each.

    .venv/bin/python fuzz/run.py                      # every target, 30 s each (what `make fuzz` runs)
    .venv/bin/python fuzz/run.py --seconds 600 aigc_json xmp_packet
    .venv/bin/python fuzz/run.py --seconds 3600 --jobs 2   # the long run: an hour per target, 2 at a time

``<target>@structured`` runs the target on inputs from its structure-aware generator (fuzz/formats.py): atheris
mutates the bytes hypothesis draws its choices from (``fuzz_one_input``), so every input is a well-formed but
hostile tree rather than random bytes.

A crash (any exception but SynthGuardError, a timeout, an out-of-memory) stops that target and leaves the
input in fuzz/findings/<target>-crash-*; keep it as a regression case in tests/test_fuzz_parsers.py once fixed.
The corpus grows in fuzz/corpus/<target>/ (seeded from ``targets.seeds()``).  A summary with executions per
target goes to fuzz/findings/summary.json; the exit status is 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def child(name: str, seconds: int, findings: Path) -> None:
    import atheris

    sys.path.insert(0, str(ROOT))
    with atheris.instrument_imports(include=["synthguard", "fuzz"]):
        import synthguard.codecs.text  # noqa: F401
        import synthguard.codecs.text.ooxml  # noqa: F401
        import synthguard.law.incident  # noqa: F401
        import synthguard.marking.audio.metadata  # noqa: F401
        import synthguard.marking.c2pa  # noqa: F401
        import synthguard.marking.image.containers  # noqa: F401
        import synthguard.marking.image.metadata  # noqa: F401
        import synthguard.marking.image.xmp  # noqa: F401
        import synthguard.marking.text.frontmatter  # noqa: F401
        import synthguard.marking.video.metadata  # noqa: F401
        import synthguard.marking.watermark.payload  # noqa: F401
        import synthguard.moderation.policy  # noqa: F401
        from fuzz.targets import run, seeds, structured

    corpus = HERE / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    target, _, mode = name.partition("@")
    if mode == "structured":
        from hypothesis import HealthCheck, given, settings

        @settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @given(structured()[target])
        def drawn(data: bytes) -> None:
            run(target, data)

        one = drawn.hypothesis.fuzz_one_input  # type: ignore[attr-defined]
    else:
        for i, seed in enumerate(seeds(target)[target]):
            (corpus / f"seed-{i}").write_bytes(seed)

        def one(data: bytes) -> None:
            run(target, data)

    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", "-timeout=20", "-rss_limit_mb=3072",
                   "-max_len=65536", f"-artifact_prefix={findings}/{name}-", "-print_final_stats=1", str(corpus)],
                  one)
    atheris.Fuzz()


def _fuzz(name: str, seconds: int, findings: Path) -> dict:  # type: ignore[type-arg]
    """One target in its own process; its executions and artifacts from libFuzzer's output."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, __file__, "--child", name, "--seconds", str(seconds),
                            "--findings", str(findings)], capture_output=True, text=True, timeout=seconds * 3 + 300)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired as exc:
        rc, err = -1, (exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else exc.stderr or "")
        err += "\nthe fuzzing process overran its time and was killed"
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", err)
    artifacts = re.findall(r"Test unit written to (\S+)", err)
    out = {"target": name, "seconds": round(time.perf_counter() - t0, 1),
           "executions": int(execs[-1]) if execs else None, "ok": rc == 0, "artifacts": artifacts}
    print(f"{name:32} {'ok   ' if rc == 0 else 'CRASH'} {out['executions'] or '?':>9} execs"
          f"  {out['seconds']:7.1f} s  {' '.join(artifacts)}", flush=True)
    if rc != 0:
        print("\n".join(err.splitlines()[-40:]), file=sys.stderr, flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*")
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "30")))
    ap.add_argument("--findings", type=Path, default=HERE / "findings")
    ap.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once (one process each)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.findings.mkdir(parents=True, exist_ok=True)
    if args.child:
        child(args.child, args.seconds, args.findings)
        return 0
    sys.path.insert(0, str(ROOT))
    from fuzz.targets import TARGETS, structured

    every = sorted(TARGETS) + sorted(f"{n}@structured" for n in structured())
    names = args.targets or every
    unknown = [n for n in names if n not in every]
    if unknown:
        print(f"unknown targets {unknown}; choose from {every}", file=sys.stderr)
        return 2
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        summary = list(pool.map(lambda n: _fuzz(n, args.seconds, args.findings), names))
    crashed = any(not s["ok"] for s in summary)
    total = sum(s["seconds"] for s in summary)
    (args.findings / "summary.json").write_text(json.dumps(
        {"targets": summary, "total_seconds": round(total, 1), "crashed": crashed}, indent=2) + "\n")
    print(f"fuzzed {len(names)} targets for {total / 3600:.2f} h in total; crashes: {crashed}")
    return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
