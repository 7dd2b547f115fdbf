"""What the trust list adds to a platform scan (issue 19): attribution of a labeled file with 1, 10 and 100
trusted providers, and the offline verification of a bundle against such a list.

Every provider is a real deployment (its own keys and dev C2PA chain); the platform pins them all from their
signed descriptors.  Timed: ``scan.foreign_claims`` on a file labeled by one of them (AIGC label + C2PA manifest;
no credential stored, so no network call: the lookup itself is the provider's round trip) and the database-free
``Inspector.inspect`` of the same file.  Run: ``nice python bench/trust_attribution.py``; writes
bench/results/trust_attribution.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.pop("SYNTHGUARD_DATABASE_URL", None)

from _machine import cpu_model  # noqa: E402  (bench/ is on sys.path when run)

from synthguard.config import Settings  # noqa: E402
from synthguard.core import SynthGuard  # noqa: E402
from synthguard.inspection import Inspector  # noqa: E402
from synthguard.keys import init_keys  # noqa: E402
from synthguard.media import Media  # noqa: E402
from synthguard.scan import analyse, foreign_claims  # noqa: E402
from synthguard.trust.descriptor import build  # noqa: E402
from synthguard.trust.trustlist import for_settings  # noqa: E402
from tests.conftest import image_bytes  # noqa: E402


def _median_ms(fn, n: int = 30) -> float:
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="trust-bench-") as tmp:
        rows = run(Path(tmp))
    result = {"benchmark": "trust_attribution", "rows": rows, "cpu": cpu_model(), "cores": os.cpu_count(),
              "python": platform.python_version(), "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]}
    out = Path(__file__).resolve().parent / "results" / "trust_attribution.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()), "; wrote", out)


def run(root: Path) -> list[dict[str, float]]:
    providers = []
    for i in range(100):
        st = Settings.load(database_url=None, home=root / f"p{i}", producer=f"P-{i:03d}", service_name=f"prov {i}")
        init_keys(st)
        providers.append(st)
    with SynthGuard.open(providers[0]) as a:
        a.add_user("u-1")
        a.verify_user("u-1", "mobile", identifier="+86 138 0000 0000", reference="r")
        labeled = root / "a.png"
        a.label(image_bytes("PNG", size=(640, 400)), user="u-1", output=labeled)
        descriptors = [build(a)]
    for st in providers[1:]:
        with SynthGuard.open(st) as sg:
            descriptors.append(build(sg))
    print(f"{'trusted':>8} {'foreign_claims ms':>18} {'inspect ms':>11}")
    rows = []
    for n in (1, 10, 100):
        st = Settings.load(database_url=None, home=root / f"platform{n}")
        init_keys(st)
        trust = for_settings(st)
        for d in descriptors[:n][::-1]:  # the labeling provider last: no early exit in a walk of the list
            trust.add(d)
        with SynthGuard.open(st) as plat:
            media = Media.open(labeled)
            evidence = list(analyse(plat, media).evidence)
            claims = _median_ms(lambda: foreign_claims(plat, media, list(evidence)))  # noqa: B023
            insp = _median_ms(lambda: Inspector(st).inspect(labeled), n=10)  # noqa: B023
            got = foreign_claims(plat, media, list(evidence))
            assert {c.evidence["provider"]["producer"] for c in got} == {"P-000"}, got
        print(f"{n:>8} {claims:>18.2f} {insp:>11.1f}")
        rows.append({"trusted": n, "foreign_claims_ms": round(claims, 3), "inspect_ms": round(insp, 1)})
    return rows


if __name__ == "__main__":
    main()
