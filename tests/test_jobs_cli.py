"""`synthguard jobs ...`: enqueue a scan (run inline on SQLite), status, list, show, audit, requeue; bad input
exits with the input-error code and a hint."""

from __future__ import annotations

import json

import synthguard.cli.worker  # noqa: F401  (registers the commands)
from synthguard.cli import main
from synthguard.media import Media
from tests.conftest import image_bytes


def out_json(capsys) -> dict | list:
    return json.loads(capsys.readouterr().out)


def test_jobs_commands_round_trip(sg, tmp_path, capsys):
    f = tmp_path / "up.png"
    f.write_bytes(image_bytes("PNG", size=(100, 80)))
    assert main(["jobs", "scan", str(f), "--key", "k-1", "--declared-ai", "--json"]) == 0
    job = out_json(capsys)
    assert job["created"] and job["state"] == "done" and job["result"]["verdict"] == "possibly_ai"
    assert main(["jobs", "scan", str(f), "--key", "k-1", "--declared-ai", "--json"]) == 0
    assert out_json(capsys)["created"] is False
    assert main(["jobs", "status", "--json"]) == 0
    assert out_json(capsys) == {"queued": 0, "running": 0, "done": 1, "dead": 0}
    assert main(["jobs", "list", "--state", "done", "--json"]) == 0
    assert [j["id"] for j in out_json(capsys)] == [job["id"]]
    assert main(["jobs", "show", job["id"], "--json"]) == 0
    assert out_json(capsys)["ledger_index"] is not None
    assert main(["jobs", "audit", "--json"]) == 0
    report = out_json(capsys)
    assert report["ok"] and report["accepted"] == report["scanned"] == 1 and report["lost"] == 0
    assert main(["jobs", "enqueue", "checkpoint", "--json"]) == 0
    assert out_json(capsys)["state"] == "queued"


def test_dead_jobs_can_be_requeued_from_the_cli(sg, capsys):
    job, _ = sg.jobs.submit_scan(Media.from_bytes(image_bytes("PNG")[:500], "cut.png"))
    sg.jobs.work()
    assert sg.jobs.get(job["id"])["state"] == "dead"
    assert main(["jobs", "requeue", job["id"], "--json"]) == 0
    assert out_json(capsys)["state"] == "queued"
    assert main(["jobs", "requeue", job["id"]]) == 6  # not dead any more: conflict
    assert "not dead" in capsys.readouterr().err


def test_bad_cli_input_is_a_clear_error(sg, tmp_path, capsys):
    assert main(["jobs", "show", "J-nope"]) == 4
    assert main(["jobs", "enqueue", "checkpoint", "--payload", "[1"]) == 2
    assert "not JSON" in capsys.readouterr().err
    assert main(["jobs", "enqueue", "reticulate"]) == 2
    assert main(["jobs", "list", "--state", "sleeping"]) == 2
    (tmp_path / "t.bin").write_bytes(bytes(range(256)) * 2)
    assert main(["jobs", "scan", str(tmp_path / "t.bin")]) == 2  # not a media file: refused before queueing
    assert sg.jobs.queue.stats()["queued"] == 0


def test_prune_keeps_the_uploads_of_unfinished_jobs(sg, capsys):
    done, _ = sg.jobs.submit_scan(Media.from_bytes(image_bytes("PNG", size=(90, 60)), "a.png"))
    sg.jobs.work()
    dead, _ = sg.jobs.submit_scan(Media.from_bytes(image_bytes("PNG", size=(90, 61))[:400], "cut.png"))
    sg.jobs.work()
    later = sg.jobs.blobs.put(b"later")
    sg.jobs.queue.enqueue("scan", {"blob": later, "name": "x"})
    assert sg.jobs.get(dead["id"])["state"] == "dead"
    blob = {j: sg.jobs.blobs.path(_blob(sg, j)) for j in (done["id"], dead["id"])}
    assert main(["jobs", "prune", "--older-than-days", "0", "--json"]) == 0
    assert out_json(capsys) == {"deleted": 1}  # only the finished job's upload
    assert not blob[done["id"]].exists() and blob[dead["id"]].exists() and sg.jobs.blobs.path(later).exists()
    assert sg.jobs.get(done["id"])["result"]["verdict"] == "none"  # its result stays
    assert main(["jobs", "prune", "--json"]) == 0 and out_json(capsys) == {"deleted": 0}  # default: 30 days


def _blob(sg, job_id: str) -> str:
    from synthguard.store.job_tables import Job

    with sg.db.session() as s:
        return s.get(Job, job_id).payload["blob"]
