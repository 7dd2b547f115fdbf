"""The same code on Postgres: selected by SYNTHGUARD_TEST_POSTGRES_URL, set by `make test` when a server answers."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from synthguard.core import SynthGuard
from tests.conftest import kodak

URL = os.environ.get("SYNTHGUARD_TEST_POSTGRES_URL")
pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not URL, reason="SYNTHGUARD_TEST_POSTGRES_URL not set (no Postgres server)")]


@pytest.fixture
def pg_settings(settings):
    schema = f"sg_test_{os.getpid()}"
    eng = create_engine(URL)
    with eng.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    eng.dispose()
    sep = "&" if "?" in URL else "?"
    yield settings.model_copy(update={"database_url": f"{URL}{sep}options=-csearch_path%3D{schema}"})
    eng = create_engine(URL)
    with eng.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    eng.dispose()


def test_label_trace_verify_on_postgres(pg_settings, tmp_path):
    with SynthGuard.open(pg_settings) as sg:
        assert sg.db.engine.dialect.name == "postgresql"
        sg.add_user("u-1")
        sg.verify_user("u-1", "netid", reference="r")
        r = sg.label(kodak(), user="u-1", producer="ACME", output=tmp_path / "o.png")
        sg.checkpoint()
        t = sg.trace(tmp_path / "o.png")
        assert t["found"] and t["content_id"] == r.content_id and t["proof"]["verified"]
        assert sg.verify_ledger()["ok"]
    with SynthGuard.open(pg_settings) as sg:  # migrations are idempotent on reopen
        assert sg.record(r.content_id)["record"]["producer"] == "ACME"
