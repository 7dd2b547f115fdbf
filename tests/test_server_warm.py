"""A served process is ready before its first upload (issue 28): warmed detectors, a frozen heap."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from synthguard import scan
from synthguard.media import Modality
from synthguard.server import create_app
from tests.conftest import auth, image_bytes, role_tokens


def test_a_warm_app_has_its_detectors_and_a_frozen_heap_before_the_first_upload(settings, sg):
    app = create_app(settings, sg=sg, serving=True)
    try:
        assert Modality.IMAGE not in scan._DETECTORS.get(sg, {})
        with TestClient(app) as c:
            assert Modality.IMAGE in scan._DETECTORS[sg]  # built at startup, not on the first upload
            assert gc.get_freeze_count() > 10_000  # what the libraries made is out of the collector's walk
            token = role_tokens(sg)["platform"]
            r = c.post("/v1/scan", files={"file": ("a.png", image_bytes("PNG"), "image/png")}, headers=auth(token))
            assert r.status_code == 200 and r.json()["verdict"] == "none"
            assert "cache;desc=" in r.headers["server-timing"] and "ledger;dur=" in r.headers["server-timing"]
    finally:
        gc.unfreeze()


def test_a_plain_app_does_not_warm(settings, sg):
    with TestClient(create_app(settings, sg=sg)):
        assert gc.get_freeze_count() == 0
        assert Modality.IMAGE not in scan._DETECTORS.get(sg, {})


def test_a_serving_app_hands_the_gil_on_sooner_and_restores_it_on_shutdown(settings, sg):
    """A repeat gives the GIL up at each database call; with a burst's requests running Python in the same
    process, Python's 5 ms switch interval made each call wait up to 5 ms to get it back."""
    import sys

    from synthguard.server import SWITCH_INTERVAL

    before = sys.getswitchinterval()
    try:
        with TestClient(create_app(settings, sg=sg, serving=True)):
            assert sys.getswitchinterval() == SWITCH_INTERVAL < before
        assert sys.getswitchinterval() == before
        with TestClient(create_app(settings, sg=sg)):  # a plain app (tests, embedding) leaves it alone
            assert sys.getswitchinterval() == before
    finally:
        sys.setswitchinterval(before)
        gc.unfreeze()


def test_a_serving_app_checkpoints_the_wal_in_the_background(settings, sg):
    """No request pays for copying the WAL into the database: its connections do not checkpoint, a thread does."""
    try:
        with TestClient(create_app(settings, sg=sg, serving=True)):
            if sg.db.engine.dialect.name != "sqlite":  # Postgres checkpoints on its own: no thread started
                assert sg.db._checkpointer is None
                return
            with sg.db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            assert sg.db._checkpointer is not None and sg.db._checkpointer[0].is_alive()
    finally:
        gc.unfreeze()


def test_the_background_checkpointer_copies_a_grown_wal_only_and_stops_on_dispose(tmp_path, monkeypatch):
    """A checkpoint fsyncs, and on ext4 a write to any file can wait for the journal commit an fsync makes (a
    repeat's ledger write sat blocked 83 ms): the thread looks each round but copies only past the limit."""
    import time

    from sqlalchemy import text

    from synthguard.store import db as dbmod

    monkeypatch.setattr(dbmod, "WAL_CHECKPOINT_BYTES", 256 * 1024)
    path = tmp_path / "t.db"
    db = dbmod.Database(f"sqlite:///{path}", auto_migrate=False)
    assert db.checkpoint_in_background(every=0.02)
    with db.session() as s:
        s.execute(text("CREATE TABLE t (a BLOB)"))
        for _ in range(20):
            s.execute(text("INSERT INTO t VALUES (randomblob(2000))"))
    before = path.stat().st_size
    time.sleep(0.3)  # fifteen rounds
    assert path.stat().st_size == before  # 40 KB in the WAL: not copied, no fsync
    with db.session() as s:
        for _ in range(200):
            s.execute(text("INSERT INTO t VALUES (randomblob(2000))"))
    deadline = time.monotonic() + 10  # a loaded machine: the file grows while the checkpoint copies the pages
    while path.stat().st_size <= before + 200 * 2000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.stat().st_size > before + 200 * 2000  # past the limit: the rows reached the database file
    thread = db._checkpointer[0]
    db.dispose()
    assert not thread.is_alive()


def test_writers_checkpoint_after_giving_up_the_write_lock(tmp_path, monkeypatch):
    """Without a background checkpointer, the commit that grows the WAL past the limit copies it into the
    database itself, as SQLite's automatic checkpoint would, but after releasing the writers' lock."""
    from sqlalchemy import text

    from synthguard.store import db as dbmod

    monkeypatch.setattr(dbmod, "WAL_CHECKPOINT_BYTES", 64 * 1024)
    path = tmp_path / "t.db"
    db = dbmod.Database(f"sqlite:///{path}", auto_migrate=False)
    with db.session() as s:
        s.execute(text("CREATE TABLE t (a BLOB)"))
        assert s.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0  # SQLite's own, inside the commit: off
    before = path.stat().st_size
    with db.session() as s:
        for _ in range(100):
            s.execute(text("INSERT INTO t VALUES (randomblob(2000))"))
    assert path.stat().st_size > before + 100 * 2000  # copied at that commit, not left in the WAL
    db.dispose()


def test_after_a_checkpoint_small_commits_do_not_checkpoint_again(tmp_path, monkeypatch):
    """SQLite reuses the WAL file after a checkpoint instead of shrinking it, so its size alone said "past the
    limit" for good and every later commit checkpointed (an fsync each).  With ``journal_size_limit`` the reset
    WAL is cut back below the limit, and only the next 1,000 pages of writes trigger a checkpoint."""
    from sqlalchemy import text

    from synthguard.store import db as dbmod

    monkeypatch.setattr(dbmod, "WAL_CHECKPOINT_BYTES", 256 * 1024)
    monkeypatch.setattr(dbmod, "WAL_SIZE_LIMIT", 64 * 1024)
    path = tmp_path / "t.db"
    wal = tmp_path / "t.db-wal"
    db = dbmod.Database(f"sqlite:///{path}", auto_migrate=False)
    with db.session() as s:
        s.execute(text("CREATE TABLE t (a BLOB)"))
    with db.session() as s:
        for _ in range(300):
            s.execute(text("INSERT INTO t VALUES (randomblob(2000))"))  # ~600 KB: past the limit, checkpointed
    size = path.stat().st_size
    for _ in range(5):
        with db.session() as s:
            s.execute(text("INSERT INTO t VALUES (randomblob(100))"))
    assert wal.stat().st_size <= 64 * 1024  # the reset WAL was truncated to the limit
    assert path.stat().st_size == size  # the small commits were not copied into the database one by one
    db.dispose()
