"""Evidence bundles (US-07, CC-10, DS-18, LM-24): contents, reports, manifest, not-found, output errors."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from synthguard.errors import FontMissingError, InputError, OutputError
from synthguard.evidence import SCHEMA, build_bundle, bundle_bytes, render_pdf, verify_bundle, write_bundle
from synthguard.evidence import report as report_module
from synthguard.evidence.bundle import own_keys
from tests.conftest import image_bytes, kodak

CORE_FILES = {"evidence.json", "report.html", "report.pdf", "verify.py", "MANIFEST.sha256"}
PROOF_FILES = {"checkpoint.txt", "ledger-public-key.pem", "provider-descriptor.json"}  # issue 19


def stripped(src: Path, dest: Path) -> Path:
    im = Image.open(src).convert("RGB")
    im = im.resize((int(im.width * 0.6), int(im.height * 0.6)))
    im.save(dest, "JPEG", quality=75)
    return dest


def pdf_text(pdf: bytes, tmp_path: Path) -> str | None:
    if not shutil.which("pdftotext"):
        return None
    (tmp_path / "r.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_bundle_for_a_labeled_image(sg, labeled, tmp_path):
    bundle = build_bundle(sg, labeled)
    ev = bundle.evidence
    data = labeled.read_bytes()
    assert ev["schema"] == SCHEMA and ev["tool"]["version"] == sg.version
    assert ev["file"]["name"] == "generated.png" and ev["file"]["size_bytes"] == len(data)
    assert ev["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert ev["file"]["sha512"] == hashlib.sha512(data).hexdigest()
    assert (ev["file"]["width"], ev["file"]["height"], ev["file"]["format"]) == (800, 500, "png")
    marks = ev["marks"]
    assert marks["watermark"]["detected"] and marks["watermark"]["p_value"] < 1e-9
    assert marks["aigc"]["found"] and marks["aigc"]["integrity"] == "valid"
    assert marks["c2pa"]["state"] in ("valid", "trusted") and marks["visible_label"]["found"]
    trace = ev["trace"]
    assert trace["found"] and {"sha256", "watermark", "c2pa", "aigc"} <= set(trace["via"])
    assert marks["aigc"]["fields"]["ProduceID"] == trace["content_id"]
    assert ev["match"] == "identical" and ev["verification"]["ok"] is True
    assert {c["check"] for c in ev["verification"]["checks"]} >= {"leaf-hash", "inclusion-proof",
                                                                  "checkpoint-signature", "checkpoint-covers-proof"}
    assert [e["event"] for e in ev["timeline"]] == ["record", "checkpoint", "bundle"]
    times = [datetime.fromisoformat(e["time"]) for e in ev["timeline"]]
    assert times == sorted(times)
    assert set(bundle.files) == CORE_FILES | PROOF_FILES
    assert bundle.files["checkpoint.txt"].decode() == trace["checkpoint"]["note"]
    assert json.loads(bundle.files["evidence.json"]) == json.loads(json.dumps(ev, default=str))


def test_report_html_and_pdf_state_the_key_facts(sg, labeled, tmp_path):
    bundle = build_bundle(sg, labeled)
    trace = bundle.evidence["trace"]
    html = bundle.files["report.html"].decode()
    for fact in (trace["content_id"], trace["producer"], trace["proof"]["root"], "溯源结论 / Trace conclusion",
                 "包含证明 / Inclusion proof", "verify.py", bundle.evidence["file"]["sha256"]):
        assert fact in html
    assert f"<th>Leaf index</th><td>{trace['proof']['leaf_index']}</td>" in html
    assert "<script" not in html and "<link" not in html and " src=" not in html  # self-contained
    pdf = bundle.files["report.pdf"]
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf, tmp_path)
    if text is not None:
        assert trace["content_id"] in text and "Trace conclusion" in text and "溯源结论" in text


def test_manifest_lists_every_file(sg, labeled, tmp_path):
    zpath = write_bundle(build_bundle(sg, labeled), tmp_path / "b.zip")
    with zipfile.ZipFile(zpath) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    assert zf.namelist()[0] == "MANIFEST.sha256"
    lines = files.pop("MANIFEST.sha256").decode().splitlines()
    listed = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    assert listed == {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
    result = verify_bundle(zpath, own_keys(sg))
    assert result["ok"] and result["found"], [c for c in result["checks"] if not c["ok"]]


def test_bundle_for_a_stripped_copy(sg, labeled, tmp_path):
    copy = stripped(labeled, tmp_path / "copy.jpg")
    ev = build_bundle(sg, copy).evidence
    assert ev["trace"]["found"] and set(ev["trace"]["via"]) & {"watermark", "pdq"}
    assert not ev["marks"]["aigc"]["found"] and ev["marks"]["c2pa"]["state"] == "absent"
    assert ev["match"] == "derived-copy" and ev["verification"]["ok"] is True
    assert ev["file"]["format"] == "jpeg" and ev["file"]["width"] == 480


def test_no_record_bundle_still_renders(sg, tmp_path):
    bundle = build_bundle(sg, kodak())
    ev = bundle.evidence
    assert ev["trace"]["found"] is False and ev["trace"]["proof"] is None
    assert ev["verification"]["ok"] is None and ev["match"] == "none"
    assert not ev["marks"]["watermark"]["detected"] and not ev["marks"]["aigc"]["found"]
    assert set(bundle.files) == CORE_FILES  # no checkpoint or key: there is nothing they would prove
    assert [e["event"] for e in ev["timeline"]] == ["bundle"]
    html = bundle.files["report.html"].decode()
    assert "No generation record" in html and "not detected" in html
    assert bundle.files["report.pdf"].startswith(b"%PDF-")
    result = verify_bundle(bundle_bytes(bundle), own_keys(sg))
    assert result["ok"] and result["found"] is False


def test_unchecked_record_is_reported(sg, verified_user, tmp_path):
    out = tmp_path / "fresh.png"
    sg.label(image_bytes(), user=verified_user, producer="ACME", output=out)  # no checkpoint yet
    ev = build_bundle(sg, out).evidence
    assert ev["trace"]["found"] and ev["trace"]["checkpoint"] is None
    assert ev["verification"]["ok"] is False
    assert any("no signed checkpoint" in p for p in ev["problems"])


def test_suspect_file_excluded_by_default(sg, labeled, tmp_path):
    data = labeled.read_bytes()
    default = build_bundle(sg, labeled)
    assert all(d != data for d in default.files.values()) and not default.evidence["file"]["included"]
    with_file = build_bundle(sg, labeled, include_file=True)
    assert with_file.files["suspect/generated.png"] == data
    assert "suspect/generated.png" in with_file.files["MANIFEST.sha256"].decode()
    assert verify_bundle(bundle_bytes(with_file), own_keys(sg))["ok"]


def test_unwritable_output(sg, labeled, tmp_path):
    bundle = build_bundle(sg, labeled)
    with pytest.raises(OutputError):
        write_bundle(bundle, tmp_path / "missing-dir" / "b.zip")
    target = tmp_path / "out"
    target.mkdir()  # a directory where the zip should go
    before = set(tmp_path.iterdir())
    with pytest.raises(OutputError):
        write_bundle(bundle, target)
    assert set(tmp_path.iterdir()) == before and not any(target.iterdir())  # no partial or temp file


def test_tampering_is_detected(sg, labeled, tmp_path):
    bundle = build_bundle(sg, labeled)
    files = dict(bundle.files)
    files["report.html"] = files["report.html"].replace(b"ACME", b"OTHER")
    result = verify_bundle(_zip(files), own_keys(sg))
    assert not result["ok"] and any(c["check"] == "manifest" and not c["ok"] for c in result["checks"])
    # a forger who also rewrites the manifest still cannot fake the proof
    doc = json.loads(bundle.files["evidence.json"])
    doc["trace"]["proof"]["leaf_index"] += 1
    files = dict(bundle.files, **{"evidence.json": json.dumps(doc).encode()})
    from synthguard.evidence.verify import manifest_text

    files["MANIFEST.sha256"] = manifest_text({k: v for k, v in files.items() if k != "MANIFEST.sha256"}).encode()
    failed = {c["check"] for c in verify_bundle(_zip(files), own_keys(sg))["checks"] if not c["ok"]}
    assert "inclusion-proof" in failed and "manifest" not in failed
    with pytest.raises(InputError):
        verify_bundle(b"not a zip")


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_pdf_falls_back_to_english_without_a_cjk_font(sg, labeled, tmp_path, monkeypatch):
    def no_font(text, configured=None):
        raise FontMissingError("no CJK font")

    monkeypatch.setattr(report_module, "find_font", no_font)
    doc = build_bundle(sg, labeled).evidence
    pdf = render_pdf(doc)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    if text is not None:
        assert "Trace conclusion" in text and "溯源结论" not in text and doc["trace"]["content_id"] in text


def test_html_escapes_file_names(sg, tmp_path):
    odd = tmp_path / "<b>x.png"
    odd.write_bytes(image_bytes())
    html = build_bundle(sg, odd).files["report.html"].decode()
    assert "&lt;b&gt;x.png" in html and "<b>x.png" not in html


def test_cli_evidence_and_verify(capsys, sg, labeled, tmp_path):
    import synthguard.cli.evidence  # noqa: F401  (registers the commands until cli/__init__ does)
    from synthguard.cli import main

    out = tmp_path / "bundle.zip"
    assert main(["evidence", str(labeled), "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] and data["verified"] and data["bundle"] == str(out) and out.is_file()
    assert main(["evidence-verify", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"]
    none = tmp_path / "none.zip"
    assert main(["evidence", str(kodak()), "-o", str(none), "--json"]) == 0  # written: exit 0, found false
    assert json.loads(capsys.readouterr().out)["found"] is False
    code = main(["evidence", str(labeled), "-o", str(tmp_path / "nope" / "b.zip"), "--json"])
    assert code == 2 and json.loads(capsys.readouterr().err)["error"] == "OutputError"
