"""The job queue on SQLite and Postgres: idempotency, leases, visibility timeout, retries, dead letter, and the
scan job whose completion commits with exactly one ledger entry (DS-10, LM-13..17: what the platform decided)."""

from __future__ import annotations

import multiprocessing as mp
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from synthguard.core import SynthGuard
from synthguard.errors import ConflictError, CorruptMediaError, NotFoundError, ValidationError
from synthguard.jobs import BlobStore, LeaseLostError, Queue, backoff_seconds
from synthguard.media import Media
from synthguard.store.base import utcnow
from synthguard.store.db import Database
from synthguard.store.ledger_tables import ENTRIES
from tests.conftest import image_bytes

PNG = image_bytes("PNG", size=(160, 120))


@pytest.fixture
def core(backend_settings):
    sg = SynthGuard.open(backend_settings.model_copy(update={"job_backoff_seconds": 0.05}))
    yield sg
    sg.close()


class Clock:
    """The queue's injected clock, moved on by the test instead of sleeping (leases, backoff and run_after all read
    it)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(core):
    """A clock for the test's own queues (``Queue(..., clock=clock)``) and for the core's, which workers use."""
    c = Clock()
    core.jobs.queue.clock = c
    return c


def scan_entries(sg: SynthGuard) -> list[dict]:
    import json

    with sg.db.session() as s:
        rows = s.execute(select(ENTRIES.c.data).where(ENTRIES.c.kind == "scan")).scalars().all()
    return [json.loads(r)["body"] for r in rows]


# --- the queue -----------------------------------------------------------------------------------------
def test_an_idempotency_key_returns_the_first_job_and_a_reused_key_with_other_data_conflicts(core):
    q = core.jobs.queue
    job, created = q.enqueue("checkpoint", {"a": 1}, tenant="acme", key="upload-7")
    again, created2 = q.enqueue("checkpoint", {"a": 1}, tenant="acme", key="upload-7")
    assert created and not created2 and again["id"] == job["id"]
    other, created3 = q.enqueue("checkpoint", {"a": 1}, tenant="beta", key="upload-7")  # keys are per tenant
    assert created3 and other["id"] != job["id"]
    with pytest.raises(ConflictError, match="different request"):
        q.enqueue("checkpoint", {"a": 2}, tenant="acme", key="upload-7")
    with pytest.raises(ValidationError):
        q.enqueue("checkpoint", {}, key="x" * 129)
    assert q.stats()["queued"] == 2


def test_a_lost_race_on_the_same_key_returns_the_winner(core, monkeypatch):
    q = core.jobs.queue
    first, _ = q.enqueue("checkpoint", {}, key="race")
    real = q._by_key
    calls = []

    def late(*args):  # the other request committed between our lookup and our insert
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(q, "_by_key", late)
    again, created = q.enqueue("checkpoint", {}, key="race")
    assert not created and again["id"] == first["id"] and len(calls) == 2
    assert q.stats()["queued"] == 1


def test_claim_leases_one_job_once_and_completion_is_fenced_by_the_lease(core):
    q = core.jobs.queue
    job, _ = q.enqueue("checkpoint", {})
    lease = q.claim("w1")
    assert lease is not None and lease.id == job["id"] and lease.attempts == 1
    assert q.claim("w2") is None  # leased, not expired: invisible to other workers
    with core.db.unit_of_work() as uow:
        q.complete(uow, lease, {"ok": True}, ledger_index=None)
    got = q.get(job["id"])
    assert got["state"] == "done" and got["result"] == {"ok": True} and got["finished_at"]
    with pytest.raises(LeaseLostError), core.db.unit_of_work() as uow:  # a second completion is refused
        q.complete(uow, lease, {"ok": False})
    assert q.get(job["id"])["result"] == {"ok": True}


def test_an_expired_lease_is_claimed_again_and_the_old_worker_cannot_complete(core, clock):
    q = Queue(core.db.unit_of_work, lease_seconds=0.3, max_attempts=3, clock=clock)
    job, _ = q.enqueue("checkpoint", {})
    old = q.claim("dead-worker")
    assert q.claim("w2") is None
    clock.sleep(0.29)
    assert q.claim("w2") is None  # not yet
    clock.sleep(0.16)  # the visibility timeout passes: the worker is presumed dead
    new = q.claim("w2")
    assert new is not None and new.id == job["id"] and new.attempts == 2 and new.token != old.token
    with pytest.raises(LeaseLostError), core.db.unit_of_work() as uow:
        core.ledger.append(uow.session, "scan", {"job": job["id"], "stale": True})
        q.complete(uow, old, {"by": "old"})
    assert scan_entries(core) == []  # its ledger entry rolled back with it
    with core.db.unit_of_work() as uow:
        q.complete(uow, new, {"by": "new"})
    assert q.get(job["id"])["result"] == {"by": "new"}


def test_a_job_whose_workers_keep_dying_ends_in_the_dead_letter(core, clock):
    q = Queue(core.db.unit_of_work, lease_seconds=0.1, max_attempts=2, clock=clock)
    job, _ = q.enqueue("checkpoint", {})
    assert q.claim("a") is not None
    clock.sleep(0.15)
    assert q.claim("b").attempts == 2
    clock.sleep(0.15)
    assert q.claim("c") is None  # third lease would exceed max_attempts: dead instead
    dead = q.get(job["id"])
    assert dead["state"] == "dead" and dead["error"]["error"] == "LeaseExpired"


def test_failures_retry_with_exponential_backoff_then_go_dead_and_can_be_requeued(core, clock):
    q = Queue(core.db.unit_of_work, lease_seconds=30, max_attempts=3, backoff_base=0.2, clock=clock)
    job, _ = q.enqueue("checkpoint", {})
    lease = q.claim("w")
    assert q.fail(lease, {"error": "StoreError", "message": "x"}, retry=True) == "queued"
    row = q.get(job["id"])
    assert row["state"] == "queued" and row["error"]["attempt"] == 1
    assert q.claim("w") is None  # backing off
    clock.sleep(0.19)
    assert q.claim("w") is None  # first delay: 0.2 s (+ up to 10 %)
    clock.sleep(0.06)
    lease = q.claim("w")
    assert lease is not None and lease.attempts == 2
    assert q.fail(lease, {"error": "E"}, retry=True) == "queued"
    assert q.claim("w") is None
    clock.sleep(0.39)
    assert q.claim("w") is None  # still backing off: the delay doubled
    clock.sleep(0.06)  # second delay doubles: 0.4 s (+ up to 10 %)
    lease = q.claim("w")
    assert lease.attempts == 3
    assert q.fail(lease, {"error": "E"}, retry=True) == "dead"  # attempts exhausted
    assert q.fail(lease, {"error": "E"}, retry=True) is None  # no lease any more
    assert q.stats()["dead"] == 1
    again = q.requeue(job["id"])
    assert again["state"] == "queued" and again["attempts"] == 0
    with pytest.raises(ConflictError):
        q.requeue(job["id"])
    with pytest.raises(NotFoundError):
        q.requeue("J-nope")


def test_backoff_doubles_and_is_capped():
    assert 2.0 <= backoff_seconds(1, 2.0) <= 2.2
    assert 16.0 <= backoff_seconds(4, 2.0) <= 17.6
    assert backoff_seconds(50, 2.0) <= 3600 * 1.1


def test_other_tenants_jobs_are_not_found(core):
    job, _ = core.jobs.queue.enqueue("checkpoint", {}, tenant="acme")
    assert core.jobs.get(job["id"], tenant="acme")["id"] == job["id"]
    with pytest.raises(NotFoundError):
        core.jobs.get(job["id"], tenant="beta")
    with pytest.raises(NotFoundError):
        core.jobs.get("x" * 500)
    assert [j["id"] for j in core.jobs.queue.recent(tenant="beta")] == []
    with pytest.raises(ValidationError):
        core.jobs.queue.recent(state="nonsense")


# --- the scan job ---------------------------------------------------------------------------------------
def test_a_scan_job_stores_the_result_and_exactly_one_ledger_entry_in_one_transaction(core):
    media = Media.from_bytes(PNG, "upload.png")
    job, created = core.jobs.submit_scan(media, tenant="acme", key="u-1", declared_ai=True)
    assert created and job["state"] == "queued"
    assert core.jobs.blobs.get(_blob(core, job)) == PNG  # durable before the job was visible
    assert core.jobs.work() == 1
    done = core.jobs.get(job["id"], tenant="acme")
    assert done["state"] == "done" and done["result"]["verdict"] == "possibly_ai" and done["attempts"] == 1
    entries = [e for e in scan_entries(core) if e.get("job") == job["id"]]
    assert len(entries) == 1 and entries[0]["verdict"] == "possibly_ai" and entries[0]["sha256"] == media.sha256
    assert done["ledger_index"] is not None
    assert core.jobs.submit_scan(media, tenant="acme", key="u-1", declared_ai=True)[1] is False
    assert core.jobs.work() == 0  # the repeated submission did not enqueue a second scan
    assert core.verify_ledger()["ok"]


def test_a_corrupt_upload_goes_dead_at_once_and_logs_nothing(core):
    job, _ = core.jobs.submit_scan(Media.from_bytes(PNG[:400], "cut.png"))
    assert core.jobs.work() == 1
    dead = core.jobs.get(job["id"])
    assert dead["state"] == "dead" and dead["attempts"] == 1 and dead["error"]["error"] == "CorruptMediaError"
    assert dead["error"]["hint"]
    assert scan_entries(core) == []


def test_a_lost_blob_is_a_clear_error_and_the_job_is_kept(core):
    job, _ = core.jobs.submit_scan(Media.from_bytes(PNG, "a.png"))
    core.jobs.blobs.path(_blob(core, job)).unlink()
    core.jobs.worker().run_one()
    dead = core.jobs.get(job["id"])
    assert dead["state"] == "dead" and dead["error"]["error"] == "NotFoundError"
    assert "SYNTHGUARD_HOME" in dead["error"]["hint"]


def _blob(sg: SynthGuard, job: dict) -> str:
    from synthguard.store.job_tables import Job

    with sg.db.session() as s:
        return s.get(Job, job["id"]).payload["blob"]


def test_a_handler_bug_is_retried_then_dead_lettered(core, clock):
    q = core.jobs.queue
    job, _ = q.enqueue("checkpoint", {}, max_attempts=2)

    def boom(ctx, lease):
        raise RuntimeError("handler bug")

    w = core.jobs.worker(handlers={"checkpoint": boom})
    assert w.run_one() == job["id"] and q.get(job["id"])["state"] == "queued"
    clock.sleep(0.12)
    assert w.run_one() == job["id"]
    dead = q.get(job["id"])
    assert dead["state"] == "dead" and dead["error"]["error"] == "RuntimeError" and w.failed == 2


def test_a_database_error_mid_job_requeues_it_and_pauses_the_worker(core):
    from synthguard.errors import StoreError

    job, _ = core.jobs.queue.enqueue("checkpoint", {})

    def db_gone(ctx, lease):
        raise StoreError("database error: OperationalError: server closed the connection")

    with pytest.raises(StoreError):
        core.jobs.worker(handlers={"checkpoint": db_gone}).run_one()
    row = core.jobs.get(job["id"])
    assert row["state"] == "queued" and row["error"]["error"] == "StoreError"  # not waiting out the lease


def test_an_unknown_kind_is_refused_at_submit_and_dead_lettered_if_it_slips_in(core):
    with pytest.raises(ValidationError, match="unknown job kind"):
        core.jobs.submit("reticulate", {})
    job, _ = core.jobs.queue.enqueue("reticulate", {}, max_attempts=1)
    core.jobs.worker().run_one()
    assert core.jobs.get(job["id"])["state"] == "dead"


def test_checkpoint_jobs_sign_the_tree_head(core):
    with core.db.session() as s:
        core.ledger.append(s, "scan", {"sha256": "0" * 64})
    job, _ = core.jobs.submit("checkpoint")
    assert core.jobs.worker().run(burst=True) == 1
    done = core.jobs.get(job["id"])
    assert done["state"] == "done" and done["result"]["tree_size"] == 1
    assert core.latest_checkpoint()["tree_size"] == 1


def test_an_idle_worker_wakes_at_once_for_a_new_job_on_postgres(core):
    """LISTEN/NOTIFY: with a 30-s poll an idle worker still starts a new job within moments (SQLite: the poll)."""
    import threading

    if core.db.engine.dialect.name != "postgresql":
        pytest.skip("notifications are a Postgres feature; SQLite mode runs jobs inline")
    w = core.jobs.worker(poll=30.0)
    t = threading.Thread(target=w.run, kwargs={"max_jobs": 1}, daemon=True)
    t.start()
    assert w.idle.wait(10)  # the worker found nothing and listens
    t0 = time.monotonic()
    job, _ = core.jobs.submit("checkpoint")
    t.join(timeout=10)
    assert not t.is_alive() and core.jobs.get(job["id"])["state"] == "done"
    assert time.monotonic() - t0 < 5.0


def test_the_wakeup_falls_back_to_polling_when_it_cannot_listen(settings):
    import threading

    from sqlalchemy import make_url

    from synthguard.jobs.worker import Wakeup

    stop = threading.Event()
    w = Wakeup(make_url("postgresql+psycopg://nobody@127.0.0.1:1/none"), stop)  # nothing listens on port 1
    t0 = time.monotonic()
    w.wait(0.3)
    assert 0.25 <= time.monotonic() - t0 < 6 and w.conn is None
    stop.set()
    t0 = time.monotonic()
    w.wait(10)  # a stopping worker does not wait
    assert time.monotonic() - t0 < 1


# --- blobs ----------------------------------------------------------------------------------------------
def test_blob_store_round_trip_and_errors(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    d = store.put(b"hello")
    assert store.put(b"hello") == d and store.get(d) == b"hello"
    store.path(d).write_bytes(b"jello")
    with pytest.raises(CorruptMediaError, match="does not match"):
        store.get(d)
    with pytest.raises(NotFoundError):
        store.get("0" * 64)
    with pytest.raises(ValidationError):
        store.get("../../etc/passwd")
    assert store.prune(older_than_seconds=-1) == 1 and not store.path(d).exists()


# --- concurrency ----------------------------------------------------------------------------------------
def _claimer(url: str, name: str, out) -> None:  # runs in a child process
    q = Queue(Database(url, auto_migrate=False).unit_of_work, lease_seconds=600)
    got = []
    while (lease := q.claim(name)) is not None:
        with q.units() as uow:
            q.complete(uow, lease, {"by": name})
        got.append(lease.id)
    out.put(got)


def test_two_processes_claiming_from_one_queue_never_get_the_same_job(core):
    q = core.jobs.queue
    ids = {q.enqueue("checkpoint", {"n": i})[0]["id"] for i in range(60)}
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(core.settings.db_url, f"p{i}", out)) for i in range(3)]
    core.db.dispose()  # no pooled connection crosses the fork
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    claimed = [j for r in results for j in r]
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    with core.db.session() as s:
        from synthguard.store.job_tables import Job

        assert s.scalar(select(func.count()).select_from(Job).where(Job.state == "done")) == 60
        assert s.scalar(select(func.max(Job.attempts))) == 1


def test_job_ids_are_unique_and_time_ordered():
    from synthguard.jobs.queue import new_job_id

    clock = Clock()
    a = new_job_id(clock)
    clock.sleep(0.002)
    b = new_job_id(clock)
    assert a != b and a[:13] <= b[:13] and len(a) <= 32
