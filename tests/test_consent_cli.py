"""`synthguard consent ...` and `label --source` (DS-15, PI-03, PI-11, PI-13): the command line journeys."""

from __future__ import annotations

import json

from synthguard.cli import main
from tests.conftest import data_file, image_bytes
from tests.test_consent_voice import espeak


def run(capsys, *args: str) -> tuple[int, object, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    data = json.loads(out.out) if "--json" in args and out.out.strip() else None
    return code, data, out.out, out.err


def test_statement_journey_enrol_grant_check_revoke_export_erase(capsys, settings, tmp_path):
    face = str(data_file("kodak", "kodim04.png"))
    stranger = str(data_file("kodak", "kodim15.png"))
    key = tmp_path / "alice.key"
    assert run(capsys, "consent", "keygen", str(key), "--json")[0] == 0
    code, data, _, err = run(capsys, "consent", "enroll", "alice", "--face", face, "--signing-key", f"{key}.pub",
                             "--json")
    assert code == 0, err
    assert data["templates"] == {"face": 1} and data["signing_key"]
    stmt = tmp_path / "stmt.json"
    assert run(capsys, "consent", "statement", "alice", "--to", "u-42", "--purpose", "face_swap", "--key", str(key),
               "-o", str(stmt), "--expires", "2099-12-31", "--scope", "one video")[0] == 0
    code, _, out, err = run(capsys, "consent", "grant", "alice", "--to", "u-42", "--purpose", "face_swap",
                            "--expires", "2099-12-31", "--evidence", str(stmt))
    grant_id = out.strip()
    assert code == 0 and grant_id.startswith("cg_"), err
    code, data, _, _ = run(capsys, "consent", "check", "--source", face, "--purpose", "face_swap", "--user", "u-42",
                           "--json")
    assert code == 0 and data["decision"] == "allow" and data["persons"][0]["grant_id"] == grant_id
    code, data, _, _ = run(capsys, "consent", "check", "--source", face, "--target", stranger, "--purpose",
                           "face_swap", "--user", "u-42", "--json")
    assert code == 5 and data["decision"] == "deny"
    assert [p["role"] for p in data["persons"]] == ["source", "target"]
    assert run(capsys, "consent", "revoke", grant_id, "--json")[1]["status"] == "revoked"
    code, data, _, _ = run(capsys, "consent", "check", "--source", face, "--purpose", "face_swap", "--user", "u-42",
                           "--json")
    assert code == 5 and data["persons"][0]["code"] == "revoked"
    out_file = tmp_path / "export.json"
    assert run(capsys, "consent", "export", "alice", "-o", str(out_file))[0] == 0
    doc = json.loads(out_file.read_text())
    assert doc["grants"][0]["scope"] == "one video" and oct(out_file.stat().st_mode)[-3:] == "600"
    code, data, _, _ = run(capsys, "consent", "erase", "alice", "--json")
    assert code == 0 and data["erased"]
    code, _, _, err = run(capsys, "consent", "export", "alice", "--json")
    assert code == 4 and "SubjectErasedError" in err
    assert run(capsys, "ledger", "verify", "--json")[1]["ok"]


def test_label_with_source_refuses_without_consent(capsys, settings, tmp_path):
    assert run(capsys, "keys", "init")[0] == 0
    run(capsys, "users", "add", "u-42")
    run(capsys, "users", "verify", "u-42", "--method", "mobile", "--identifier", "+86 138 0000 0000")
    gen = tmp_path / "gen.png"
    gen.write_bytes(image_bytes())
    out = tmp_path / "out.png"
    code, _, _, err = run(capsys, "label", str(gen), "-o", str(out), "--producer", "ACME", "--user", "u-42",
                          "--source", str(data_file("kodak", "kodim04.png")), "--purpose", "face_swap", "--json")
    assert code == 5 and not out.exists()
    body = json.loads(err)
    assert body["error"] == "ConsentDeniedError" and body["consent"]["persons"][0]["code"] == "unknown_deny"
    assert "DS-15" in body["hint"]


def test_protect_with_a_locally_computed_embedding_and_bad_input(capsys, settings, tmp_path):
    emb = tmp_path / "me.json"
    code, _, out, err = run(capsys, "consent", "embed", str(data_file("kodak", "kodim18.png")), "-o", str(emb))
    assert code == 0, err
    doc = json.loads(emb.read_text())
    assert doc["modality"] == "face" and len(doc["embedding"]) == 128 and "kodim18" not in out
    code, data, _, _ = run(capsys, "consent", "protect", "victim-7", "--embedding", str(emb), "--json")
    assert code == 0 and data["protected"] and data["templates"] == {"face": 1}
    blank = tmp_path / "blank.png"
    blank.write_bytes(image_bytes())
    code, _, _, err = run(capsys, "consent", "embed", str(blank))
    assert code == 2 and "exactly one face" in err
    code, _, _, err = run(capsys, "consent", "grant", "victim-7", "--to", "u-1", "--purpose", "bogus",
                          "--evidence", str(emb))
    assert code == 2 and "unknown purpose" in err
    code, _, _, err = run(capsys, "consent", "grant", "nobody", "--to", "u-1", "--purpose", "face_swap",
                          "--evidence", str(emb))
    assert code == 4 and "no subject" in err
    code, _, _, err = run(capsys, "consent", "grant", "victim-7", "--to", "u-1", "--purpose", "face_swap",
                          "--expires", "31/12/2099", "--evidence", str(emb))
    assert code == 2 and "not a date" in err


def test_spoken_consent_from_the_cli(capsys, settings, tmp_path):
    sample = espeak(tmp_path, "me", "This is my own voice, recorded for enrolment in the consent registry.")
    assert run(capsys, "consent", "enroll", "eve", "--voice", sample.name)[0] == 0
    code, ch, _, _ = run(capsys, "consent", "challenge", "eve", "--to", "u-42", "--purpose", "voice_clone", "--json")
    assert code == 0
    rec = espeak(tmp_path, "rec", ch["phrase"])
    code, g, _, err = run(capsys, "consent", "grant", "eve", "--to", "u-42", "--purpose", "voice_clone", "--evidence",
                          rec.name, "--challenge", ch["challenge"], "--json")
    assert code == 0 and g["evidence"]["kind"] == "spoken", err
    code, grants, _, _ = run(capsys, "consent", "grants", "--subject", "eve", "--json")
    assert [x["status"] for x in grants] == ["active"]
