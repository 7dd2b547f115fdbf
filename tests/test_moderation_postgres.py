"""Moderation on Postgres: migration 0006 with its append-only trigger, and SKIP LOCKED claims under contention."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from synthguard.core import SynthGuard
from synthguard.store.moderation_tables import ModEvent
from tests.conftest import needs_postgres
from tests.test_moderation import claim_concurrently

pytestmark = needs_postgres



def test_claims_never_collide_on_postgres(pg_settings):
    with SynthGuard.open(pg_settings) as sg:
        mod = sg.moderation
        tickets = {mod.submit("acme", {"kind": "unlabeled_ai", "location": f"p-{i}"})["ticket"] for i in range(8)}
        assert claim_concurrently(mod, 4) == sorted(tickets)
        with sg.db.session() as s:
            claims = s.scalars(select(ModEvent.case_id).where(ModEvent.kind == "claim")).all()
            assert len(claims) == len(set(claims)) == 8
        with pytest.raises(Exception, match="append-only"), sg.db.session() as s:
            s.execute(text("DELETE FROM mod_case_events"))
