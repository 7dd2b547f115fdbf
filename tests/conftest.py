"""Shared fixtures: an isolated SYNTHGUARD_HOME per test, keys, a verified user, real images."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.keys import init_keys
from tests import repo_guard

repo_guard.install()

TEST_DATA = Path(__file__).resolve().parent / "data"


def data_file(*parts: str) -> Path:
    """A file from tests/data; fail loudly (never skip) when it is absent."""
    path = TEST_DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"missing test data {path}: tests/data is part of the repository")
    return path


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A deflated ZIP archive of ``files`` (name -> bytes), for hand-built or tampered evidence bundles."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


PG_URL = os.environ.get("SYNTHGUARD_TEST_POSTGRES_URL")
needs_postgres = [pytest.mark.postgres,
                  pytest.mark.skipif(not PG_URL, reason="SYNTHGUARD_TEST_POSTGRES_URL not set (no Postgres server)")]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards; yields a database URL whose search_path is it."""
    from sqlalchemy import create_engine, text

    assert PG_URL, "SYNTHGUARD_TEST_POSTGRES_URL is not set"
    schema = "t_" + uuid.uuid4().hex[:16]
    eng = create_engine(PG_URL)
    try:
        with eng.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        yield _schema_url(schema)
    finally:
        with eng.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=needs_postgres)])
