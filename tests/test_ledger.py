"""Ledger: appends in the caller's transaction, proofs from stored nodes, checkpoints, tampering (DS-18, CSL-01)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, delete, insert, select, update
from sqlalchemy.orm import Session

from synthguard.errors import (
    ConflictError,
    KeyMissingError,
    LedgerIntegrityError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from synthguard.ledger import (
    Ledger,
    generate_ledger_key,
    load_ledger_key,
    load_ledger_public_key,
    log_id,
    parse_checkpoint,
    public_key_pem,
    verify_checkpoint,
    verify_inclusion,
)
from synthguard.ledger.merkle import MemoryTree, leaf_hash, root_plan
from synthguard.store.base import Base
from synthguard.store.ledger_tables import CHECKPOINTS, ENTRIES, HEAD, NODES

KEY = Ed25519PrivateKey.generate()
LEDGER = Ledger()


def _engine(url: str = "sqlite://") -> Engine:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def session() -> Iterator[Session]:
    with Session(_engine()) as s:
        yield s


def _fill(s: Session, n: int, start: int = 0) -> None:
    LEDGER.append_many(s, [("generation", {"content_sha256": f"{i:064x}", "user": f"u-{i}"})
                           for i in range(start, start + n)])
    s.commit()


def _problems(s: Session, kind: str) -> list[int | None]:
    report = LEDGER.verify(s, KEY.public_key())
    assert not report.ok
    return [p.index for p in report.problems if p.kind == kind]


# --- appending ----------------------------------------------------------------------------------
def test_append_assigns_sequential_indices_and_stores_canonical_json(session: Session) -> None:
    first = LEDGER.append(session, "generation", {"b": 1, "a": "é"})
    second = LEDGER.append(session, "label", {"content_id": "c-1"})
    session.commit()
    assert (first.index, second.index) == (0, 1)
    assert first.data.startswith(b'{"body":{"a":"\xc3\xa9","b":1},"index":0,"kind":"generation","time":"')
    assert first.leaf_hash == leaf_hash(first.data)
    stored = LEDGER.entry(session, 0)
    assert (stored.body, stored.kind, stored.created_at, stored.data) == ({"a": "é", "b": 1}, "generation",
                                                                          first.created_at, first.data)
    assert LEDGER.size(session) == 2


def test_append_joins_the_callers_transaction(session: Session) -> None:
    LEDGER.append(session, "generation", {"x": 1})
    session.rollback()  # the generation record failed: its ledger entry must vanish with it
    assert LEDGER.size(session) == 0
    assert LEDGER.append(session, "generation", {"x": 2}).index == 0


@pytest.mark.parametrize(("kind", "body", "words"), [
    ("selfie", {}, "unknown ledger event kind"),
    ("generation", ["not", "a", "dict"], "JSON object"),
    ("generation", {"user": {"email": "a@b.c"}}, "personal data"),
    ("generation", {"IP-Address": "10.0.0.1"}, "personal data"),
    ("generation", {"when": object()}, "not plain JSON"),
    ("generation", {"x": float("nan")}, "not plain JSON"),
    ("generation", {"blob": "x" * 70_000}, "limit"),
])
def test_bad_events_are_refused(session: Session, kind: str, body: object, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        LEDGER.append(session, kind, body)  # type: ignore[arg-type]


# --- roots and proofs from stored nodes ----------------------------------------------------------
def test_roots_and_proofs_match_an_in_memory_tree_for_every_size(session: Session) -> None:
    leaves = []
    for i in range(40):
        leaves.append(LEDGER.append(session, "scan", {"i": i}).leaf_hash)
    session.commit()
    reference = MemoryTree(leaves)
    for size in range(0, 41):
        assert LEDGER.root(session, size) == reference.root(size)
    for size in (1, 2, 3, 7, 8, 9, 31, 33, 40):
        for index in range(size):
            proof = LEDGER.inclusion_proof(session, index, size)
            assert list(proof.hashes) == reference.inclusion_proof(index, size)
            assert proof.verify() and verify_inclusion(leaves[index], index, size, proof.hashes, reference.root(size))
        for old in range(size + 1):
            cproof = LEDGER.consistency_proof(session, old, size)
            assert cproof.verify() and list(cproof.hashes) == reference.consistency_proof(old, size)
    assert LEDGER.inclusion_proof(session, 5).to_dict()["tree_size"] == 40


def test_proof_requests_outside_the_tree_are_clear_errors(session: Session) -> None:
    _fill(session, 10)
    with pytest.raises(ValidationError, match="tree size 11 is not available"):
        LEDGER.inclusion_proof(session, 2, 11)
    with pytest.raises(NotFoundError):
        LEDGER.inclusion_proof(session, 10, 10)
    with pytest.raises(ValidationError):
        LEDGER.consistency_proof(session, 8, 5)
    with pytest.raises(NotFoundError):
        LEDGER.entry(session, 99)
    proof = LEDGER.inclusion_proof(session, 3, 8)  # a proof for size 8 checked against the size-10 root
    assert not verify_inclusion(proof.leaf_hash, 3, 10, proof.hashes, LEDGER.root(session))


def test_sqlite_fast_path_writes_the_rows_sqlalchemy_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite the append's statements run on sqlite3 directly (issue 28): the stored rows -- entries with their
    time, nodes, head -- are byte for byte those of the SQLAlchemy path, and read back as timezone-aware UTC."""
    from datetime import UTC, datetime

    from synthguard.store import ledger_repo

    when = datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)
    events = [("scan", {"sha256": f"{i:064x}", "verdict": "none"}) for i in range(37)]

    def rows(fast: bool) -> tuple[list[tuple[object, ...]], ...]:
        engine = _engine()
        if not fast:
            monkeypatch.setattr(ledger_repo, "_sqlite", lambda s: None)
        with Session(engine) as s:
            for i in range(0, len(events), 5):  # several appends: nodes closed across calls
                LEDGER.append_many(s, events[i:i + 5], time=when)
                s.commit()
            with engine.connect() as conn:
                raw = tuple(conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1, 2").all()
                            for t in ("ledger_entries", "ledger_nodes", "ledger_head"))
            assert LEDGER.entry(s, 36).created_at == when
        monkeypatch.undo()
        return raw

    fast, slow = rows(True), rows(False)
    assert fast == slow and len(fast[0]) == 37 and fast[1]


