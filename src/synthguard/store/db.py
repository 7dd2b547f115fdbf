"""Engine, sessions and migrations. SQLite by default; any SQLAlchemy URL (Postgres) works the same."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from synthguard.errors import StoreError, SynthGuardError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: object) -> None:  # a DB-API connection: no common type
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


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
    from synthguard.locks import file_lock

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


def private_sqlite_file(url: str) -> None:
    """Create a SQLite database file 0600 before SQLite does (it would use the umask, typically 0644), and tighten
    an existing one and its -wal/-shm/-journal files: they hold reviewer notes and appeal reasons (issue 18
    finding 15).  SQLite gives new journal files the database file's mode."""
    if not url.startswith("sqlite:///") or url in ("sqlite://", "sqlite:///:memory:"):
        return
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    if not path.name or str(path) == ":memory:":
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
            raise StoreError(f"cannot open the database: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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
            raise StoreError(f"database error: {exc.__class__.__name__}: {exc}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
