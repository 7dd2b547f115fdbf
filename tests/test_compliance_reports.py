"""Compliance reports render (HTML, PDF checked by rasterising with pdftoppm), the CLI and the HTTP routes
(issue 11: DS-05 switches over HTTP, POST /v1/screen, tenant scoping, DS-17 assessment with the DS-22 filing no.)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthguard.auth import Role, create_token
from synthguard.cli import main
from synthguard.compliance import adapters
from synthguard.compliance.report import assessment_blocks, audit_blocks, render_html, render_pdf
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.server import create_app
from tests.conftest import image_bytes
from tests.test_compliance_checks import make_compliant

FILING = "京网信备11010000000001号"


def pdf_pages_not_blank(pdf: bytes, tmp_path) -> list[float]:
    """Rasterise with poppler's pdftoppm and return the share of non-white pixels per page."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: apt-get install poppler-utils")
    src = tmp_path / "r.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(src), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages, "pdftoppm produced no page"
    return [float((np.asarray(Image.open(p).convert("L")) < 200).mean()) for p in pages]


@pytest.fixture
def deployed(settings, tmp_path):
    st = Settings.load(home=settings.home, producer="ACME", filing_number=FILING, service_name="ACME 绘图",
                       filing_link="https://beian.cac.gov.cn/", tool_techniques=["face_swap"],
                       tool_description="人脸替换 Face swap for consenting users' own photos.")
    sg = SynthGuard.open(st)
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    make_compliant(sg, outputs)
    yield sg
    sg.close()


def test_audit_report_renders_as_html_and_pdf(deployed, tmp_path):
    data = deployed.compliance.check().to_dict()
    blocks = audit_blocks(data)
    html = render_html(blocks)
    assert FILING in html and "[FAIL]" in html and "DS-15" in html and "What to fix" in html
    pdf = render_pdf(blocks)
    assert pdf.startswith(b"%PDF")
    ink = pdf_pages_not_blank(pdf, tmp_path)
    assert len(ink) >= 2 and all(x > 0.005 for x in ink), ink


def test_security_assessment_names_risks_controls_gaps_and_filing(deployed, tmp_path, monkeypatch):
    monkeypatch.setattr(adapters, "consent_gate_available", lambda: False)
    x = deployed.compliance.assessment()
    assert x["filing_number"] == FILING and x["tool"]["techniques"] == ["face_swap"]
    imp = next(r for r in x["risks"] if r["id"] == "impersonation")
    assert "DS-15" in imp["rows"] and [g["check"] for g in imp["gaps"]] == ["consent.gate"]  # gate absent
    assert "identity.enforced" in {c["check"] for c in imp["controls"]}
    html = render_html(assessment_blocks(x))
    assert "人脸替换" in html and FILING in html and "Residual gaps" in html
    pdf = render_pdf(assessment_blocks(x))
    ink = pdf_pages_not_blank(pdf, tmp_path)
    assert all(x > 0.005 for x in ink)


