"""Issue 22, human output: every view fits 80 columns, shows full values (copyable hashes), leaks no Python repr,
and ``compliance check`` says how to fix a failure.  Output is captured as a terminal of 80 columns shows it."""

from __future__ import annotations

import json
import re

import pytest

from synthguard.cli import main
from synthguard.cli.human import cells, render
from tests.conftest import image_bytes

REPR = re.compile(r"\[['{]|\{'|'\w+': |=None\b|\s(None|True|False)$|…|\w\.\.\.$")
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture
def term(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def check_view(text: str) -> None:
    for line in text.splitlines():
        assert cells(line) <= 80 or " " not in line.strip(), f"wider than 80 columns: {line!r}"
        assert not REPR.search(line), f"a Python repr or a cut value: {line!r}"


@pytest.fixture
def labeled(capsys, settings, tmp_path, term):
    assert main(["users", "add", "u-42"]) == 0
    assert main(["users", "verify", "u-42", "--method", "mobile", "--identifier", "+86 138 0013 8000"]) == 0
    capsys.readouterr()
    src, out = tmp_path / "gen.jpg", tmp_path / "labeled.jpg"
    src.write_bytes(image_bytes("JPEG", size=(800, 500)))
    assert main(["label", str(src), "-o", str(out), "--producer", "ACME", "--user", "u-42", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    return out, data


def test_inspect_record_and_hash_views_fit_and_keep_hashes_whole(capsys, labeled):
    out, data = labeled
    code, text = run(capsys, "inspect", str(out))
    assert code == 0
    check_view(text)
    assert data["sha256"] in text.split()  # the whole hash, as one word a double-click selects
    assert "c2pa.actions.v2" in text and "p_value" in text
    code, text = run(capsys, "record", data["content_id"])
    check_view(text)
    found = set(HEX64.findall(text))
    assert data["sha256"] in found and len(found) >= 4  # output, input, pixel hashes and the Merkle root
    assert "characters; see --json" in text  # the canonical ledger entry is a blob: pointed at, not dumped
    code, text = run(capsys, "hash", str(out))
    check_view(text)
    assert len(HEX64.findall(text)) >= 2


def test_compliance_check_is_one_readable_block_per_check_with_a_fix(capsys, labeled):
    code, text = run(capsys, "compliance", "check")
    assert code == 1  # a fresh deployment fails some checks
    check_view(text)
    blocks = [b for b in text.split("\n\n") if b.startswith("FAIL")]
    assert blocks and all("fix:" in b for b in blocks)
    first_pass = text.index("\npass ") if "\npass " in text else len(text)
    assert all(text.index(b) < first_pass for b in blocks)  # failures come first
    code, raw = run(capsys, "compliance", "check", "--json")
    assert json.loads(raw)["checks"]  # --json unchanged


def test_render_lays_out_nested_values_without_reprs(term):
    data = {"assertions": ["c2pa.actions.v2", "org.synthguard.record"], "subject": None, "ok": True,
            "positions": [{"at": 0.0, "score": 0.91234}, {"at": 12.5, "score": 0.8}],
            "note": "first line\nsecond line of a note", "p_value": 1.968e-137, "hash": "ab" * 32,
            "nested": {"deep": {"value": 3}}, "empty": [], "blank": ""}
    text = render(data, "title")
    check_view(text)
    assert "c2pa.actions.v2, org.synthguard.record" in text and "1.97e-137" in text
    assert "  subject" in text and "second line of a note" in text and "ab" * 32 in text.split()
    assert re.search(r"at\s+score", text) and "0.9123" in text  # a list of rows is a table when it fits


def test_wide_rows_become_blocks(term):
    rows = [{"id": "x" * 30, "path": "/very/long/path/" + "y" * 40, "hash": "c" * 64}]
    text = render(rows)
    check_view(text)
    assert "c" * 64 in text.split()


def test_cjk_counts_two_columns():
    assert cells("AI生成") == 6 and cells("abc") == 3


def test_views_in_a_real_80_column_terminal(capsys, labeled, settings, tmp_path):
    """The issue's check: the commands run in tmux at 80x60; no printed line wraps (tmux marks a wrapped row and
    ``capture-pane -J`` joins it back) and each hash stays one piece on one row, copyable."""
    import os
    import shlex
    import shutil
    import subprocess
    import sys
    import time

    tmux = shutil.which("tmux")
    assert tmux, "tmux is a test dependency (make system-deps installs it)"
    out, data = labeled
    env = os.environ | {"SYNTHGUARD_HOME": str(settings.home), "COLUMNS": "80", "TERM": "xterm"}
    env.pop("TMUX", None)
    for n, args in enumerate((["inspect", str(out)], ["hash", str(out)], ["record", data["content_id"]])):
        sock = str(tmp_path / f"tmux-{n}.sock")  # one server each: a killed one may still hold its socket
        done = tmp_path / "done"
        done.unlink(missing_ok=True)
        cmd = f"{shlex.join([sys.executable, '-m', 'synthguard', *args])}; touch {shlex.quote(str(done))}"
        subprocess.run([tmux, "-S", sock, "new-session", "-d", "-x", "80", "-y", "60", "sh", "-c",
                        f"{cmd}; sleep 30"], env=env, check=True)
        try:
            deadline = time.monotonic() + 60
            while not done.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert done.exists(), args

            def capture(*flags: str, sock: str = sock) -> list[str]:
                return subprocess.run([tmux, "-S", sock, "capture-pane", "-p", *flags, "-t", "0"],
                                      capture_output=True, text=True, check=True).stdout.splitlines()

            rows, previous = capture(), None
            while rows != previous and time.monotonic() < deadline:  # tmux renders the pty's output a moment later
                time.sleep(0.2)
                previous, rows = rows, capture()
            joined = capture("-J")
        finally:
            subprocess.run([tmux, "-S", sock, "kill-server"], env=env, capture_output=True)
        printed = [r.rstrip() for r in rows if r.strip()]
        assert printed, args
        assert [r for r in joined if r.strip()] == printed, f"a line wrapped at 80 columns: {args}"
        assert data["sha256"] in {w for r in printed for w in r.split()} or args[0] == "record"
        assert all(len(h) == 64 for r in printed for h in HEX64.findall(r))
