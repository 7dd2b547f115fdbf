"""The same code on Postgres: selected by SYNTHGUARD_TEST_POSTGRES_URL, set by `make test` when a server answers."""

from __future__ import annotations

from synthguard.core import SynthGuard
from tests.conftest import kodak, needs_postgres

pytestmark = needs_postgres



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
