"""Batch scans from a folder, a manifest or a bucket URL; resumable from the output; local and Ray engines give
the same rows (the same scan code as `synthguard scan`: the scan contract per line, LM Art. 6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import synthguard.cli.scan  # noqa: F401  (registers the commands)
from synthguard.batch import done_items, scan_item
from synthguard.batch import run_batch as run_batch_with
from synthguard.cli import main
from synthguard.cli.common import open_core
from synthguard.errors import InputError
from synthguard.scan import scan
from synthguard.sources import resolve_source
from tests.conftest import image_bytes, kodak
from tests.test_scan import PRODUCER


def run_batch(*args, **kwargs):  # the cores are opened as the CLI opens them
    return run_batch_with(*args, opener=open_core, **kwargs)


def rows(out: Path) -> dict[str, dict]:
    return {Path(r["file"]).name: r for r in map(json.loads, out.read_text().splitlines())}


@pytest.fixture
def folder(tmp_path, sg, verified_user) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i in range(5):
        (d / f"img{i}.png").write_bytes(image_bytes("PNG", size=(96 + i, 72)))
    sg.label(kodak("kodim02.png"), user=verified_user, producer=PRODUCER, output=d / "labeled.png", c2pa=False)
    return d


def test_a_row_is_exactly_the_cli_scan_contract(sg, folder):
    f = str(folder / "labeled.png")
    row = scan_item(sg, f)
    assert row == {"file": f, **scan(sg.scanner, f).to_dict()} and row["verdict"] == "ai_generated"
    missing = scan_item(sg, str(folder / "gone.png"))
    assert missing["verdict"] is None and missing["error"]["error"] == "InputError" and missing["error"]["hint"]


def test_a_crashed_run_resumes_without_rescanning_or_duplicating(folder, tmp_path):
    out = tmp_path / "r.jsonl"
    first = run_batch(folder, out, workers=1)
    assert first["scanned"] == 6 and first["skipped"] == 0
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines[:3]) + "\n" + lines[3][:40])  # the crash cut the 4th line short
    assert len(done_items(out)) == 3 and out.read_text().endswith("\n")
    second = run_batch(folder, out, workers=1)
    assert second["scanned"] == 3 and second["skipped"] == 3
    names = [json.loads(x)["file"] for x in out.read_text().splitlines()]
    assert len(names) == len(set(names)) == 6
    assert run_batch(folder, out, workers=1)["scanned"] == 0
    assert run_batch(folder, out, workers=1, resume=False)["scanned"] == 6 and len(rows(out)) == 6


def test_manifest_and_file_uri_sources(folder, tmp_path):
    manifest = folder / "list.txt"
    manifest.write_text("# uploads of 2026-11-22\nimg0.png\n\n%s\nnope.png\n" % (folder / "img1.png"))
    assert resolve_source(manifest) == [str(folder / "img0.png"), str(folder / "img1.png"), str(folder / "nope.png")]
    out = tmp_path / "m.jsonl"
    summary = run_batch(manifest, out, workers=1)
    assert summary["files"] == 3 and summary["error"] == 1 and rows(out)["nope.png"]["error"]["hint"]
    uris = resolve_source(f"file://{folder}")  # the bucket code path (pyarrow.fs), on a local "bucket"
    assert len(uris) == 7 and all(u.startswith("file://") for u in uris)  # the manifest too: text is scanned
    run_batch(f"file://{folder}", tmp_path / "u.jsonl", workers=1)
    got = rows(tmp_path / "u.jsonl")
    assert got["labeled.png"]["verdict"] == "ai_generated" and got["img0.png"]["verdict"] == "none", got


def test_bad_sources_and_outputs_are_clear_errors(tmp_path, folder, capsys):
    with pytest.raises(InputError, match="no such file or directory"):
        run_batch(tmp_path / "missing", tmp_path / "o.jsonl")
    with pytest.raises(InputError, match="unknown engine"):
        run_batch(folder, tmp_path / "o.jsonl", engine="spark")
    with pytest.raises(InputError, match="folder does not exist"):
        run_batch(folder, tmp_path / "no" / "o.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(InputError, match="not a batch result"):
        run_batch(folder, bad)
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="UTF-8"):
        resolve_source(tmp_path / "bin.txt")
    assert main(["batch", "scan", str(tmp_path / "missing"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_ray_engine_gives_the_same_rows_as_the_local_engine(folder, tmp_path, capsys):
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'synthguard[ray]')")
    shutil.copy(kodak("kodim03.png"), folder / "photo.png")
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert main(["batch", "scan", str(folder), "--out", str(local), "--workers", "1", "--json"]) == 0
    capsys.readouterr()
    assert main(["batch", "scan", str(folder), "--out", str(ray_out), "--engine", "ray", "--workers", "2",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["engine"] == "ray" and summary["files"] == 7 and summary["ai_generated"] == 1
    a, b = rows(local), rows(ray_out)
    assert a.keys() == b.keys()
    for name in a:
        assert {k: v for k, v in a[name].items() if k != "timings"} == {k: v for k, v in b[name].items()
                                                                       if k != "timings"}, name


def test_parquet_output_with_a_jsonl_checkpoint(folder, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet output needs pyarrow (the ray extra)")
    out = tmp_path / "r.parquet"
    summary = run_batch(folder, out, workers=1)
    assert summary["out"] == str(out) and summary["checkpoint"] == str(tmp_path / "r.jsonl")
    table = pq.read_table(out).to_pylist()
    assert len(table) == 6 and {r["verdict"] for r in table} == {"none", "ai_generated"}
    labeled = next(r for r in table if r["file"].endswith("labeled.png"))
    assert json.loads(labeled["evidence"]) and labeled["error"] is None
    assert run_batch(folder, out, workers=1)["scanned"] == 0 and len(pq.read_table(out)) == 6  # resumed


@pytest.fixture
def s3_bucket(folder, s3):
    """The folder's files under ``s3://uploads/day1/`` on a live S3-compatible server; the bucket URL with its
    endpoint."""
    for f in sorted(folder.iterdir()):
        s3.put(f"uploads/day1/{f.name}", f.read_bytes())
    s3.put("uploads/day1/notes.txt", b"minutes")  # text: scanned too (issue 20)
    s3.put("uploads/day1/archive.zip", b"PK\x03\x04")  # not media: not listed
    s3.put("uploads/day1/broken.jpg", b"\xff\xd8\xff\xe0 cut short")  # an image name, corrupt bytes
    return s3.url("uploads/day1")


def test_an_s3_bucket_scans_like_the_folder_and_resumes(folder, s3_bucket, tmp_path, capsys):
    """A real S3 wire protocol (moto's server on loopback) through pyarrow.fs: the same rows as the local folder,
    a corrupt object is an error row, and a rerun reads nothing twice."""
    items = resolve_source(s3_bucket)
    assert len(items) == 8 and all(i.startswith("s3://uploads/day1/") for i in items)
    assert any("notes.txt" in i for i in items) and not any("archive.zip" in i for i in items)
    local, remote = tmp_path / "local.jsonl", tmp_path / "s3.jsonl"
    run_batch(folder, local, workers=1)
    assert main(["batch", "scan", s3_bucket, "--out", str(remote), "--workers", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["files"] == 8 and summary["error"] == 1 and summary["ai_generated"] == 1
    a, b = rows(local), {name.split("?")[0]: r for name, r in rows(remote).items()}
    assert b["broken.jpg"]["verdict"] is None and b["broken.jpg"]["error"]["hint"]
    for name in a:
        strip = lambda r: {k: v for k, v in r.items() if k not in ("timings", "file")}  # noqa: E731
        assert strip(a[name]) == strip(b[name]), name
    assert run_batch(s3_bucket, remote, workers=1)["scanned"] == 0


def test_an_unreachable_bucket_is_a_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow.fs", reason="bucket URLs need pyarrow")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"s3://uploads/x?endpoint_override=127.0.0.1:{port}&scheme=http&region=us-east-1&connect_timeout=1" \
          f"&request_timeout=1"
    with pytest.raises(InputError, match="cannot (list|open)"):
        run_batch(url, tmp_path / "o.jsonl", workers=1)
    assert not (tmp_path / "o.jsonl").exists()
