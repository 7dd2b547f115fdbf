"""`synthguard worker --nice`: background deep scans give the cores to the processes answering uploads (issue 28)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_worker_nice_lowers_the_priority_of_the_pool(settings):
    env = dict(os.environ) | {"SYNTHGUARD_HOME": str(settings.home), "SYNTHGUARD_JOBS_INLINE": "false"}
    if settings.database_url:
        env["SYNTHGUARD_DATABASE_URL"] = settings.database_url
    else:
        env.pop("SYNTHGUARD_DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-m", "synthguard", "worker", "--burst", "--nice", "5", "--json"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout)["nice"] == min(19, os.nice(0) + 5)
    bad = subprocess.run([sys.executable, "-m", "synthguard", "worker", "--burst", "--nice", "20"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--nice" in bad.stderr


def test_with_analysis_processes_only_they_are_lowered(settings):
    """A worker lowered itself would hold the database's write lock while preempted: with scan_processes the
    workers keep their priority and the analysis processes take the --nice."""
    env = dict(os.environ) | {"SYNTHGUARD_HOME": str(settings.home), "SYNTHGUARD_JOBS_INLINE": "false",
                              "SYNTHGUARD_SCAN_PROCESSES": "1"}
    env.pop("SYNTHGUARD_DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-m", "synthguard", "worker", "--burst", "--nice", "5", "--json"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout)["nice"] == os.nice(0)
    child = subprocess.run([sys.executable, "-c", (
        "import os; from synthguard import scan_cache; from synthguard.config import Settings\n"
        "before = os.nice(0); scan_cache._child_open(lambda s: s, Settings.load(scan_process_nice=3))\n"
        "print(os.nice(0) - before)")], env=env, capture_output=True, text=True, timeout=60)
    assert child.returncode == 0 and child.stdout.split()[-1] == str(min(3, 19 - os.nice(0))), child.stderr
