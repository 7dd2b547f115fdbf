"""Compliance audit benchmark: `compliance check` wall time vs. records in the period, and the per-request cost of
the emergency-switch guard that runs at the start of every SynthGuard.label (DS-05).

    .venv/bin/python bench/compliance_audit.py [--records 1000 10000 100000] [--sample 200] [--guards 2000]

Data: synthetic image records with matching `generation` ledger entries (inserted with append_many, no media
work), users verified, a checkpoint; the audit runs the full cn profile over a 30-day period (records only,
no --outputs).  SQLite on local disk, one process.  Results go to bench/results/compliance_audit.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _machine import cpu_model  # bench/ is on sys.path when run

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.ids import new_content_id
from synthguard.keys import init_keys
from synthguard.store.schema import Record

RESULTS = Path(__file__).parent / "results" / "compliance_audit.json"
MARKS = ["image.visible", "image.watermark", "image.metadata", "image.c2pa"]


def populate(sg: SynthGuard, n: int, users: int = 50) -> None:
    for u in range(users):
        sg.add_user(f"u-{u}")
        sg.verify_user(f"u-{u}", "mobile", identifier="+86 138 0013 8000")
    now = datetime.now(UTC)
    batch = 5000
    for start in range(0, n, batch):
        with sg.db.session() as s:
            rows = []
            for i in range(start, min(n, start + batch)):
                cid = new_content_id()
                sha = f"{i:064x}"
                rows.append((cid, sha, now - timedelta(seconds=(n - i) * 20 * 86400 // max(n, 1))))
            entries = sg.ledger.append_many(s, [("generation", {
                "content_id": cid, "producer": "ACME", "user": sg.user_ref("u-0"), "model": "m1", "modality": "image",
                "input_sha256": sha, "output_sha256": sha, "pixel_sha256": sha, "watermark_payload": None,
                "marks": MARKS}) for cid, sha, _ in rows])
            for (cid, sha, t), e in zip(rows, entries, strict=True):
                s.add(Record(content_id=cid, tenant="default", producer="ACME", user_id=f"u-{e.index % users}",
                             created_at=t, modality="image", model="m1", input_sha256=sha, output_sha256=sha,
                             pixel_sha256=sha, marks=MARKS, details={"visible_label": {"ratio": 0.05}},
                             ledger_index=e.index))
    sg.checkpoint()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--guards", type=int, default=2000)
    args = ap.parse_args()
    rows = []
    for n in args.records:
        with tempfile.TemporaryDirectory() as home:
            st = Settings.load(home=home, producer="ACME")
            init_keys(st)
            sg = SynthGuard.open(st)
            t0 = time.perf_counter()
            populate(sg, n)
            setup = time.perf_counter() - t0
            t0 = time.perf_counter()
            audit = sg.compliance.check(since="30d", sample_size=args.sample)
            took = time.perf_counter() - t0
            sg.compliance.switches.set("voice_clone", enabled=False, actor="bench", reason="bench")
            t0 = time.perf_counter()
            for _ in range(args.guards):
                sg.compliance.switches.guard("image", "text_to_image", tenant="default")
            guard_ms = (time.perf_counter() - t0) * 1000 / args.guards
            sg.close()
        row = {"records": n, "sample": args.sample, "audit_s": round(took, 3), "setup_s": round(setup, 1),
               "guard_ms": round(guard_ms, 3), "summary": audit.summary}
        rows.append(row)
        print(f"{n:>8} records  audit {took:7.3f} s  guard {guard_ms:6.3f} ms/label  {audit.summary}", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"cpu": cpu_model(), "python": platform.python_version(), "rows": rows,
                                   "note": "2 cores shared with other workers; SQLite"}, indent=2))


if __name__ == "__main__":
    main()
