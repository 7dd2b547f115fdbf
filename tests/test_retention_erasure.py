"""Personal data linked to logs: encrypted per subject, erasable (PIPL 47), retained >= 183 days (CSL-01)."""

from __future__ import annotations

import pytest

from synthguard.config import Settings
from synthguard.errors import ConfigError, SubjectErasedError
from tests.conftest import kodak, sqlite_file


@sqlite_file
def test_ip_is_encrypted_linked_and_erasable(sg, verified_user, tmp_path, settings):
    r = sg.label(kodak(), user=verified_user, producer="ACME", output=tmp_path / "o.png", client_ip="203.0.113.9")
    assert sg.personal_data(r.content_id) == ["ip=203.0.113.9"]
    raw = (settings.home / "synthguard.db").read_bytes()
    assert b"203.0.113.9" not in raw  # never in the clear on disk
    out = sg.erase_user(verified_user)
    assert out["erased"]
    with pytest.raises(SubjectErasedError) as ei:
        sg.personal_data(r.content_id)
    assert ei.value.http_status == 410
    sg.checkpoint()
    assert sg.verify_ledger()["ok"]  # erasure did not touch a single hashed byte
    assert sg.trace(tmp_path / "o.png")["found"]  # the pseudonymous record still traces


def test_retention_below_six_months_refused():
    with pytest.raises(ConfigError):
        Settings.load(log_retention_days=90)


def test_purge_keeps_young_data(sg, verified_user, tmp_path):
    r = sg.label(kodak(), user=verified_user, producer="ACME", output=tmp_path / "o.png", client_ip="198.51.100.1")
    assert sg.purge()["purged"] == 0
    assert sg.personal_data(r.content_id) == ["ip=198.51.100.1"]