def backend_settings(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    """The test's settings on SQLite, then on a fresh Postgres schema (when a server is configured)."""
    if request.param == "sqlite":
        yield settings
        return
    with postgres_schema() as url:
        yield settings.model_copy(update={"database_url": url})


@pytest.fixture
def pg_settings(settings: Settings) -> Iterator[Settings]:
    """The test's settings on a fresh Postgres schema."""
    with postgres_schema() as url:
        yield settings.model_copy(update={"database_url": url})


KEEP_ENV = ("SYNTHGUARD_HOME", "SYNTHGUARD_TEST_POSTGRES_URL", "SYNTHGUARD_TEST_BACKEND")
sqlite_file = pytest.mark.skipif(os.environ.get("SYNTHGUARD_TEST_BACKEND") == "postgres",
                                 reason="reads or damages the SQLite database file itself")


_READY: list[str] = []  # migrated Postgres schemas, emptied after their test, for the next one


@contextmanager
def reused_schema() -> Iterator[str]:
    """A migrated, empty schema for one test (`make test-postgres`).  Creating and migrating a schema per test
    costs ~0.6 s; emptying one with a single TRUNCATE costs a few ms, so schemas are kept and reused.  A schema
    whose tables a test changed (or that cannot be emptied) is dropped rather than reused."""
    from sqlalchemy import create_engine, text

    from synthguard.store.db import make_engine, migrate

    assert PG_URL, "SYNTHGUARD_TEST_POSTGRES_URL is not set"
    if _READY:
        schema = _READY.pop()
    else:
        schema = "r_" + uuid.uuid4().hex[:16]
        eng = create_engine(PG_URL)
        with eng.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        eng.dispose()
        mig = make_engine(_schema_url(schema))
        migrate(mig)
        mig.dispose()
    yield _schema_url(schema)
    eng = create_engine(PG_URL)
    try:
        with eng.begin() as c:
            c.execute(text("SET LOCAL lock_timeout = '5s'"))
            version = c.execute(text(f"SELECT version_num FROM {schema}.alembic_version ORDER BY 1")).scalars().all()
            if sorted(version) != _heads():
                raise RuntimeError("the test changed the schema's migrations")
            c.execute(text(_EMPTY.replace(":schema", schema)))
        _READY.append(schema)
    except Exception:
        with eng.begin() as c:
            c.execute(text("SET LOCAL lock_timeout = '5s'"))
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    finally:
        eng.dispose()


# Empty a schema in one round trip: DELETE (cheap on tiny tables, unlike TRUNCATE, which makes new files for
# every table) with foreign-key triggers off, and restart the sequences that were used.
_EMPTY = """DO $$ DECLARE r record; BEGIN
  SET LOCAL session_replication_role = replica;
  FOR r IN SELECT table_name FROM information_schema.tables
           WHERE table_schema = ':schema' AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version' LOOP
    EXECUTE format('DELETE FROM %I.%I', ':schema', r.table_name);
  END LOOP;
  FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = ':schema' AND last_value IS NOT NULL LOOP
    EXECUTE format('ALTER SEQUENCE %I.%I RESTART', ':schema', r.sequencename);
  END LOOP;
END $$"""


def _schema_url(schema: str) -> str:
    assert PG_URL
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"


@lru_cache(maxsize=1)
def _heads() -> list[str]:
    from alembic.script import ScriptDirectory

    from synthguard.store.db import MIGRATIONS

    return sorted(ScriptDirectory(str(MIGRATIONS)).get_heads())


@pytest.fixture(scope="session", autouse=True)
def _drop_reused_schemas() -> Iterator[None]:
    yield
    if _READY:
        from sqlalchemy import create_engine, text

        eng = create_engine(PG_URL)  # type: ignore[arg-type]
        with eng.begin() as c:
            for schema in _READY:
                c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        eng.dispose()
        _READY.clear()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A fresh SYNTHGUARD_HOME per test. With SYNTHGUARD_TEST_BACKEND=postgres (`make test-postgres`) every test
    also gets its own empty, migrated Postgres schema as its database (SYNTHGUARD_DATABASE_URL), so the whole suite
    runs there."""
    home = tmp_path_factory.mktemp("sghome")
    monkeypatch.setenv("SYNTHGUARD_HOME", str(home))
    for var in list(os.environ):
        if var.startswith("SYNTHGUARD_") and var not in KEEP_ENV:
            monkeypatch.delenv(var)
    if os.environ.get("SYNTHGUARD_TEST_BACKEND") != "postgres":
        yield home
        return
    with reused_schema() as url:
        monkeypatch.setenv("SYNTHGUARD_DATABASE_URL", url)
        monkeypatch.setenv("SYNTHGUARD_JOBS_INLINE", "true")  # the suite's jobs run embedded, as on SQLite
        yield home


@pytest.fixture(scope="session")
def keys_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys made once per session (RSA/EC generation is slow-ish) and copied into each home."""
    home = tmp_path_factory.mktemp("keys-template")
    init_keys(Settings.load(home=home))
    return home / "keys"


def home_settings(home: Path, keys_template: Path, **values) -> Settings:
    """The settings of a deployment in ``home``, with the session's keys copied in."""
    import shutil

    shutil.copytree(keys_template, home / "keys")
    return Settings.load(home=home, **values)


@pytest.fixture
def settings(_isolated_home: Path, keys_template: Path) -> Settings:
    return home_settings(_isolated_home, keys_template)


@pytest.fixture
def sg(settings: Settings):
    core = SynthGuard.open(settings)
    yield core
    core.close()


@pytest.fixture
def verified_user(sg: SynthGuard) -> str:
    sg.add_user("u-42")
    sg.verify_user("u-42", "mobile", identifier="+86 138 0013 8000", reference="tx-1")
    return "u-42"


def branch_round_trip(tmp_path: Path, revision: str, target: str) -> tuple[set[str], set[str]]:
    """Migrate a fresh SQLite database to head, downgrade ``revision``'s branch to ``target``, upgrade again; the
    table names after the downgrade and after the upgrade (each migration undoes itself, alone)."""
    from alembic import command
    from sqlalchemy import inspect

    from synthguard.store.db import _alembic_config, current_revision, make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        migrate(engine)
        assert revision in current_revision(engine).split(",")
        command.downgrade(_alembic_config(engine), target)
        assert revision not in current_revision(engine).split(",")
        down = set(inspect(engine).get_table_names())
        migrate(engine)
        return down, set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@contextmanager
def refused_within(seconds: float, error: type[Exception], match: str | None = None) -> Iterator[None]:
    """Expect ``error`` (its message matching ``match``) within ``seconds`` of CPU time: refused before the expensive
    part, as every bomb must be (issues 18 and 27)."""
    import time

    t0 = time.process_time()
    with pytest.raises(error, match=match):
        yield
    assert time.process_time() - t0 < seconds


def auth(token: str, **headers: str) -> dict[str, str]:
    """Request headers carrying an API token (and any other ``headers``)."""
    return {"Authorization": f"Bearer {token}"} | headers


def api_client(settings: Settings, sg: SynthGuard) -> Iterator:
    """The HTTP API of ``sg`` as a FastAPI TestClient (a generator, for fixtures: ``yield from``)."""
    from fastapi.testclient import TestClient

    from synthguard.server import create_app

    with TestClient(create_app(settings, sg=sg)) as c:
        yield c


@pytest.fixture
def client(settings: Settings, sg: SynthGuard):
    """The HTTP API of the test's deployment."""
    yield from api_client(settings, sg)


def role_tokens(sg: SynthGuard, tenant: str = "acme") -> dict[str, str]:
    """One API token per role in ``tenant``, keyed by the role's name."""
    from synthguard.auth import Role, create_token

    return {role.value: create_token(sg.db, role, tenant, role.value)[0] for role in Role}


@pytest.fixture
def tokens(sg: SynthGuard) -> dict[str, str]:
    """One token per role (tenant "acme"), plus a provider of another tenant ("beta")."""
    from synthguard.auth import Role, create_token

    return role_tokens(sg) | {"beta": create_token(sg.db, Role.PROVIDER, "beta", "other provider")[0]}


def serve(app) -> tuple[str, Any, Any]:
    """``app`` served by uvicorn on a free loopback port, in a thread: (base URL, server, thread); the caller
    stops it (``server.should_exit = True``, then ``thread.join``).  Used by tests that keep several up at once."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


@contextmanager
def live_server(app) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    base, server, thread = serve(app)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


CHROMIUM = "/usr/bin/chromium"  # Debian's; the browser tests skip without it


@contextmanager
def chromium() -> Iterator:
    """A headless Debian Chromium driven by Playwright (skips the test when either is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    sync = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            browser.close()


class S3Bucket:
    """Objects on a live S3-compatible server (see the ``s3`` fixture)."""

    def __init__(self, fs, endpoint: str):
        self.fs, self.endpoint = fs, endpoint

    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` (``bucket/path``)."""
        with self.fs.open_output_stream(key) as out:
            out.write(data)

    def url(self, prefix: str) -> str:
        """The URL a batch scan reads ``prefix`` (``bucket/path``) from, endpoint included."""
        return f"s3://{prefix}?endpoint_override={self.endpoint}&scheme=http&region=us-east-1"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Bucket]:
    """A live S3-compatible server on loopback (moto's, in a thread) with an empty bucket ``uploads``, read and
    written through pyarrow as batch scans do."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed (the test extra)")
    pafs = pytest.importorskip("pyarrow.fs", reason="bucket URLs need pyarrow")
    from moto.server import ThreadedMotoServer

    for k, v in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                 "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(k, v)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        fs = pafs.S3FileSystem(endpoint_override=f"{host}:{port}", scheme="http", region="us-east-1",
                               allow_bucket_creation=True)
        fs.create_dir("uploads")
        yield S3Bucket(fs, f"{host}:{port}")
    finally:
        server.stop()


@pytest.fixture
def labeled(sg: SynthGuard, verified_user: str, tmp_path: Path) -> Path:
    """An image labeled for ``verified_user`` (producer ACME) under a signed checkpoint: what evidence bundles trace."""
    out = tmp_path / "generated.png"
    sg.label(image_bytes(size=(800, 500)), user=verified_user, producer="ACME", output=out)
    sg.checkpoint()
    return out


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (640, 400), mode: str = "RGB", **save) -> bytes:
    """A natural-ish synthetic image: smooth gradients plus texture, so watermarks and labels behave as on photos."""
    w, h = size
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 / w), (y * 255 / h), ((x + y) * 127 / (w + h) + 64)], axis=-1)
    img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    im = Image.fromarray(img, "RGB").convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return buf.getvalue()


def kodak(name: str = "kodim23.png") -> Path:
    return data_file("kodak", name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any test opened a file beside the repository (tests/repo_guard.py)."""
    if repo_guard.violations:
        print("\ntests read files outside the repository:", *sorted(set(repo_guard.violations)), sep="\n  ")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def own_databases(monkeypatch):
    """Separate organisations have separate databases: each home its own SQLite file, in the Postgres pass too
    (tests of several deployments: ``pytestmark = pytest.mark.usefixtures("own_databases")``)."""
    monkeypatch.delenv("SYNTHGUARD_DATABASE_URL", raising=False)


def org(tmp_path: Path, name: str, **extra: Any) -> SynthGuard:
    """One deployment (organisation) with its own home, keys and database under ``tmp_path / name``."""
    st = Settings.load(database_url=None, home=tmp_path / name, **extra)
    init_keys(st)
    return SynthGuard.open(st)
