"""Check the queue's promise after an incident: every accepted scan job has exactly one completed scan and
exactly one ledger entry, and the ledger still verifies (DS-10 record keeping; the fault tests' oracle)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from synthguard.store.protocols import Units


def audit_scans(units: Units, *, verify_ledger: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Counts over all scan jobs: ``accepted``, ``scanned`` (done with one entry), ``pending``, ``dead``,
    ``lost`` (done without a ledger entry, or an entry without a done job), ``duplicated`` (more than one entry).

    ``ok`` holds when nothing is lost or duplicated and the ledger verifies; pending and dead jobs are reported,
    not failures (a dead job is kept, with its error, for an operator).  ``verify_ledger``: the ledger's whole
    check (``{"ok": ...}``); without it ``ledger_ok`` is None."""
    with units() as uow:
        jobs = uow.jobs.outcomes("scan")
        rows = uow.jobs.ledger_entries("scan")
    per_job: Counter[str] = Counter()
    index_of: dict[str, int] = {}
    for idx, data in rows:
        job = json.loads(data)["body"].get("job")
        if job:
            per_job[job] += 1
            index_of[job] = idx
    states = Counter(state for _, state, _ in jobs)
    done = {jid: li for jid, state, li in jobs if state == "done"}
    duplicated = sorted(j for j, n in per_job.items() if n > 1)
    missing = sorted(j for j in done if per_job[j] == 0)
    orphans = sorted(j for j in per_job if j not in done)
    mismatched = sorted(j for j, li in done.items() if per_job[j] == 1 and index_of[j] != li)
    report: dict[str, Any] = {
        "accepted": len(jobs), "scanned": sum(1 for j in done if per_job[j] == 1),
        "pending": states["queued"] + states["running"], "dead": states["dead"],
        "lost": len(missing) + len(orphans), "duplicated": len(duplicated), "mismatched_index": len(mismatched),
        "examples": {"duplicated": duplicated[:5], "missing_entry": missing[:5], "orphan_entry": orphans[:5]},
    }
    report["ledger_ok"] = verify_ledger()["ok"] if verify_ledger is not None else None
    report["ok"] = not (report["lost"] or report["duplicated"] or mismatched) and report["ledger_ok"] is not False
    return report
