"""What the OpenAI-compatible gateway adds beyond labeling itself (issue 26 target: <= 30 ms p99).

Not run by CI.  Usage (from the project root):

    .venv/bin/python bench/gateway.py                  # 60 image and 60 chat requests
    .venv/bin/python bench/gateway.py --requests 200

A stub upstream and the gateway run on loopback (uvicorn, one thread each); the official ``openai`` client calls
the gateway.  For each request the gateway's own labeling time is measured inside it, and the upstream round
trip measured directly (the same request sent straight to the stub by the same client, so response parsing counts
on both sides); overhead = gateway latency - labeling - median direct upstream latency.  Writes bench/results/gateway.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from _machine import cpu_model  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=60)
    args = ap.parse_args()
    import os

    home = Path(tempfile.mkdtemp(prefix="sg-gw-bench-"))
    os.environ["SYNTHGUARD_HOME"] = str(home)
    import openai

    from synthguard.config import Settings
    from synthguard.core import SynthGuard
    from synthguard.integrations.gateway import create_gateway
    from synthguard.integrations.keys import GatewayKeys
    from synthguard.keys import init_keys
    from tests.test_gateway import UPSTREAM_KEY, _serve, stub_upstream

    settings = Settings.load()
    init_keys(settings)
    sg = SynthGuard.open(settings)
    sg.add_user("u-bench")
    sg.verify_user("u-bench", "mobile", identifier="+86 138 0000 0000", reference="bench")
    up_url, up, _ = _serve(stub_upstream([]))
    keys = GatewayKeys(home / "gateway-keys.json")
    secret, _ = keys.add("u-bench")
    app = create_gateway(sg, upstream=up_url + "/v1", upstream_key=UPSTREAM_KEY, keys=keys, producer="BENCH")
    gw = app.state.gateway
    label_times: list[float] = []
    inner = gw._label

    def timed(*a, **k):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return inner(*a, **k)
        finally:
            label_times.append(time.perf_counter() - t)

    gw._label = timed
    gw_url, server, _ = _serve(app)
    client = openai.OpenAI(base_url=gw_url + "/v1", api_key=secret, max_retries=0)
    direct = openai.OpenAI(base_url=up_url + "/v1", api_key=UPSTREAM_KEY, max_retries=0)  # same client both ways
    rows = {}
    for kind in ("image", "chat"):
        def call(kind: str = kind) -> None:
            if kind == "image":
                client.images.generate(model="img-1", prompt="a cat", response_format="b64_json")
            else:
                client.chat.completions.create(model="chat-1", messages=[{"role": "user", "content": "hi"}])

        def call_direct(kind: str = kind) -> None:  # the same request straight to the upstream, parsed by the same client
            if kind == "image":
                direct.images.generate(model="img-1", prompt="a cat", response_format="b64_json")
            else:
                direct.chat.completions.create(model="chat-1", messages=[{"role": "user", "content": "hi"}])

        for _ in range(3):
            call()
            call_direct()
        ups = []
        for _ in range(args.requests):
            t = time.perf_counter()
            call_direct()
            ups.append(time.perf_counter() - t)
        up_med = statistics.median(ups)
        totals, overhead = [], []
        for _ in range(args.requests):
            label_times.clear()
            t = time.perf_counter()
            call()
            total = time.perf_counter() - t
            totals.append(total)
            overhead.append(total - sum(label_times) - up_med)
        rows[kind] = {"requests": args.requests, "latency_p50_ms": 1e3 * pct(totals, 50),
                      "latency_p99_ms": 1e3 * pct(totals, 99), "upstream_direct_p50_ms": 1e3 * up_med,
                      "overhead_p50_ms": 1e3 * pct(overhead, 50), "overhead_p99_ms": 1e3 * pct(overhead, 99)}
    server.should_exit = True
    up.should_exit = True
    print(f"{'kind':6} {'latency p50':>12} {'p99':>8} {'upstream':>9} {'overhead p50':>13} {'p99':>8}  (ms)")
    for kind, r in rows.items():
        print(f"{kind:6} {r['latency_p50_ms']:12.1f} {r['latency_p99_ms']:8.1f} {r['upstream_direct_p50_ms']:9.1f} "
              f"{r['overhead_p50_ms']:13.1f} {r['overhead_p99_ms']:8.1f}")
    out = ROOT / "bench" / "results" / "gateway.json"
    out.write_text(json.dumps({"machine": {"cpu": cpu_model(), "python": platform.python_version()},
                               "target": "overhead p99 <= 30 ms", "results": rows}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if all(r["overhead_p99_ms"] <= 30 for r in rows.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
