"""The compliance module on Postgres (migration 0004, append-only trigger, audit): selected by
SYNTHGUARD_TEST_POSTGRES_URL like tests/test_postgres.py."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from synthguard.core import SynthGuard
from synthguard.errors import FeatureDisabledError, StoreError
from tests.conftest import image_bytes, needs_postgres, postgres_schema
from tests.test_compliance_checks import make_compliant

pytestmark = needs_postgres


@pytest.fixture
def pg_settings(settings):
    with postgres_schema() as url:
        yield settings.model_copy(update={"database_url": url, "producer": "ACME", "filing_number": "F-1",
                                          "filing_link": "https://x/"})


def test_compliance_on_postgres(pg_settings, tmp_path):
    with SynthGuard.open(pg_settings) as sg:
        assert sg.db.engine.dialect.name == "postgresql"
        make_compliant(sg, tmp_path)
        audit = sg.compliance.check(outputs=tmp_path)
        assert audit.ok, [r for r in audit.results if r.status == "fail"]
        with pytest.raises(StoreError, match="append-only"):
            with sg.db.session() as s:
                s.execute(text("UPDATE screen_library_changes SET reason = 'x'"))
        sg.compliance.switches.set("label", enabled=False, actor="ops", reason="drill")
        with pytest.raises(FeatureDisabledError):
            sg.label(image_bytes("PNG", (100, 100)), user="u-1")
