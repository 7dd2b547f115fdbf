"""Engine, sessions and migrations. SQLite by default; any SQLAlchemy URL (Postgres) works the same."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from synthguard.errors import StoreError, SynthGuardError
from synthguard.locks import file_lock
from synthguard.store.unit_of_work import UnitOfWork

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy handler alone
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)


BUSY_SECONDS = 30  # how long a writer waits for another one before "database is locked"
_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


WAL_CHECKPOINT_BYTES = 4 << 20  # SQLite's own default: 1,000 pages of 4 KiB
WAL_SIZE_LIMIT = 1 << 20  # what a reset WAL is truncated to: below WAL_CHECKPOINT_BYTES, so size means content
_CHECKPOINTS: weakref.WeakKeyDictionary[Engine, dict[str, bool]] = weakref.WeakKeyDictionary()  # engine -> policy
_WAITS = threading.local()  # per thread: seconds spent waiting for the writers' lock


def lock_waited() -> float:
    """Seconds this thread has waited so far for the SQLite writers' lock: a request's ``Server-Timing`` reports
    the difference, so a slow repeat says whether it queued behind another writer or was just not scheduled."""
    return float(getattr(_WAITS, "seconds", 0.0))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        database = path.split("?", 1)[0]
        queued = bool(database) and database != ":memory:" and fcntl is not None
        connect_args: dict[str, Any] = {"timeout": BUSY_SECONDS, "check_same_thread": False}
        policy = {"inline": True}
        if queued:
            connect_args["factory"] = type("QueuedConnection", (_QueuedConnection,), {
                "lock_path": f"{database}.write.lock", "wal_path": f"{database}-wal", "policy": policy})
        engine = create_engine(url, connect_args=connect_args)
        if queued:
            _queue_writers(engine)
            _CHECKPOINTS[engine] = policy

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: object) -> None:  # a DB-API connection: no common type
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            if queued:  # checkpoints after the writers' lock is released (_QueuedConnection.commit)
                cur.execute("PRAGMA wal_autocheckpoint=0")
                # the WAL file is reused, not shrunk, after a checkpoint: without a limit its size stays past
                # WAL_CHECKPOINT_BYTES for good and every later commit checkpointed (an fsync, ~1-3 ms)
                cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _queue_writers(engine: Engine) -> None:
    """Writers to one SQLite file take turns on an ``flock`` before their first write (issue 28).

    SQLite lets one writer in at a time and makes the others poll: its busy handler sleeps 1, 2, 5, 10 ms ...
    between tries, so two processes writing a 0.5 ms ledger entry at the same moment cost the second one up to
    8 ms.  A writer waiting on the lock file instead starts within 0.2 ms of the holder's commit.  Taken at the
    first INSERT/UPDATE/DELETE of a transaction (reads stay concurrent, as WAL allows) and given up after its
    commit or rollback (:class:`_QueuedConnection`); a writer that cannot get it within ``BUSY_SECONDS`` fails as
    SQLite would ("database is locked")."""

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        dbapi_conn = conn.connection.dbapi_connection
        if isinstance(dbapi_conn, _QueuedConnection) and _WRITES.match(statement):
            dbapi_conn.take_write_lock()


class _QueuedConnection(sqlite3.Connection):
    """sqlite3's connection that gives up the writers' lock file after each commit and rollback, and copies the
    WAL into the database (a checkpoint, with an fsync) only after giving it up: SQLite's automatic checkpoint
    runs inside the commit, so the writer that crossed 1,000 pages held every other writer for 7-15 ms.  A
    serving process checkpoints in a background thread instead (``policy["inline"]`` False,
    :meth:`Database.checkpoint_in_background`).  Made per database by :func:`make_engine`."""

    lock_path: str
    wal_path: str
    policy: dict[str, bool]
    _write_fd: int | None = None

    def take_write_lock(self) -> None:
        if self._write_fd is not None or fcntl is None:
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        t0 = time.monotonic()
        deadline, pause = t0 + BUSY_SECONDS, 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(pause)  # 50 us doubling to 0.2 ms: a waiter starts at most 0.2 ms after the holder
                pause = min(pause * 2, 0.0002)
        _WAITS.seconds = lock_waited() + time.monotonic() - t0
        self._write_fd = fd

    def _release(self) -> bool:
        fd, self._write_fd = self._write_fd, None
        if fd is None or fcntl is None:
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        return True

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            wrote = self._release()
        if wrote and self.policy["inline"]:
            try:
                if os.stat(self.wal_path).st_size > WAL_CHECKPOINT_BYTES:
                    self.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except (OSError, sqlite3.Error):  # the next writer's commit tries again
                pass

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revisions (idempotent), once, however many processes open it.

    Feature areas (compliance, consent, moderation, ...) branch from the shared schema as their own heads,
    so ``heads`` upgrades all of them; a merge revision is only needed when one branch depends on another.
    Processes that open a new database at the same moment (spawned batch workers, several servers) take turns
    under a lock -- an advisory lock on Postgres, a file lock beside an SQLite file -- and the ones that come
    second find the schema current and do nothing (issue 17: "table ... already exists" broke batch pools)."""
    from alembic import command

    cfg = _alembic_config(engine)
    try:
        with _migration_lock(engine):
            if _is_current(engine, cfg):
                return
            command.upgrade(cfg, "heads")
    except (DatabaseError, OperationalError) as exc:
        raise StoreError("cannot open or migrate the database: {reason}", values={"reason": str(exc.orig)}) from exc


