"""Moderation on Postgres: migration 0006 with its append-only trigger, and SKIP LOCKED claims under contention."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, select, text

from synthguard.core import SynthGuard
from synthguard.store.moderation_tables import ModEvent

URL = os.environ.get("SYNTHGUARD_TEST_POSTGRES_URL")
pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not URL, reason="SYNTHGUARD_TEST_POSTGRES_URL not set (no Postgres server)")]


@pytest.fixture
def pg_settings(settings):
    schema = f"sg_mod_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    eng = create_engine(URL)
    with eng.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    eng.dispose()
    sep = "&" if "?" in URL else "?"
    yield settings.model_copy(update={"database_url": f"{URL}{sep}options=-csearch_path%3D{schema}"})
    eng = create_engine(URL)
    with eng.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    eng.dispose()


def test_claims_never_collide_on_postgres(pg_settings):
    with SynthGuard.open(pg_settings) as sg:
        mod = sg.moderation
        tickets = {mod.submit("acme", {"kind": "unlabeled_ai", "location": f"p-{i}"})["ticket"] for i in range(8)}
        got: list[str] = []
        errors: list[Exception] = []

        def work(name: str) -> None:
            try:
                while (c := mod.claim("acme", name)) is not None:
                    got.append(c["ticket"])
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"rev-{i}",)) for i in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors and sorted(got) == sorted(tickets)
        with sg.db.session() as s:
            claims = s.scalars(select(ModEvent.case_id).where(ModEvent.kind == "claim")).all()
            assert len(claims) == len(set(claims)) == 8
        with pytest.raises(Exception, match="append-only"), sg.db.session() as s:
            s.execute(text("DELETE FROM mod_case_events"))
