"""One deep scan per content, every upload attached to it (issue 28).

The issue's report: with ``scan_watermark_search=priors`` the second upload of any unlabeled image answered 409
(the deep-scan job's idempotency key was the content hash, its payload held the upload's name).  Now the job
depends on the bytes only and each upload is attached to it; the job delivers each upload its own result.
"""

from __future__ import annotations

import io
import multiprocessing as mp
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthguard.auth import Role, create_token
from synthguard.core import SynthGuard
from synthguard.server import create_app
from tests.conftest import auth, kodak

N = 50


def rotated_copy(sg: SynthGuard, tmp_path) -> bytes:
    """A labeled image, rotated 3 degrees and cropped: only the full watermark search finds its mark."""
    sg.add_user("u-x")
    sg.verify_user("u-x", "mobile", identifier="+86 138 0013 8000")
    out = tmp_path / "gen.png"
    sg.label(kodak(), user="u-x", producer="ACME", output=out, c2pa=False)
    img = Image.open(out).convert("RGB")
    buf = io.BytesIO()
    img.rotate(3, resample=Image.BICUBIC).crop((40, 40, img.width - 40, img.height - 40)).save(buf, "JPEG",
                                                                                             quality=90)
    return buf.getvalue()


def _serve(settings, token: str, data: bytes, first: int, barrier, out) -> None:
    """One server process ("worker"): its own core object, engine and caches; N/2 concurrent uploads."""
    with SynthGuard.open(settings) as sg, TestClient(create_app(settings, sg=sg)) as client:
        def post(i: int) -> tuple[int, int, dict]:
            r = client.post("/v1/scan", files={"file": (f"upload-{i}.jpg", data, "image/jpeg")},
                            data={"declared_ai": "true" if i % 10 == 0 else "false"}, headers=auth(token))
            return i, r.status_code, r.json()

        barrier.wait(timeout=120)
        with ThreadPoolExecutor(N // 2) as pool:
            for row in pool.map(post, range(first, first + N // 2)):
                out.put(row)


@pytest.fixture
def priors(backend_settings):
    return backend_settings.model_copy(update={"scan_watermark_search": "priors", "jobs_inline": True})


def test_fifty_concurrent_uploads_of_one_file_on_two_workers_make_one_deep_scan(priors, tmp_path):
    with SynthGuard.open(priors) as sg:
        data = rotated_copy(sg, tmp_path)
        token = create_token(sg.db, Role.PLATFORM, "acme", "p")[0]
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_serve, args=(priors, token, data, k * N // 2, barrier, out)) for k in range(2)]
    for p in procs:
        p.start()
    rows = [out.get(timeout=600) for _ in range(N)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(i for i, _, _ in rows) == list(range(N))
    assert all(status == 200 for _, status, _ in rows), [b for _, s, b in rows if s != 200][:2]
    with SynthGuard.open(priors) as sg:
        sg.jobs.work()  # nothing should be left; run it anyway so a stranded job would show below
        jobs = sg.jobs.queue.recent(tenant="acme", limit=1000)
        assert [j["kind"] for j in jobs] == ["scan"] and jobs[0]["state"] == "done"
        job = jobs[0]
        assert job["result"]["verdict"] == "ai_generated"
        uploads = {u["id"]: u for u in sg.jobs.uploads(job["id"], tenant="acme")}
        for i, _, body in rows:
            deep = next((a for a in body["actions"] if a["action"] == "deep_scan"), None)
            declared = i % 10 == 0
            if deep is None:  # answered after the deep scan finished: the cached full analysis is the deep result
                assert body["verdict"] == "ai_generated", body
                continue
            assert body["verdict"] == ("possibly_ai" if declared else "none")
            assert deep["job_id"] == job["id"]
            mine = uploads[deep["upload_id"]]
            assert mine["name"] == f"upload-{i}.jpg" and mine["declared_ai"] is declared
            assert mine["delivered_at"] and mine["result"]["verdict"] == "ai_generated"
            assert mine["result"]["file"] == f"upload-{i}.jpg" and mine["ledger_index"] is not None
        attached = [b for _, _, b in rows if any(a["action"] == "deep_scan" for a in b["actions"])]
        assert len(uploads) == len(attached) >= 2  # the crux: several uploads share the one job
        assert len({u["ledger_index"] for u in uploads.values()}) == len(uploads)  # DS-10: one entry each


def test_a_reupload_with_another_name_is_attached_not_refused(settings, tmp_path):
    """The issue's 409, performed: two uploads of the same bytes under different names and declarations."""
    priors = settings.model_copy(update={"scan_watermark_search": "priors", "jobs_inline": False})
    with SynthGuard.open(priors) as sg:
        data = rotated_copy(sg, tmp_path)
        token = create_token(sg.db, Role.PLATFORM, "acme", "p")[0]
        with TestClient(create_app(priors, sg=sg)) as client:
            bodies = []
            for name, declared in (("a.jpg", "false"), ("b.jpg", "true"), ("a.jpg", "false")):
                r = client.post("/v1/scan", files={"file": (name, data, "image/jpeg")},
                                data={"declared_ai": declared}, headers=auth(token))
                assert r.status_code == 200, r.text
                assert "cache;desc=" in r.headers["Server-Timing"]
                bodies.append(r.json())
            deep = [next(a for a in b["actions"] if a["action"] == "deep_scan") for b in bodies]
            assert len({d["job_id"] for d in deep}) == 1 and len({d["upload_id"] for d in deep}) == 3
            assert sg.jobs.work() == 1
            got = client.get(f"/v1/jobs/{deep[0]['job_id']}/uploads", headers=auth(token)).json()
            assert [(u["name"], u["result"]["verdict"]) for u in got] == [
                ("a.jpg", "ai_generated"), ("b.jpg", "ai_generated"), ("a.jpg", "ai_generated")]
            other = create_token(sg.db, Role.PLATFORM, "beta", "p")[0]
            assert client.get(f"/v1/jobs/{deep[0]['job_id']}/uploads", headers=auth(other)).status_code == 404
            r = client.post("/v1/scan", files={"file": ("c.jpg", data, "image/jpeg")},
                            data={"callback_url": "file:///etc/passwd"}, headers=auth(token))
            assert r.status_code == 200  # the cached deep result answers at once: no deep scan, no callback
            assert r.json()["verdict"] == "ai_generated"


def test_an_upload_attached_after_the_job_finished_is_delivered_at_once(settings, tmp_path):
    priors = settings.model_copy(update={"scan_watermark_search": "priors", "jobs_inline": False})
    with SynthGuard.open(priors) as sg:
        data = rotated_copy(sg, tmp_path)
        job, first, created = sg.jobs.deep_scan(sg.media(data), tenant="acme")
        assert created and sg.jobs.work() == 1
        job2, late, created2 = sg.jobs.deep_scan(sg.media(data), tenant="acme", declared_ai=True)
        assert job2["id"] == job["id"] and not created2 and late != first
        rows = {u["id"]: u for u in sg.jobs.uploads(job["id"])}
        assert rows[late]["delivered_at"] and rows[late]["result"]["verdict"] == "ai_generated"
        assert sg.jobs.work() == 0


def test_without_the_cache_a_late_upload_is_delivered_by_the_worker_not_the_request(settings, tmp_path):
    off = settings.model_copy(update={"scan_watermark_search": "priors", "jobs_inline": False, "scan_cache": False})
    with SynthGuard.open(off) as sg:
        data = rotated_copy(sg, tmp_path)
        job, _, _ = sg.jobs.deep_scan(sg.media(data), tenant="acme")
        assert sg.jobs.work() == 1
        _, late, _ = sg.jobs.deep_scan(sg.media(data), tenant="acme")
        assert {u["id"]: u for u in sg.jobs.uploads(job["id"])}[late]["delivered_at"] is None
        assert sg.jobs.work() == 0  # no job ran; the sweep delivered
        assert {u["id"]: u for u in sg.jobs.uploads(job["id"])}[late]["result"]["verdict"] == "ai_generated"


def test_bad_callback_urls_are_refused(settings, tmp_path):
    from synthguard.errors import ValidationError
    from synthguard.jobs.deep import check_callback

    for bad in ("file:///etc/passwd", "ftp://x", "http://x/\n", "https://" + "a" * 3000):
        with pytest.raises(ValidationError):
            check_callback(bad)
    assert check_callback("https://platform.example/hooks/deep") == "https://platform.example/hooks/deep"


def test_registered_content_gets_the_deep_result_and_its_review_case(settings, tmp_path):
    """Moderation (CC-12, LM-13): content registered while only the priors search ran is updated by the deep
    scan: its verdict becomes ai_generated and the policy's label applies."""
    priors = settings.model_copy(update={"scan_watermark_search": "priors", "jobs_inline": False})
    with SynthGuard.open(priors) as sg:
        data = rotated_copy(sg, tmp_path)
        out = sg.moderation.register("acme", "post-1", data, uploader="u-9")
        deep = next(a for a in out["scan"]["actions"] if a["action"] == "deep_scan")
        assert out["content"]["verdict"] == "none" and deep["job_id"]
        assert sg.jobs.work() == 1
        after = sg.moderation.content("acme", "post-1")
        assert after["verdict"] == "ai_generated", after
        assert [n["type"] for n in after["notices"]] == ["label"]  # cn.scan.labelled (LM-13)
        assert sg.jobs.work() == 0
        with sg.db.session() as s:
            entries = [sg.ledger.entry(s, i) for i in range(sg.ledger.size(s))]
        events = [e.body.get("event") for e in entries if e.kind == "moderation"]
        assert events.count("content_rescanned") == 1


def deliveries_fail(monkeypatch):
    """Make every delivery's write fail as a busy SQLite does; returns the real function to put back."""
    from synthguard.errors import StoreError
    from synthguard.store import scan_tables

    real = scan_tables.mark_delivered

    def busy(*a, **k):
        raise StoreError("cannot append to the ledger: database is locked")

    monkeypatch.setattr(scan_tables, "mark_delivered", busy)
    return real


def test_uploads_a_busy_database_left_undelivered_are_swept(settings, tmp_path, monkeypatch):
    """The bench's failure, performed: SQLite busy past its timeout between the deep job's completion and its
    deliveries.  The job is done, the upload waits; the next ``work()`` (or an idle worker) delivers it."""
    from synthguard.store import scan_tables

    priors = settings.model_copy(update={"scan_watermark_search": "priors", "jobs_inline": False})
    with SynthGuard.open(priors) as sg:
        data = rotated_copy(sg, tmp_path)
        job, upload_id, _ = sg.jobs.deep_scan(sg.media(data), tenant="acme")
        real = deliveries_fail(monkeypatch)
        assert sg.jobs.work() == 1
        assert sg.jobs.get(job["id"])["state"] == "done"
        assert sg.jobs.uploads(job["id"])[0]["delivered_at"] is None
        monkeypatch.setattr(scan_tables, "mark_delivered", real)
        assert sg.jobs.work() == 0
        (mine,) = sg.jobs.uploads(job["id"])
        assert mine["id"] == upload_id and mine["result"]["verdict"] == "ai_generated"
        with sg.db.session() as s:
            scans = [sg.ledger.entry(s, i).body for i in range(sg.ledger.size(s))]
        assert sum(1 for b in scans if b.get("upload") == upload_id) == 1  # the failed attempt left no entry


def test_a_repeat_in_another_process_gets_the_finished_deep_result_itself(settings, tmp_path, monkeypatch):
    """A server process holds the priors analysis in memory; the deep scan ran in a worker process, which stored
    the full analysis in the shared table only.  The next repeat asks the table again and answers with the final
    verdict: no second attachment, no second delivery inside the request (issue 28)."""
    priors = settings.model_copy(update={"scan_watermark_search": "priors", "jobs_inline": False})
    with SynthGuard.open(priors) as server, SynthGuard.open(priors) as worker:
        data = rotated_copy(server, tmp_path)
        first = server.scan(data, tenant="acme")
        assert first.verdict == "none" and [a["action"] for a in first.actions].count("deep_scan") == 1
        server.jobs.deep_scan(server.media(data), tenant="acme")
        assert worker.jobs.work() == 1  # the worker's own cache object stores the full analysis
        again = server.scan(data, tenant="acme")
        assert again.verdict == "ai_generated"
        assert not any(a["action"] == "deep_scan" for a in again.actions)


def test_only_an_analysis_waiting_for_its_deep_scan_asks_the_table_again(settings, tmp_path, monkeypatch):
    priors = settings.model_copy(update={"scan_watermark_search": "priors"})
    with SynthGuard.open(priors) as sg:
        unlabeled = sg.media(kodak())
        labeled = sg.media(rotated_copy(sg, tmp_path))  # rotated: its mark waits for the deep scan too
        sg.add_user("u-y")
        sg.verify_user("u-y", "mobile", identifier="+86 138 0013 8001")
        out = tmp_path / "plain.png"
        sg.label(kodak("kodim02.png"), user="u-y", producer="ACME", output=out, c2pa=False)
        found_at_priors = sg.media(out.read_bytes())
        for m in (unlabeled, labeled, found_at_priors):
            sg.scan_cache.analysis(m)  # priors analyses in memory, no full one anywhere
        asked = []
        real = sg.scan_cache.cached  # the table's one-key read the cache was given (issue 23)
        monkeypatch.setattr(sg.scan_cache, "cached", lambda key: asked.append(key) or real(key))
        for _ in range(3):
            for m in (unlabeled, labeled, found_at_priors):
                assert sg.scan_cache.analysis(m).search == "priors"
        assert len(asked) == 6  # the two waiting for a deep scan, each time; the mark found at the priors never


def test_a_late_upload_is_delivered_its_own_result_only(settings, tmp_path, monkeypatch):
    """The job finished while earlier uploads still wait for the worker's delivery: the request that attaches a
    late upload delivers that one upload (a request that served the whole burst took 40-80 ms), the worker's
    sweep the rest."""
    from synthguard.store import scan_tables

    priors = settings.model_copy(update={"scan_watermark_search": "priors", "jobs_inline": False})
    with SynthGuard.open(priors) as sg:
        data = rotated_copy(sg, tmp_path)
        job, early, _ = sg.jobs.deep_scan(sg.media(data), tenant="acme")
        real = deliveries_fail(monkeypatch)
        assert sg.jobs.work() == 1  # done, but the early upload is still waiting
        monkeypatch.setattr(scan_tables, "mark_delivered", real)
        _, late, created = sg.jobs.deep_scan(sg.media(data), tenant="acme")
        assert not created
        rows = {u["id"]: u for u in sg.jobs.uploads(job["id"])}
        assert rows[late]["delivered_at"] and rows[early]["delivered_at"] is None
        assert sg.jobs.work() == 0  # the sweep
        assert all(u["delivered_at"] for u in sg.jobs.uploads(job["id"]))