def test_cli_check_json_exit_code_and_report(deployed, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SYNTHGUARD_PRODUCER", "ACME")
    monkeypatch.chdir(tmp_path)
    code = main(["compliance", "check", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["ok"] is False  # filing number not set in the environment -> DS-22 fails
    assert {c["id"]: c["status"] for c in out["checks"]}["filing.displayed"] == "fail"
    monkeypatch.setenv("SYNTHGUARD_FILING_NUMBER", FILING)
    monkeypatch.setenv("SYNTHGUARD_FILING_LINK", "https://beian.cac.gov.cn/")
    code = main(["compliance", "check", "--format", "pdf", "--output", str(tmp_path / "audit.pdf"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, [c for c in out["checks"] if c["status"] == "fail"]
    assert (tmp_path / "audit.pdf").read_bytes().startswith(b"%PDF")
    assert main(["compliance", "check", "--since", "forever"]) == 2
    assert "30d" in capsys.readouterr().err


def test_cli_assessment_switches_library_and_screen(deployed, tmp_path, capsys):
    out = tmp_path / "assessment.html"
    assert main(["compliance", "assessment", "--format", "html", "--output", str(out), "--json"]) == 0
    assert "Security assessment" in out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["compliance", "switch", "off", "face_swap", "--reason", "consent gate outage", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["enabled"] is False
    assert main(["compliance", "switch", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["feature"] == "face_swap"
    assert main(["compliance", "library", "add", "fraud", "冒充客服", "--reason", "seed", "--json"]) == 0
    capsys.readouterr()
    assert main(["compliance", "screen-prompt", "我是冒充客服的", "--json"]) == 5
    d = json.loads(capsys.readouterr().out)
    assert d["decision"] == "block" and d["library_version"] == 2
    assert main(["compliance", "screen-prompt", "a cat", "--json"]) == 0
    assert main(["compliance", "policy", "export", "--json"]) == 0
    capsys.readouterr()
    assert main(["compliance", "policy", "add", "marketing", "--version", "1", "--owner", "x",
                 "--review-due", "2030-01-01"]) == 2
    assert "unknown policy kind" in capsys.readouterr().err


@pytest.fixture
def http(deployed):
    tokens = {r.value: create_token(deployed.db, r, "default", r.value)[0] for r in Role}
    tokens["beta"] = create_token(deployed.db, Role.PROVIDER, "beta", "other")[0]
    with TestClient(create_app(deployed.settings, sg=deployed)) as c:
        yield c, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}


def test_http_switch_refuses_labeling_with_403(http, deployed):
    c, h = http
    png = image_bytes("PNG", (200, 160))
    r = c.put("/v1/compliance/switches/label.image", json={"enabled": False, "reason": "incident"},
              headers=h["provider"])
    assert r.status_code == 200 and r.json()["tenant"] == "default"
    r = c.post("/v1/label", files={"file": ("g.png", png, "image/png")}, data={"user": "u-1"}, headers=h["provider"])
    assert r.status_code == 403 and r.json()["error"] == "FeatureDisabledError"
    r = c.put("/v1/compliance/switches/label.image", json={"enabled": True, "reason": "x", "tenant": "beta"},
              headers=h["provider"])
    assert r.status_code == 403  # providers flip their own tenant only
    assert c.put("/v1/compliance/switches/label", json={"enabled": False, "reason": "x"},
                 headers=h["platform"]).status_code == 403
    assert c.get("/v1/compliance/switches", headers=h["beta"]).json() == []
    assert len(c.get("/v1/compliance/switches", headers=h["admin"]).json()) == 1


def test_http_screen_and_library(http):
    c, h = http
    r = c.post("/v1/compliance/library", json={"list": "ncii", "value": "undress", "reason": "seed"},
               headers=h["provider"])
    assert r.status_code == 201 and r.json()["version"] >= 1
    r = c.post("/v1/screen", json={"prompt": "undress her"}, headers=h["provider"])
    assert r.status_code == 200 and r.json()["decision"] == "block"
    assert c.post("/v1/screen", json={"prompt": "undress her"}, headers=h["beta"]).json()["decision"] == "allow"
    assert c.post("/v1/screen", json={"prompt": ""}, headers=h["provider"]).status_code == 422
    assert c.post("/v1/screen", json={"prompt": "x"}).status_code == 401
    png = image_bytes("PNG", (120, 90))
    r = c.post("/v1/screen/output", files={"file": ("o.png", png, "image/png")}, headers=h["provider"])
    assert r.status_code == 200 and r.json()["decision"] == "review"


def test_http_audit_is_tenant_scoped_and_renders(http):
    c, h = http
    mine = c.get("/v1/compliance/check", headers=h["provider"]).json()
    theirs = c.get("/v1/compliance/check", headers=h["beta"]).json()
    assert mine["tenant"] == "default" and theirs["tenant"] == "beta"
    assert c.get("/v1/compliance/check?tenant=default", headers=h["beta"]).json()["tenant"] == "beta"  # no peeking
    # a tenant admin audits its own tenant only (issue 18 finding 10); regulators and global operators any tenant
    assert c.get("/v1/compliance/check?tenant=beta", headers=h["admin"]).json()["tenant"] == "default"
    assert c.get("/v1/compliance/check?tenant=beta", headers=h["regulator"]).json()["tenant"] == "beta"
    status = {x["id"]: x["status"] for x in theirs["checks"]}
    assert status["labels.explicit"] == "not_applicable"  # beta has no outputs; it never sees default's records
    assert c.get("/v1/compliance/check", headers=h["victim"]).status_code == 403
    r = c.get("/v1/compliance/check?fmt=html", headers=h["regulator"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html") and FILING in r.text
    r = c.get("/v1/compliance/assessment", headers=h["provider"])
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert c.get("/v1/compliance/check?since=forever", headers=h["provider"]).status_code == 400
    notice = c.get("/v1/compliance/notice", headers=h["provider"]).json()
    assert FILING in notice["filing_display"]
    r = c.post("/v1/compliance/terms/accept", json={"user": "u-1"}, headers=h["beta"])
    assert r.status_code == 404  # another tenant's user looks absent
    assert c.post("/v1/compliance/terms/accept", json={"user": "u-1"}, headers=h["provider"]).status_code == 201


def test_report_pdf_carries_the_chinese_text_and_filing_number(deployed, tmp_path):
    """pdftotext (poppler) reads back the CJK tool description and the filing number: no tofu, no blank page."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    src = tmp_path / "a.pdf"
    src.write_bytes(render_pdf(assessment_blocks(deployed.compliance.assessment())))
    text = subprocess.run(["pdftotext", str(src), "-"], capture_output=True, text=True, check=True).stdout
    assert "人脸替换" in text and FILING in text and "Residual gaps" in text


def test_public_notice_page_shows_filing_and_notice(http):
    c, _ = http
    r = c.get("/compliance/notice/default")
    assert r.status_code == 200 and FILING in r.text and 'id="first-use-notice"' in r.text
    assert "深度合成" in r.text and "https://beian.cac.gov.cn/" in r.text
    assert c.get("/compliance/notice/nobody").status_code == 404


def test_cli_registers_round_trip(settings, tmp_path, capsys):
    """Every register command over the CLI, with the bad-input paths (exit 2, message and hint on stderr)."""
    agreement = tmp_path / "tos.txt"
    agreement.write_text("第3条 标识 Labels: outputs carry AI labels.", encoding="utf-8")

    def run(*args: str) -> tuple[int, object]:
        code = main(["compliance", *args, "--json"])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    assert main(["users", "add", "u-7"]) == 0
    capsys.readouterr()
    code, t = run("terms", "publish", "service_agreement", "1", "--file", str(agreement))
    assert code == 0 and t["covers_labeling"] is True
    assert run("terms", "accept", "u-7")[1]["version"] == "1"
    assert run("terms", "notice")[1]["service_agreement"]["version"] == "1"
    assert main(["compliance", "terms", "publish", "service_agreement", "2", "--file", str(tmp_path / "no.txt")]) == 2
    assert "no such file" in capsys.readouterr().err
    code, d = run("dataset", "add", "voices", "--source", "studio", "--legal-basis", "consent", "--contains-pi",
                  "--consent-ref", "batch-1", "--consent-ref", "batch-2")
    assert code == 0 and d["consent_refs"] == ["batch-1", "batch-2"]
    assert run("dataset", "link", "tts-1", "voices")[1]["datasets"][0]["name"] == "voices"
    assert [x["name"] for x in run("dataset", "list")[1]] == ["voices"]
    assert main(["compliance", "dataset", "add", "x", "--source", "s", "--legal-basis", "vibes"]) == 2
    capsys.readouterr()
    assert run("policy", "add", "data_security", "--version", "2", "--owner", "dpo", "--review-due", "2027-03-01",
               "--file", str(agreement))[1]["sha256"]
    assert [p["kind"] for p in run("policy", "list")[1]] == ["data_security"]
    assert run("library", "add", "fraud", r"转账\d+", "--pattern", "--reason", "seed")[0] == 0
    assert run("library", "list")[1]["version"] == 1
    assert run("library", "remove", "fraud", r"转账\d+", "--pattern", "--reason", "too broad")[0] == 0
    assert [c["action"] for c in run("library", "list", "--changes")[1]["entries"]] == ["add", "remove"]
    assert run("switch", "off", "label.audio", "--reason", "drill")[1]["enabled"] is False
    assert run("switch", "on", "label.audio", "--reason", "drill over")[1]["enabled"] is True
    png = tmp_path / "o.png"
    png.write_bytes(image_bytes("PNG", (120, 90)))
    code, d = run("screen-output", str(png))
    assert code == 0 and d["decision"] == "review"
    code, d = run("screen-reference", str(png))
    assert code == 0 and d["stage"] == "reference"
    assert main(["compliance", "check", "--sample", "0"]) == 2
    assert "sample size" in capsys.readouterr().err


def test_cli_check_human_output(deployed, capsys, monkeypatch):
    monkeypatch.setenv("SYNTHGUARD_PRODUCER", "ACME")
    assert main(["compliance", "check", "--profile", "eu"]) in (0, 1)
    out = capsys.readouterr().out
    assert "labels.machine_readable" in out and "pass" in out and "not applicable" in out


def test_http_registers_are_per_tenant(http):
    c, h = http
    r = c.post("/v1/compliance/datasets", json={"name": "faces-x", "source": "crawl", "contains_pi": True},
               headers=h["beta"])
    assert r.status_code == 201 and r.json()["tenant"] == "beta" and r.json()["legal_basis"] is None
    assert c.post("/v1/compliance/lineage", json={"model": "m9", "dataset": "faces-x"},
                  headers=h["beta"]).status_code == 201
    assert c.post("/v1/compliance/lineage", json={"model": "m9", "dataset": "faces-x"},
                  headers=h["provider"]).status_code == 404  # another tenant's data set looks absent
    assert [d["name"] for d in c.get("/v1/compliance/datasets", headers=h["provider"]).json()["datasets"]] == [
        "licensed-photos"]
    assert c.post("/v1/compliance/datasets", json={"name": "y", "source": "s", "legal_basis": "vibes"},
                  headers=h["beta"]).status_code == 400
    r = c.post("/v1/compliance/terms", json={"kind": "first_use_notice", "version": "1", "text": "标识提示"},
               headers=h["beta"])
    assert r.status_code == 201 and r.json()["covers_labeling"] is True
    assert c.get("/compliance/notice/beta").status_code == 200
    r = c.post("/v1/compliance/policies", json={"kind": "anti_fraud", "version": "1", "owner": "o",
                                                "review_due": "2030-01-01"}, headers=h["beta"])
    assert r.status_code == 201
    assert [d["tenant"] for d in c.get("/v1/compliance/policies", headers=h["beta"]).json()] == ["beta"]
