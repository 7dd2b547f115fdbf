"""Subject vault: per-subject encryption, crypto-shredding (PI-13) and the retention guard (CSL-01, DS-18, LM-20)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from synthguard.errors import ConflictError, KeyMissingError, NotFoundError, ValidationError
from synthguard.ledger import (
    MIN_RETENTION_DAYS,
    Ledger,
    SubjectVault,
    generate_master_key,
    load_master_key,
    purge_expired,
    subject_ref,
)
from synthguard.store.base import Base, utcnow
from synthguard.store.ledger_tables import PAYLOADS

KEY = Ed25519PrivateKey.generate()
MASTER = bytes(range(32))


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s


def test_encrypt_decrypt_round_trip_binds_the_subject(session: Session) -> None:
    vault = SubjectVault(MASTER)
    token = vault.encrypt(session, "u-42", "203.0.113.7")
    assert token.startswith("sgv1.") and "203.0.113.7" not in token
    assert vault.decrypt(session, "u-42", token) == b"203.0.113.7"
    vault.encrypt(session, "u-43", b"other")
    with pytest.raises(ValidationError, match="does not belong to subject 'u-43'"):
        vault.decrypt(session, "u-43", token)
    with pytest.raises(ValidationError):
        vault.decrypt(session, "u-42", "sgv1.!!!")
    with pytest.raises(ValidationError):
        vault.decrypt(session, "u-42", token[:-6] + "AAAAAA")
    with pytest.raises(NotFoundError, match="no key"):
        vault.decrypt(session, "u-nobody", token)
    with pytest.raises(KeyMissingError, match="cannot unwrap"):
        SubjectVault(bytes(32)).decrypt(session, "u-42", token)


def test_erase_shreds_the_key_logs_it_and_the_ledger_still_verifies(session: Session) -> None:
    ledger = Ledger()
    vault = SubjectVault(MASTER, ledger=ledger)
    generation = ledger.append(session, "generation", {"user": "u-42", "content_sha256": "ab" * 32})
    payload = vault.store(session, "u-42", "203.0.113.7", entry_index=generation.index)
    token = vault.encrypt(session, "u-42", "Zhang San")
    ledger.checkpoint(session, KEY)
    session.commit()
    assert vault.load(session, payload) == b"203.0.113.7"

    entry = vault.erase(session, "u-42", reason="consent withdrawn")
    session.commit()
    assert entry.kind == "erasure" and entry.body["subject_ref"] == subject_ref("u-42")
    assert "u-42" not in entry.data.decode() and entry.body["payloads"] == 1
    with pytest.raises(NotFoundError, match="was erased on .* ledger entry 1 records it"):
        vault.decrypt(session, "u-42", token)
    with pytest.raises(NotFoundError, match="was erased"):
        vault.load(session, payload)
    with pytest.raises(NotFoundError, match="was erased"):
        vault.encrypt(session, "u-42", "new data")  # an erased subject stays erased
    assert vault.erase(session, "u-42") == entry  # idempotent
    ledger.checkpoint(session, KEY)
    session.commit()
    assert ledger.verify(session, KEY.public_key()).ok


def test_erasing_an_unknown_subject_leaves_a_tombstone(session: Session) -> None:
    vault = SubjectVault(MASTER)
    vault.erase(session, "u-never")
    with pytest.raises(NotFoundError, match="was erased"):
        vault.encrypt(session, "u-never", "x")


def test_purge_never_touches_logs_younger_than_six_months(session: Session) -> None:
    ledger = Ledger()
    vault = SubjectVault(MASTER, ledger=ledger)
    ids = [vault.store(session, f"u-{i}", f"10.0.0.{i}", entry_index=ledger.append(session, "scan", {"i": i}).index)
           for i in range(4)]
    ledger.checkpoint(session, KEY)
    now = utcnow()
    ages = {ids[0]: 400, ids[1]: 200, ids[2]: 182, ids[3]: 0}
    for pid, days in ages.items():
        session.execute(update(PAYLOADS).where(PAYLOADS.c.id == pid).values(created_at=now - timedelta(days=days)))
    session.commit()

    for days in (0, 30, MIN_RETENTION_DAYS - 1):
        with pytest.raises(ValidationError, match="below the legal minimum of 183 days"):
            purge_expired(session, days)
    with pytest.raises(ValidationError):
        purge_expired(session, 365, minimum_days=90)  # the floor cannot be lowered either

    dry = purge_expired(session, MIN_RETENTION_DAYS, dry_run=True, now=now)
    assert (dry.purged, dry.entry) == (2, None)
    report = purge_expired(session, MIN_RETENTION_DAYS, ledger=ledger, now=now)
    session.commit()
    assert report.purged == 2 and report.entry is not None and report.entry.kind == "purge"
    remaining = session.execute(select(PAYLOADS.c.id).order_by(PAYLOADS.c.id)).scalars().all()
    assert remaining == [ids[2], ids[3]]  # 182 days and today survive
    with pytest.raises(NotFoundError, match="purged after retention"):
        vault.load(session, ids[0])
    assert ledger.size(session) == 5  # every Merkle leaf kept, plus the purge record
    assert ledger.verify(session, KEY.public_key()).ok
    assert purge_expired(session, 190, now=now).purged == 0


def test_master_key_files(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "vault-master.key"
    key = generate_master_key(path)
    assert path.stat().st_mode & 0o777 == 0o600 and len(key) == 32
    assert load_master_key(path) == key
    with pytest.raises(ConflictError):
        generate_master_key(path)
    with pytest.raises(KeyMissingError, match="does not exist"):
        load_master_key(tmp_path / "absent.key")
    path.write_text("-----BEGIN X-----\nc2hvcnQ=\n-----END X-----\n")
    with pytest.raises(KeyMissingError, match="damaged"):
        load_master_key(path)
    with pytest.raises(KeyMissingError):
        SubjectVault(b"short")
    with pytest.raises(ValidationError):
        SubjectVault(MASTER).encrypt(None, "", "x")  # type: ignore[arg-type]
