"""``synthguard batch scan``: a local process pool, one JSON line per file, errors recorded and the batch goes on."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import ExitStack
from pathlib import Path

import synthguard.cli.scan  # noqa: F401  (registers the commands)
from synthguard.cli import main
from synthguard.cli.batch import scan_many
from tests.conftest import kodak, postgres_schema
from tests.test_scan import PRODUCER, sd_watermarked


def _folder(tmp_path: Path, sg, user: str) -> Path:
    d = tmp_path / "uploads"
    (d / "sub").mkdir(parents=True)
    shutil.copy(kodak("kodim01.png"), d / "clean.png")
    sg.label(kodak("kodim02.png"), user=user, producer=PRODUCER, output=d / "sub" / "labeled.png", c2pa=False)
    (d / "sd.png").write_bytes(sd_watermarked())
    (d / "corrupt.png").write_bytes(kodak("kodim03.png").read_bytes()[:5000])  # truncated upload
    (d / "notes.txt").write_text("plain text: scanned too (issue 20)")
    (d / "archive.zip").write_bytes(b"PK\x03\x04 not a media file")
    return d


def test_batch_scan_with_a_pool_records_the_corrupt_file_and_goes_on(sg, verified_user, tmp_path, capsys):
    d = _folder(tmp_path, sg, verified_user)
    out = tmp_path / "results.jsonl"
    code = main(["batch", "scan", str(d), "--out", str(out), "--workers", "2", "--json"])
    assert code == 0
    rows = {Path(r["file"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"clean.png", "labeled.png", "sd.png", "corrupt.png", "notes.txt"}
    assert rows["notes.txt"]["verdict"] == "none"
    assert rows["clean.png"]["verdict"] == "none"
    assert rows["labeled.png"]["verdict"] == "ai_generated" and rows["labeled.png"]["label_value"] == "1"
    assert rows["sd.png"]["verdict"] == "suspected_ai"
    bad = rows["corrupt.png"]
    assert bad["verdict"] is None and bad["error"]["error"] == "CorruptMediaError" and bad["error"]["hint"]
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"files": 5, "scanned": 5, "skipped": 0, "engine": "local", "workers": 2, "out": str(out),
                       "ai_generated": 1, "possibly_ai": 0, "suspected_ai": 1, "none": 2, "error": 1,
                       "not_scanned": 1, "not_scanned_files": [{"file": str(d / "archive.zip"), "reason":
                       "unsupported file type '.zip'; the scanner reads images, audio, video, text and office "
                       "documents"}]}


def test_batch_table_output_and_inline_mode(sg, verified_user, tmp_path, capsys):
    d = _folder(tmp_path, sg, verified_user)
    rows = list(scan_many(sorted(d.rglob("*.png")), workers=1, declared_ai=True))
    assert len(rows) == 4
    verdicts = {Path(r["file"]).name: r["verdict"] for r in rows}
    assert verdicts["clean.png"] == "possibly_ai" and verdicts["corrupt.png"] is None
    out = tmp_path / "r.jsonl"
    assert main(["batch", "scan", str(d), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr()
    assert "suspected_ai" in printed.out and "error" in printed.out and len(out.read_text().splitlines()) == 5
    assert "not scanned: " in printed.err and "archive.zip" in printed.err


def test_scan_cli_writes_the_propagator_fields(sg, verified_user, tmp_path, capsys):
    src = tmp_path / "gen.png"
    sg.label(kodak(), user=verified_user, producer=PRODUCER, output=src, c2pa=False)
    out = tmp_path / "served.png"
    platform = "001191110102MAD55U9H0F20001"
    assert main(["scan", str(src), "--write-propagator", str(out), "--propagator", platform,
                 "--propagate-id", "POST-1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "ai_generated" and data["output"] == str(out)
    aigc = sg.inspect(out)["aigc"]
    assert aigc["ContentPropagator"] == platform and aigc["PropagateID"] == "POST-1"


def test_scan_cli_on_a_missing_file_exits_with_an_input_error(sg, tmp_path, capsys):
    assert main(["scan", str(tmp_path / "nope.png")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_an_inline_batch_reads_the_current_database_not_an_earlier_one(settings, tmp_path, monkeypatch, keys_template):
    """Two runs in one process with different homes: the second sees its own hash banks (a core object kept from
    the first run would read the first database: a stale process-global once did)."""
    from synthguard.config import Settings
    from synthguard.core import SynthGuard
    from synthguard.fingerprint.banks import Banks
    from synthguard.store import bank_repo

    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(kodak("kodim15.png"), d / "upload.png")
    first = next(scan_many([d / "upload.png"], workers=1))
    assert first.get("matches") == [], first
    home_b = tmp_path / "home-b"
    shutil.copytree(keys_template, home_b / "keys")
    monkeypatch.setenv("SYNTHGUARD_HOME", str(home_b))
    with ExitStack() as stack:
        if os.environ.get("SYNTHGUARD_DATABASE_URL"):  # make test-postgres: another schema
            monkeypatch.setenv("SYNTHGUARD_DATABASE_URL", stack.enter_context(postgres_schema()))
        with SynthGuard.open(Settings.load()) as sg:
            banks = Banks(sg.db.unit_of_work, sg.ledger, latest_change=lambda: bank_repo.latest_change(sg.db))
            banks.create("removed-content", kind="pdq", description="removed after review", actor="mod-1")
            banks.add_media("removed-content", kodak("kodim15.png"), reason="takedown T-1", actor="mod-1")
        row = next(scan_many([d / "upload.png"], workers=1))
    assert [m["bank"] for m in row["matches"]] == ["removed-content"], row["matches"]
