"""Issue 17: a batch scan on a fresh home with spawned workers never races on the first migration.

Spawned workers used to run the Alembic migrations on a new SQLite file at the same moment ("table ... already
exists") and broke the pool in about half the runs.  Now the parent opens the store first and migrations run
under a lock; whatever a worker meets becomes an error row for its file.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image

from synthguard.batch import run_batch as run_batch_with
from synthguard.cli.common import open_core
from synthguard.config import Settings
from synthguard.keys import init_keys
from synthguard.store.db import Database, current_revision
from tests.conftest import sqlite_file

RUNS = 5  # the race broke about half the runs: 2 x 5 fresh homes miss it with p ~ 0.001


def run_batch(*args, **kwargs):  # the cores are opened as the CLI opens them
    return run_batch_with(*args, opener=open_core, **kwargs)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("uploads")
    rng = np.random.default_rng(17)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(d / f"u{i}.png")
    return d


@sqlite_file  # SQLite first use; the Postgres pass covers the advisory lock in the test below
@pytest.mark.parametrize("with_keys", [True, False], ids=["keys", "no-keys"])
def test_fresh_home_batch_with_two_spawned_workers_never_crashes(tmp_path, monkeypatch, folder, with_keys):
    monkeypatch.delenv("SYNTHGUARD_DATABASE_URL", raising=False)
    for run in range(RUNS):
        home = tmp_path / f"home{run}"
        monkeypatch.setenv("SYNTHGUARD_HOME", str(home))
        if with_keys:
            init_keys(Settings.load())
        out = tmp_path / f"out{run}.jsonl"
        summary = run_batch(folder, out, workers=2, resume=False)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert sorted(r["file"] for r in rows) == sorted(str(p) for p in folder.glob("*.png")), run
        if with_keys:
            assert summary["none"] == 4 and summary["error"] == 0, (run, rows)
        else:  # a clear error row per file, never a broken pool
            assert {r["error"]["error"] for r in rows} == {"KeyMissingError"}, (run, rows)


def test_processes_opening_a_new_database_at_once_migrate_it_once(backend_settings):
    """Six openers at the same moment (threads: flock and advisory locks hold between connections too)."""
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def opener() -> None:
        start.wait()
        try:
            Database(backend_settings.db_url).dispose()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = Database(backend_settings.db_url, auto_migrate=False)
    try:
        assert current_revision(db.engine)
    finally:
        db.dispose()
