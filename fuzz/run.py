"""Coverage-guided fuzzing with atheris: every target of fuzz/targets.py for a bounded time, one process each.

    .venv/bin/python fuzz/run.py                      # every target, 30 s each (what `make fuzz` runs)
    .venv/bin/python fuzz/run.py --seconds 600 aigc_json xmp_packet

A crash (any exception but SynthGuardError, a timeout, an out-of-memory) stops that target and leaves the
input in fuzz/findings/<target>-crash-*; keep it as a regression case in tests/test_fuzz_parsers.py once fixed.
The corpus grows in fuzz/corpus/<target>/ (seeded from ``targets.seeds()``).  A summary with executions per
target goes to fuzz/findings/summary.json; the exit status is 1 when anything crashed.
"""

from __future__ import annotations

import argparse
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
        import synthguard.law.incident  # noqa: F401
        import synthguard.marking.containers  # noqa: F401
        import synthguard.marking.metadata  # noqa: F401
        import synthguard.marking.video.metadata  # noqa: F401
        import synthguard.marking.watermark.payload  # noqa: F401
        import synthguard.moderation.policy  # noqa: F401
        from fuzz.targets import run, seeds

    corpus = HERE / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seeds()[name]):
        (corpus / f"seed-{i}").write_bytes(seed)

    def one(data: bytes) -> None:
        run(name, data)

    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", "-timeout=20", "-rss_limit_mb=3072",
                   "-max_len=65536", f"-artifact_prefix={findings}/{name}-", "-print_final_stats=1", str(corpus)],
                  one)
    atheris.Fuzz()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*")
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "30")))
    ap.add_argument("--findings", type=Path, default=HERE / "findings")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.findings.mkdir(parents=True, exist_ok=True)
    if args.child:
        child(args.child, args.seconds, args.findings)
        return 0
    sys.path.insert(0, str(ROOT))
    from fuzz.targets import TARGETS

    names = args.targets or sorted(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        print(f"unknown targets {unknown}; choose from {sorted(TARGETS)}", file=sys.stderr)
        return 2
    summary, crashed = [], False
    for name in names:
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, __file__, "--child", name, "--seconds", str(args.seconds),
                            "--findings", str(args.findings)], capture_output=True, text=True,
                           timeout=args.seconds * 3 + 120)
        execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", p.stderr)
        artifacts = re.findall(r"Test unit written to (\S+)", p.stderr)
        ok = p.returncode == 0
        crashed |= not ok
        summary.append({"target": name, "seconds": round(time.perf_counter() - t0, 1),
                        "executions": int(execs[-1]) if execs else None, "ok": ok, "artifacts": artifacts})
        print(f"{name:20} {'ok   ' if ok else 'CRASH'} {summary[-1]['executions'] or '?':>9} execs"
              f"  {summary[-1]['seconds']:6.1f} s  {' '.join(artifacts)}")
        if not ok:
            tail = "\n".join(line for line in p.stderr.splitlines()[-40:])
            print(tail, file=sys.stderr)
    total = sum(s["seconds"] for s in summary)
    (args.findings / "summary.json").write_text(json.dumps(
        {"targets": summary, "total_seconds": round(total, 1), "crashed": crashed}, indent=2) + "\n")
    print(f"fuzzed {len(names)} targets for {total / 3600:.2f} h in total; crashes: {crashed}")
    return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
