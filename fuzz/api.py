"""Fuzz the HTTP API's request bodies with schemathesis, from the app's own OpenAPI spec (in-process, no network).

    .venv/bin/python fuzz/api.py --examples 25       # what `make fuzz` runs

Every operation gets ``--examples`` generated requests (valid and schema-violating bodies, queries, headers),
sent with an admin token of one tenant and again with the operation's narrowest role where it matters.  A crash
is any 5xx other than 503, or a 4xx whose JSON body is not the error contract ``{error, message, hint}``.
Results go to fuzz/findings/api.json; the exit status is 1 on any crash.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=25)
    ap.add_argument("--findings", type=Path, default=HERE / "findings")
    args = ap.parse_args()

    import schemathesis

    from synthguard.auth import Role, create_token
    from synthguard.config import Settings
    from synthguard.core import SynthGuard
    from synthguard.keys import init_keys
    from synthguard.server import create_app

    home = Path(tempfile.mkdtemp(prefix="sg-fuzz-http-"))
    st = Settings.load(home=home, rate_limit_per_minute=0)
    init_keys(st)
    sg = SynthGuard.open(st)
    tokens = {r: create_token(sg.db, r, "acme", f"fuzz-{r.value}")[0] for r in Role}
    app = create_app(st, sg=sg)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    crashes: list[dict] = []
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    for result in schema.get_all_operations():
        op = result.ok()
        _fuzz_operation(op, f"{op.method.upper()} {op.path}", args.examples, tokens, counts, crashes)

    secs = time.perf_counter() - t0
    sg.close()
    shutil.rmtree(home, ignore_errors=True)
    args.findings.mkdir(parents=True, exist_ok=True)
    out = {"operations": counts, "requests": sum(counts.values()), "seconds": round(secs, 1), "crashes": crashes}
    (args.findings / "api.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"{len(counts)} operations, {out['requests']} requests in {secs:.0f} s; crashes: {len(crashes)}")
    for c in crashes[:20]:
        print(f"  {c['operation']} as {c['role']}: {c['status']} {c['problem']}: {c['body'][:200]}", file=sys.stderr)
    return 1 if crashes else 0


def _fuzz_operation(op, label, examples, tokens, counts, crashes) -> None:  # type: ignore[no-untyped-def]
    from hypothesis import HealthCheck, given, settings

    from synthguard.auth import Role

    counts[label] = 0

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def check(case) -> None:  # type: ignore[no-untyped-def]
        for role in (Role.ADMIN, Role.PLATFORM, Role.PROVIDER):
            counts[label] += 1
            headers = dict(case.headers or {}) | {"Authorization": f"Bearer {tokens[role]}"}
            r = case.call(headers=headers)
            bad = None
            if r.status_code >= 500 and r.status_code != 503:
                bad = "server error"
            elif 400 <= r.status_code < 500 and "json" in r.headers.get("content-type", ""):
                body = r.json()
                if not (isinstance(body, dict) and {"error", "message", "hint"} <= set(body)):
                    bad = "error body without the {error, message, hint} contract"
            if bad:
                crashes.append({"operation": label, "role": role.value, "status": r.status_code, "problem": bad,
                                "body": r.text[:500], "request": {"query": case.query, "path": case.path_parameters,
                                                                  "body": repr(case.body)[:500]}})

    check()


if __name__ == "__main__":
    raise SystemExit(main())