def _is_current(engine: Engine, cfg: Config) -> bool:
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        from alembic.runtime.migration import MigrationContext

        applied = set(MigrationContext.configure(conn).get_current_heads())
    return applied == set(ScriptDirectory.from_config(cfg).get_heads())


_PG_LOCK_KEY = 0x5347_4D49  # "SGMI": one advisory lock id for SynthGuard migrations


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations between processes: pg_advisory_lock on Postgres, flock on ``<db>.migrate.lock``."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with file_lock(f"{database}.migrate.lock"):
        yield


def current_revision(engine: Engine) -> str | None:
    """The applied head revision(s), comma-joined and sorted when several branches are applied."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def has_schema(engine: Engine) -> bool:
    return "records" in inspect(engine).get_table_names()


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite database URL; None for another database or an in-memory one."""
    if not url.startswith("sqlite:///") or url in ("sqlite://", "sqlite:///:memory:"):
        return None
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    return path if path.name and str(path) != ":memory:" else None


def _wal_path(url: str) -> Path | None:
    path = _sqlite_file(url)
    return None if path is None else path.with_name(path.name + "-wal")


def private_sqlite_file(url: str) -> None:
    """Create a SQLite database file 0600 before SQLite does (it would use the umask, typically 0644), and tighten
    an existing one and its -wal/-shm/-journal files: they hold reviewer notes and appeal reasons (issue 18
    finding 15).  SQLite gives new journal files the database file's mode."""
    path = _sqlite_file(url)
    if path is None:
        return
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for p in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        try:
            if p.exists() and p.stat().st_uid == os.getuid() and p.stat().st_mode & 0o077:
                p.chmod(0o600)
        except OSError:
            pass


class Database:
    """Owns the engine and hands out transactional sessions."""

    def __init__(self, url: str, *, auto_migrate: bool = True):
        self.url = url
        private_sqlite_file(url)
        try:
            self.engine = make_engine(url)
            if auto_migrate:
                migrate(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError("cannot open the database: {exc}", values={"exc": exc}) from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._checkpointer: tuple[threading.Thread, threading.Event] | None = None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A Core connection for a hot-path read (a scan's bank and likeness checks): no ORM session, about 50 us
        instead of 185; whatever it began is rolled back, so write with :meth:`session`."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError("database error: {exc_type}: {exc}",
                             values={"exc_type": exc.__class__.__name__, "exc": exc}) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error (no half-written rows)."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SynthGuardError:
            session.rollback()
            raise
        except SQLAlchemyError as exc:
            session.rollback()
            raise StoreError("database error: {exc_type}: {exc}",
                             values={"exc_type": exc.__class__.__name__, "exc": exc}) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """:meth:`session` with the repositories over it (issue 23's storage seam): all of it commits on
        success, none of it on any error."""
        with self.session() as session:
            yield UnitOfWork(session)

    def checkpoint_in_background(self, every: float = 1.0) -> bool:
        """Move SQLite's WAL checkpoints off the request path (servers, issue 28); False when not SQLite.

        By default the commit that grows the WAL past 1,000 pages copies it into the database and fsyncs, in the
        committing request: about one commit in 200 took 7-15 ms instead of 0.05.  Here new connections stop
        checkpointing (``wal_autocheckpoint=0``) and one thread looks at the WAL every ``every`` seconds until
        :meth:`dispose`, and runs a PASSIVE checkpoint, which waits for no reader or writer, once the WAL has
        grown past ``WAL_CHECKPOINT_BYTES`` -- not at every look: a checkpoint fsyncs, an fsync commits the
        file system's journal, and on ext4 a write to any file can wait for that commit.  With two servers
        checkpointing each second, a repeat's one-page ledger write once sat blocked 83 ms (no CPU, no run-queue
        time) holding the writers' lock; checkpointing by size, the closed loop went from 300 to 404 req/s
        (issue 28)."""
        if self.engine.dialect.name != "sqlite" or self._checkpointer is not None:
            return self._checkpointer is not None
        stop = threading.Event()
        policy = _CHECKPOINTS.get(self.engine)
        if policy is not None:  # queued writers: they stop checkpointing after their commits
            policy["inline"] = False
        else:  # SQLite's own automatic checkpoint: turned off in the connections made from now on

            @event.listens_for(self.engine, "connect")
            def _no_auto(dbapi_conn, _):  # type: ignore[no-untyped-def]
                dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

        wal = _wal_path(self.url)

        def run() -> None:
            while not stop.wait(every):
                try:
                    if wal is not None and wal.stat().st_size <= WAL_CHECKPOINT_BYTES:
                        continue
                except OSError:  # no WAL yet (nothing written since the last reset)
                    continue
                try:
                    with self.engine.connect() as conn:
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                except SQLAlchemyError as exc:  # the next round tries again; the WAL only grows meanwhile
                    log.warning("WAL checkpoint failed: %s", exc)

        self.engine.dispose()  # pooled connections made before keep their own checkpointing: drop them
        thread = threading.Thread(target=run, name="sqlite-checkpoint", daemon=True)
        self._checkpointer = (thread, stop)
        thread.start()
        return True

    def dispose(self) -> None:
        if self._checkpointer is not None:
            thread, stop = self._checkpointer
            stop.set()
            thread.join(timeout=5)
            self._checkpointer = None
        self.engine.dispose()