def test_sqlite_fast_path_errors_are_store_errors(tmp_path: Path) -> None:
    """A driver error on the fast path (here: the ledger's tables are missing) is a StoreError, not sqlite3's."""
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with Session(engine) as s, pytest.raises(StoreError, match="append to the ledger"):
        LEDGER.append(s, "scan", {"x": 1})


def test_two_appenders_never_share_an_index(tmp_path: Path) -> None:
    engine = _engine(f"sqlite:///{tmp_path / 'l.db'}")
    errors: list[BaseException] = []

    def worker(tag: str) -> None:
        try:
            with Session(engine) as s:
                for i in range(100):
                    LEDGER.append(s, "scan", {"by": tag, "i": i})
                    s.commit()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Session(engine) as s:
        assert s.execute(select(ENTRIES.c.idx).order_by(ENTRIES.c.idx)).scalars().all() == list(range(200))
        LEDGER.checkpoint(s, KEY)
        s.commit()
        assert LEDGER.verify(s, KEY.public_key()).ok


# --- checkpoints and keys -------------------------------------------------------------------------
def test_checkpoint_round_trip_and_wrong_key(session: Session) -> None:
    _fill(session, 5)
    cp = LEDGER.checkpoint(session, KEY)
    session.commit()
    text = cp.to_text()
    origin = LEDGER.origin_for(KEY)
    assert origin == f"synthguard.ledger/{log_id(KEY)[:16]}"  # unique per log when none is configured
    assert text.splitlines()[:2] == [origin, "5"] and f"\n\n\u2014 {origin} " in text
    parsed = parse_checkpoint(text)
    assert parsed == cp and parsed.root_hash == LEDGER.root(session)
    verify_checkpoint(parsed, KEY.public_key())
    assert LEDGER.latest_checkpoint(session) == cp
    with pytest.raises(LedgerIntegrityError, match="not by the given key"):
        verify_checkpoint(parsed, Ed25519PrivateKey.generate().public_key())
    forged = parse_checkpoint(text.replace("\n5\n", "\n6\n"))
    with pytest.raises(LedgerIntegrityError, match="invalid signature"):
        verify_checkpoint(forged, KEY)
    for bad in ("", "hello\n", text.replace("\n5\n", "\n05\n"), text.replace("\n\n", "\n\n\n")):
        with pytest.raises(ValidationError):
            parse_checkpoint(bad)
    for altered in (text.replace("time ", "tim "), text.replace("\n\n", "\nextra\n\n")):
        cp2 = parse_checkpoint(altered)  # extension lines are opaque (C2SP) ...
        assert cp2.to_text() == altered
        with pytest.raises(LedgerIntegrityError, match="invalid signature"):  # ... but they are signed
            verify_checkpoint(cp2, KEY)


