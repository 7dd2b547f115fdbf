"""Moderation on Postgres: migration 0006 with its append-only trigger, and SKIP LOCKED claims under contention."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from synthguard.core import SynthGuard
from synthguard.store.moderation_tables import ModEvent
from tests.conftest import needs_postgres

pytestmark = needs_postgres



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
