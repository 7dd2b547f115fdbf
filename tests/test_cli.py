"""The CLI: --json on every command, errors mapped to exit codes with diagnostics."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from synthguard.cli import main
from tests.conftest import image_bytes, kodak


def run(capsys, *args: str) -> tuple[int, dict | list | None, str]:
    code = main(list(args))
    out = capsys.readouterr()
    data = json.loads(out.out) if "--json" in args and out.out.strip() else None
    return code, data, out.err


def test_full_cli_journey(capsys, settings, tmp_path):
    assert run(capsys, "keys", "init", "--json")[0] == 0
    assert run(capsys, "users", "add", "u-42", "--json")[1]["verified"] is False
    code, data, _ = run(capsys, "users", "verify", "u-42", "--method", "credit_code",
                        "--identifier", "91110102MAD55U9H0F", "--json")
    assert code == 0 and data["verified"] and data["verification"]["method"] == "credit_code"
    users = run(capsys, "users", "list", "--json")[1]
    assert [u["id"] for u in users] == ["u-42"]
    out = tmp_path / "o.jpg"
    src = tmp_path / "in.jpg"
    src.write_bytes(image_bytes("JPEG", size=(800, 500)))
    code, data, err = run(capsys, "label", str(src), "-o", str(out), "--producer", "ACME", "--user", "u-42", "--json")
    assert code == 0, err
    assert set(data) >= {"content_id", "output", "marks", "sha256"} and data["output"] == str(out)
    code, seen, _ = run(capsys, "inspect", str(out), "--json")
    assert code == 0 and seen["aigc"]["ProduceID"] == data["content_id"]
    assert seen["c2pa"]["present"] and seen["c2pa"]["state"] in ("valid", "trusted")
    assert seen["watermark"]["detected"] and seen["watermark"]["payload"] == data["watermark_payload"]


def test_human_output(capsys, settings):
    assert main(["users", "add", "u-9"]) == 0
    assert "u-9" in capsys.readouterr().out


def test_unverified_user_exit_code(capsys, settings, tmp_path):
    main(["users", "add", "u-1"])
    capsys.readouterr()
    code, _, err = run(capsys, "label", str(kodak()), "-o", str(tmp_path / "o.png"), "--producer", "ACME",
                       "--user", "u-1", "--json")
    assert code == 5 and json.loads(err)["error"] == "IdentityNotVerifiedError"
    assert not (tmp_path / "o.png").exists()


def test_bad_file_exit_code(capsys, settings, tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(image_bytes("JPEG")[:300])
    code, _, err = run(capsys, "inspect", str(bad))
    assert code == 2 and "truncated" in err and "What to do" in err


def test_watermark_commands(capsys, settings, tmp_path):
    out = tmp_path / "wm.png"
    code, _, err = run(capsys, "watermark", "embed", str(kodak()), str(out), "--payload", "0123456789abcdef", "--json")
    assert code == 0, err
    code, data, _ = run(capsys, "watermark", "detect", str(out), "--json")
    assert code == 0 and data["detected"] is True and data["payload"] == "0123456789abcdef"
    assert set(data) == {"detected", "payload", "score", "p_value"} and data["p_value"] < 1e-6
    code, data, _ = run(capsys, "watermark", "detect", str(kodak()), "--json")
    assert data["detected"] is False and data["payload"] is None
    assert run(capsys, "watermark", "embed", str(kodak()), str(out), "--payload", "zz")[0] == 2


def test_missing_keys_tell_what_to_do(capsys, tmp_path):
    code, _, err = run(capsys, "watermark", "detect", str(kodak()))
    assert code == 3 and "keys init" in err


@pytest.mark.slow
def test_console_script_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "synthguard", "inspect", str(tmp_path / "nope.png")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_usage_errors_exit_2(capsys):
    assert main(["no-such-command"]) == 2
    assert main(["label"]) == 2
    assert "Usage" in capsys.readouterr().err