def test_ledger_key_files(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ledger-ed25519.key"
    key = generate_ledger_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"BEGIN PRIVATE KEY" in path.read_bytes()
    assert public_key_pem(load_ledger_key(path)) == public_key_pem(key)
    with pytest.raises(ConflictError):
        generate_ledger_key(path)
    (tmp_path / "pub.pem").write_bytes(public_key_pem(key))
    assert public_key_pem(load_ledger_public_key(tmp_path / "pub.pem")) == public_key_pem(key)
    with pytest.raises(KeyMissingError):
        load_ledger_key(tmp_path / "absent.key")
    (tmp_path / "junk.key").write_text("not a key")
    with pytest.raises(KeyMissingError, match="not an unencrypted PEM"):
        load_ledger_key(tmp_path / "junk.key")


# --- tampering: every change is detected and named -------------------------------------------------
@pytest.fixture
def signed(session: Session) -> Session:
    _fill(session, 20)
    LEDGER.checkpoint(session, KEY)
    _fill(session, 12, start=20)
    LEDGER.checkpoint(session, KEY)
    session.commit()
    assert LEDGER.verify(session, KEY.public_key()).ok
    return session


def _set(s: Session, index: int, **values: object) -> None:
    s.execute(update(ENTRIES).where(ENTRIES.c.idx == index).values(**values))
    s.commit()


def test_edited_entry_is_named(signed: Session) -> None:
    data = signed.execute(select(ENTRIES.c.data).where(ENTRIES.c.idx == 7)).scalar_one()
    _set(signed, 7, data=data.replace(b"u-7", b"u-8"))
    assert _problems(signed, "edited") == [7]


def test_edited_entry_with_rewritten_leaf_hash_is_named_by_node_and_checkpoint(signed: Session) -> None:
    data = signed.execute(select(ENTRIES.c.data).where(ENTRIES.c.idx == 7)).scalar_one().replace(b"u-7", b"u-8")
    _set(signed, 7, data=data, leaf_hash=leaf_hash(data))
    report = LEDGER.verify(signed, KEY.public_key())
    kinds = {p.kind for p in report.problems}
    assert {"node", "checkpoint-root"} <= kinds
    assert any(p.kind == "node" and "entries 6..7" in p.detail for p in report.problems)


def test_edited_column_is_named(signed: Session) -> None:
    _set(signed, 3, kind="consent")
    assert _problems(signed, "edited") == [3]


def test_deleted_entry_is_named(signed: Session) -> None:
    signed.execute(delete(ENTRIES).where(ENTRIES.c.idx == 11))
    signed.commit()
    assert _problems(signed, "missing") == [11]


def test_reordered_entries_are_named(signed: Session) -> None:
    rows = {r.idx: r for r in signed.execute(select(ENTRIES).where(ENTRIES.c.idx.in_([3, 5])))}
    for a, b in ((3, 5), (5, 3)):
        _set(signed, a, data=rows[b].data, leaf_hash=rows[b].leaf_hash, kind=rows[b].kind)
    assert _problems(signed, "moved") == [3, 5]


def test_inserted_entry_is_named(signed: Session) -> None:
    rows = signed.execute(select(ENTRIES).where(ENTRIES.c.idx >= 10).order_by(ENTRIES.c.idx.desc())).all()
    for r in rows:  # shift everything from 10 up by one, then slip a forged row into the gap
        signed.execute(update(ENTRIES).where(ENTRIES.c.idx == r.idx).values(idx=r.idx + 1))
    forged = rows[-1].data.replace(b'"u-10"', b'"u-99"')
    signed.execute(insert(ENTRIES).values(idx=10, kind="generation", created_at=rows[-1].created_at, data=forged,
                                          leaf_hash=leaf_hash(forged)))
    signed.commit()
    report = LEDGER.verify(signed, KEY.public_key())
    moved = [p for p in report.problems if p.kind == "moved"]
    assert [p.index for p in moved] == list(range(11, 33))  # the insertion point is the first moved row
    assert "written as index 10: reordered, or rows were inserted before it" in moved[0].detail
    assert {"extra", "checkpoint-root"} <= {p.kind for p in report.problems}


def test_row_appended_outside_the_api_is_named(signed: Session) -> None:
    row = signed.execute(select(ENTRIES).where(ENTRIES.c.idx == 31)).one()
    signed.execute(insert(ENTRIES).values(idx=32, kind=row.kind, created_at=row.created_at, data=row.data,
                                          leaf_hash=row.leaf_hash))
    signed.commit()
    assert _problems(signed, "extra") == [32]


def _truncate(s: Session, size: int) -> None:
    """What a careful attacker does: drop the tail and rebuild head and node cache to look consistent."""
    s.execute(delete(ENTRIES).where(ENTRIES.c.idx >= size))
    for level in range(1, 64):
        s.execute(delete(NODES).where(NODES.c.level == level, NODES.c.idx >= size >> level))
    leaves = s.execute(select(ENTRIES.c.leaf_hash).order_by(ENTRIES.c.idx)).scalars().all()
    tree = MemoryTree(leaves)
    frontier = b"".join(tree.node(n) for n in root_plan(size))
    s.execute(update(HEAD).values(size=size, frontier=frontier))
    s.commit()


def test_truncation_is_named(signed: Session) -> None:
    _truncate(signed, 25)
    assert _problems(signed, "checkpoint-truncated") == [25]


def test_truncate_and_reappend_is_caught_by_the_checkpoint(signed: Session) -> None:
    _truncate(signed, 15)
    _fill(signed, 17, start=100)  # same size as before, different history
    assert LEDGER.size(signed) == 32
    report = LEDGER.verify(signed, KEY.public_key())
    kinds = [p.kind for p in report.problems]
    assert kinds == ["checkpoint-root", "checkpoint-root"]
    assert "0..19" in report.problems[0].detail  # no earlier checkpoint still matches
    assert not any(k in kinds for k in ("edited", "missing", "moved"))  # the rows themselves look consistent


def test_rewritten_history_signed_again_is_a_fork(signed: Session) -> None:
    _truncate(signed, 15)
    _fill(signed, 20, start=100)
    LEDGER.checkpoint(signed, KEY)  # the key holder signs the rewritten history: a split view
    signed.commit()
    report = LEDGER.verify(signed, KEY.public_key())
    assert [p.kind for p in report.problems] == ["checkpoint-root", "checkpoint-root", "checkpoint-fork"]
    assert "#2 (size 32) is not a prefix of #3 (size 35)" in report.problems[2].detail


def test_node_cache_and_head_tampering_are_named(signed: Session) -> None:
    signed.execute(update(NODES).where(NODES.c.level == 2, NODES.c.idx == 1).values(hash=bytes(32)))
    signed.execute(update(HEAD).values(frontier=bytes(64)))
    signed.commit()
    report = LEDGER.verify(signed, KEY.public_key())
    assert [p.kind for p in report.problems] == ["head", "node"]
    assert report.problems[1].index == 4 and "entries 4..7" in report.problems[1].detail
    with pytest.raises(LedgerIntegrityError):
        report.raise_if_failed()


def test_checkpoint_tampering_and_wrong_key(signed: Session) -> None:
    report = LEDGER.verify(signed, Ed25519PrivateKey.generate().public_key())
    assert [p.kind for p in report.problems] == ["checkpoint-signature"] * 2
    note = signed.execute(select(CHECKPOINTS.c.note).where(CHECKPOINTS.c.id == 1)).scalar_one()
    signed.execute(update(CHECKPOINTS).where(CHECKPOINTS.c.id == 1).values(note=note.replace("\n20\n", "\n19\n")))
    signed.execute(update(CHECKPOINTS).where(CHECKPOINTS.c.id == 2).values(tree_size=31))
    signed.commit()
    report = LEDGER.verify(signed, KEY.public_key())
    assert [p.kind for p in report.problems] == ["checkpoint-signature", "checkpoint-invalid"]
    assert "invalid signature" in report.problems[0].detail and "#2" in report.problems[1].detail


def test_hand_edited_text_columns_do_not_crash_the_audit(signed: Session) -> None:
    signed.connection().exec_driver_sql("UPDATE ledger_entries SET data = 'plain text', created_at = 'soon' "
                                        "WHERE idx = 4")
    signed.commit()
    assert _problems(signed, "edited") == [4]


# --- a damaged database file --------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_database_gives_a_verdict_not_a_crash(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "ledger.db"
    engine = _engine(f"sqlite:///{path}")
    with Session(engine) as s:
        _fill(s, 3000)
        LEDGER.checkpoint(s, KEY)
        s.commit()
    engine.dispose()
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 3] if damage == "truncate" else raw[:100] + b"\x5a" * (len(raw) - 100))
    engine = create_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        report = LEDGER.verify(s, KEY.public_key())
        assert not report.ok
        assert report.problems[-1].kind in {"unreadable", "missing", "checkpoint-truncated", "head"}
    with Session(engine) as s, pytest.raises(StoreError):
        for i in range(3000):
            LEDGER.entry(s, i)
        LEDGER.append(s, "scan", {})
        LEDGER.root(s, 3000)


def test_verify_of_an_empty_ledger(session: Session) -> None:
    report = LEDGER.verify(session, KEY.public_key())
    assert report.ok and report.size == 0 and "ledger OK: 0 entries" in report.summary()
