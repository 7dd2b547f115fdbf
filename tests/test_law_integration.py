"""From real scan and trace results to a cited assessment (issue: legal assessment integration)."""

from __future__ import annotations

import io

from PIL import Image

from synthguard.law import facts_from_trace, validate_incident
from tests.conftest import kodak


def test_stripped_copy_scan_and_trace_feed_an_assessment(sg, verified_user, tmp_path):
    out = tmp_path / "labeled.png"
    sg.label(kodak("kodim15.png"), user=verified_user, producer="ACME", output=out, technique="face_swap")
    sg.checkpoint()
    buf = io.BytesIO()
    Image.open(out).convert("RGB").save(buf, "JPEG", quality=80)  # metadata and C2PA gone, watermark stays
    copy = buf.getvalue()
    scan = sg.scan(copy).to_dict()
    trace = sg.trace(copy)
    assert scan["verdict"] == "ai_generated" and trace["found"]
    complaint = {"id": "c-9", "consent": "none", "jurisdictions": ["CN"], "received_at": "2026-11-01T09:00:00",
                 "valid": True, "sexual": False}
    doc = facts_from_trace(trace, scan, complaint)
    assert doc["content"]["label_removed"] is True  # DS-21 flag from the scan carried into the facts
    inc = validate_incident(doc)
    result = sg.assess(inc)
    by_rule = {f["rule"]: f for f in result["findings"]}
    assert all(f["citation"] for f in result["findings"])  # every finding is cited
    removal = [f for r, f in by_rule.items() if r.startswith("CN.DSP") and "18" in f["citation"]]
    assert removal, sorted(by_rule)
