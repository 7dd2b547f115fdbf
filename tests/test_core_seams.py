"""The seams of issue 23's composition root: ``with db.unit_of_work() as uow:`` commits everything done through it
together, or nothing of it when anything inside fails (a record without its ledger entry would break DS-18
tracing); the clock the core is built with is the one its label journey uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from synthguard.core import SynthGuard
from synthguard.store import ledger_repo
from synthguard.store.schema import Record, User
from tests.conftest import image_bytes


class Boom(Exception):
    pass


def _record(content_id: str, ledger_index: int) -> Record:
    return Record(content_id=content_id, tenant="default", producer="P", user_id="uow-user", modality="image",
                  input_sha256="0" * 64, output_sha256="1" * 64, pixel_sha256="2" * 64, marks=[], details={},
                  ledger_index=ledger_index, fingerprints=[])


def test_a_failure_inside_a_unit_of_work_rolls_back_every_repository(sg):
    with sg.db.unit_of_work() as uow:
        size = ledger_repo.size(uow.session)
    with pytest.raises(Boom), sg.db.unit_of_work() as uow:
        assert uow.users.add(User(id="uow-user", name="uow-user", tenant="default"))
        entry = sg.ledger.append(uow.session, "identity", {"event": "uow-test"})
        uow.records.add(_record("SG-UOW-ROLLED-BACK", entry.index))
        assert uow.users.get("uow-user") is not None and uow.records.get("SG-UOW-ROLLED-BACK") is not None
        raise Boom
    with sg.db.unit_of_work() as uow:
        assert uow.users.get("uow-user") is None
        assert uow.records.get("SG-UOW-ROLLED-BACK") is None
        assert ledger_repo.size(uow.session) == size


def test_a_unit_of_work_that_ends_normally_commits_every_repository(sg):
    with sg.db.unit_of_work() as uow:
        uow.users.add(User(id="uow-user", name="uow-user", tenant="default"))
        entry = sg.ledger.append(uow.session, "identity", {"event": "uow-test"})
        uow.records.add(_record("SG-UOW-COMMITTED", entry.index))
    with sg.db.unit_of_work() as uow:
        assert [u.name for u in uow.users.all("default")] == ["uow-user"]
        assert uow.records.get("SG-UOW-COMMITTED").ledger_index == entry.index
    assert sg.user("uow-user")["tenant"] == "default"


def test_the_composition_root_passes_its_clock_to_the_label_journey(settings, verified_user):
    """An injected clock (issue 23): the record, the ledger entry and the label carry the time it gives."""
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with SynthGuard(settings, clock=lambda: fixed) as sg:
        result = sg.label(image_bytes("PNG"), user=verified_user, producer="ACME")
        assert sg.record(result.content_id)["record"]["created_at"] == fixed.isoformat()
