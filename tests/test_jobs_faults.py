"""Fault test (slow, bounded, loopback only): `synthguard worker` processes are SIGKILLed mid-run; the supervisor
restarts them, expired leases are re-claimed, and afterwards every accepted scan has exactly one completed scan
and one ledger entry, and the ledger verifies.  The database restart lives in bench/faults.py (it needs root
and a local Postgres cluster), not here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from synthguard.core import SynthGuard
from synthguard.media import Media
from synthguard.store.job_tables import Job
from tests.conftest import image_bytes, needs_postgres, postgres_schema

pytestmark = pytest.mark.slow
N_JOBS = 60
DEADLINE = 150.0


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def leaseholder(sg: SynthGuard, workers: list[int]) -> int | None:
    """A worker process that holds a job's lease now (mid-job): its pid, from the job's ``leased_by``
    (host:pid:index); None while every worker is starting or between jobs."""
    with sg.db.session() as s:
        holders = s.scalars(select(Job.leased_by).where(Job.state == "running")).all()
    pids = {int(h.split(":")[-2]) for h in holders if h and h.count(":") >= 2}
    return next((pid for pid in workers if pid in pids), None)


def wait_for(condition, timeout: float):  # type: ignore[no-untyped-def]
    """The condition's first true value, checked every 10 ms, or None at the timeout (no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := condition()) is not None:
            return value
        time.sleep(0.01)
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=needs_postgres)])
def fault_settings(request, settings):
    update = {"jobs_inline": False, "job_lease_seconds": 2.0, "job_backoff_seconds": 0.2, "job_max_attempts": 8}
    if request.param == "sqlite":
        yield settings.model_copy(update=update)
        return
    with postgres_schema() as url:
        yield settings.model_copy(update=update | {"database_url": url})


def test_sigkilled_workers_lose_and_duplicate_nothing(fault_settings, tmp_path):
    with SynthGuard.open(fault_settings) as sg:
        for i in range(N_JOBS):
            img = image_bytes("PNG", size=(160 + i % 7, 120))
            job, created = sg.jobs.submit_scan(Media.from_bytes(img, f"u{i}.png"), tenant="acme", key=f"up-{i}")
            assert created
    env = dict(os.environ) | {
        "SYNTHGUARD_HOME": str(fault_settings.home), "SYNTHGUARD_JOBS_INLINE": "false",
        "SYNTHGUARD_JOB_LEASE_SECONDS": "2", "SYNTHGUARD_JOB_BACKOFF_SECONDS": "0.2",
        "SYNTHGUARD_JOB_MAX_ATTEMPTS": "8"}
    if fault_settings.database_url:
        env["SYNTHGUARD_DATABASE_URL"] = fault_settings.database_url
    sup = subprocess.Popen([sys.executable, "-m", "synthguard", "worker", "--concurrency", "2", "--burst", "--json"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed, t0 = 0, time.monotonic()
    try:
        with SynthGuard.open(fault_settings) as sg:
            while sup.poll() is None and killed < 4 and time.monotonic() - t0 < DEADLINE:
                busy = wait_for(lambda: 0 if sup.poll() is not None else leaseholder(sg, children(sup.pid)), 5.0)
                if busy and sup.poll() is None:  # 0: the supervisor exited meanwhile
                    try:
                        os.kill(busy, signal.SIGKILL)  # mid-job, mid-transaction: no cleanup at all
                    except ProcessLookupError:  # it finished its last job and exited (burst) meanwhile
                        continue
                    killed += 1
        out, err = sup.communicate(timeout=max(5.0, DEADLINE - (time.monotonic() - t0)))
    finally:
        if sup.poll() is None:
            sup.kill()
    assert sup.returncode == 0, err[-2000:]
    assert killed >= 2, "the workers finished before they could be killed; raise N_JOBS"
    with SynthGuard.open(fault_settings) as sg:
        report = sg.jobs.audit()
        stats = sg.jobs.queue.stats()
    assert report["accepted"] == N_JOBS and report["scanned"] == N_JOBS, report
    assert report["lost"] == 0 and report["duplicated"] == 0 and report["mismatched_index"] == 0, report
    assert report["ledger_ok"] and report["ok"] and stats["done"] == N_JOBS
    assert '"restarts"' in out
