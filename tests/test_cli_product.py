"""Issue 22, the defects a new user met: the emergency switch and the technique on the record (DS-05, DS-26),
the record hint, the README's exit codes, ``label --help`` wording and ``-o`` names that lie about the format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from synthguard import errors
from synthguard.auth import Role, create_token
from synthguard.cli import main
from synthguard.server import create_app
from synthguard.store.schema import Record
from tests.conftest import image_bytes

README = Path(__file__).resolve().parents[1] / "README.md"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def cli_user(capsys, settings) -> str:
    assert main(["users", "add", "u-42"]) == 0
    assert main(["users", "verify", "u-42", "--method", "mobile", "--identifier", "+86 138 0013 8000"]) == 0
    capsys.readouterr()
    return "u-42"


def _technique(sg, content_id: str) -> str | None:
    with sg.db.session() as s:
        return s.get(Record, content_id).technique


def test_switch_off_refuses_a_cli_face_swap_and_on_records_the_technique(capsys, settings, sg, cli_user, tmp_path):
    src, alice = tmp_path / "in.png", tmp_path / "alice.png"
    src.write_bytes(image_bytes("PNG", size=(320, 240)))
    alice.write_bytes(image_bytes("PNG", size=(200, 200), mode="L"))  # no face in it: the gate passes
    args = ["label", str(src), "-o", str(tmp_path / "out.png"), "--producer", "ACME", "--user", cli_user,
            "--source", str(alice), "--purpose", "face_swap"]
    assert run(capsys, "compliance", "switch", "off", "face_swap", "--reason", "incident 7")[0] == 0
    code, _, err = run(capsys, *args, "--json")
    assert code == 5 and json.loads(err)["error"] == "FeatureDisabledError" and "incident 7" in err
    assert not (tmp_path / "out.png").exists()
    assert run(capsys, "compliance", "switch", "on", "face_swap", "--reason", "incident 7 closed")[0] == 0
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    assert _technique(sg, json.loads(out)["content_id"]) == "face_swap"  # the purpose is the technique (DS-26)
    code, out, _ = run(capsys, "compliance", "check", "--json")
    gate = next(c for c in json.loads(out)["checks"] if c["id"] == "consent.gate")
    assert gate["status"] != "not_applicable" and "face_swap" in gate["evidence"]["used_in_period"]


def test_explicit_technique_is_recorded_and_switched(capsys, settings, sg, cli_user, tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(image_bytes("PNG", size=(320, 240)))
    code, out, err = run(capsys, "label", str(src), "-o", str(tmp_path / "a.png"), "--producer", "ACME",
                         "--user", cli_user, "--technique", "text_to_image", "--json")
    assert code == 0, err
    assert _technique(sg, json.loads(out)["content_id"]) == "text_to_image"
    run(capsys, "compliance", "switch", "off", "text_to_image", "--reason", "regulator order")
    assert run(capsys, "label", str(src), "-o", str(tmp_path / "b.png"), "--producer", "ACME", "--user", cli_user,
               "--technique", "text_to_image")[0] == 5
    code, _, err = run(capsys, "label", str(src), "-o", str(tmp_path / "c.png"), "--producer", "ACME",
                       "--user", cli_user, "--technique", "Face Swap!", "--json")
    assert code == 2 and json.loads(err)["error"] == "ValidationError" and "technique" in err


def test_http_switch_refuses_a_face_swap_and_label_records_the_technique(settings, sg):
    admin = create_token(sg.db, Role.ADMIN, "acme", "ops")[0]
    provider = create_token(sg.db, Role.PROVIDER, "acme", "app")[0]
    h, ha = {"Authorization": f"Bearer {provider}"}, {"Authorization": f"Bearer {admin}"}
    png = image_bytes("PNG", size=(320, 240))
    with TestClient(create_app(settings, sg=sg)) as c:
        assert c.post("/v1/users", json={"id": "u-a"}, headers=h).status_code == 201
        assert c.post("/v1/users/u-a/verify", json={"method": "mobile", "identifier": "+86 138 0013 8000"},
                      headers=h).status_code == 200
        assert c.put("/v1/compliance/switches/face_swap", json={"enabled": False, "reason": "incident 7"},
                     headers=ha).status_code == 200
        form = {"user": "u-a", "producer": "ACME", "purpose": "face_swap"}
        r = c.post("/v1/label", files={"file": ("g.png", png, "image/png")}, data=form, headers=h)
        assert r.status_code == 403 and "face_swap" in r.text
        r = c.post("/v1/label", files={"file": ("g.png", png, "image/png")}, headers=h,
                   data={"user": "u-a", "producer": "ACME", "technique": "face_swap"})
        assert r.status_code == 403
        c.put("/v1/compliance/switches/face_swap", json={"enabled": True, "reason": "closed"}, headers=ha)
        r = c.post("/v1/label", files={"file": ("g.png", png, "image/png")}, data=form, headers=h)
        assert r.status_code == 200, r.text
    assert _technique(sg, r.headers["x-synthguard-content-id"]) == "face_swap"


def test_record_not_found_points_at_a_command_that_exists(capsys, settings):
    code, _, err = run(capsys, "record", "SG01NOPE")
    assert code == 4 and "synthguard trace FILE" in err and "`list`" not in err
    assert "trace" in run(capsys, "--help")[1]  # the suggested command exists


def test_readme_lists_every_exit_code():
    text = README.read_text(encoding="utf-8")
    listed = {int(n) for n in re.findall(r"[(,] ?\n?(\d+) [a-z]", text[text.index("distinct exit codes"):][:500])}
    used = {cls.exit_code for cls in vars(errors).values()
            if isinstance(cls, type) and issubclass(cls, errors.SynthGuardError)}
    assert used == listed, f"README lacks {sorted(used - listed)} or lists unused {sorted(listed - used)}"


def test_users_add_twice_is_a_conflict_with_the_documented_code(capsys, settings):
    assert run(capsys, "users", "add", "u-1")[0] == 0
    code, _, err = run(capsys, "users", "add", "u-1")
    assert code == errors.ConflictError.exit_code == 6 and "u-1" in err


def test_label_help_names_every_modality(capsys):
    out = run(capsys, "label", "--help")[1]
    flat = " ".join(out.split())
    assert "image, audio, video" in flat and "Label a generated image" not in flat and "--technique" in flat


@pytest.mark.parametrize("name, fmt, refused", [
    ("x.png", "JPEG", True), ("x.jpg", "PNG", True), ("x.webp", "PNG", True), ("x.JPEG", "JPEG", False),
    ("x.jpg", "JPEG", False), ("x.out", "PNG", False), ("x", "PNG", False)])
def test_output_name_must_match_the_format(capsys, settings, cli_user, tmp_path, name, fmt, refused):
    src = tmp_path / f"in.{fmt.lower()}"
    src.write_bytes(image_bytes(fmt, size=(320, 240)))
    out = tmp_path / name
    code, _, err = run(capsys, "label", str(src), "-o", str(out), "--producer", "ACME", "--user", cli_user)
    if refused:
        assert code == 2 and f"the labeled file is {fmt}" in " ".join(err.split()) and not out.exists()
    else:
        assert code == 0, err
        assert out.read_bytes()[:4] == image_bytes(fmt, size=(8, 8))[:4]
