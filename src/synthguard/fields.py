"""Field names and values as people read them: shared by the CLI's text output and the web pages.

The JSON keys stay as they are; these are their labels (through the catalogs) and the one way a scalar value is
shown (no Python reprs: yes/no, "-" for nothing, floats to a few significant digits).
"""

from __future__ import annotations

from typing import Any

from synthguard.i18n import N_, translate

YES, NO, NONE = N_("yes"), N_("no"), "-"
# Field names as people read them (the JSON keys stay as they are); all through the catalogs
KEY_LABELS: dict[str, str] = {
    "file": N_("file"), "format": N_("format"), "modality": N_("modality"), "sha256": N_("SHA-256"),
    "size": N_("size"), "aigc": N_("AIGC"), "aigc_integrity": N_("AIGC integrity"), "aigc_count": N_("AIGC count"),
    "digital_source_type": N_("digital source type"), "c2pa": N_("C2PA"), "present": N_("present"),
    "state": N_("state"), "assertions": N_("assertions"), "content_id": N_("content ID"), "signer": N_("signer"),
    "problems": N_("problems"), "watermark": N_("watermark"), "detected": N_("detected"), "payload": N_("payload"),
    "score": N_("score"), "p_value": N_("p-value"), "search": N_("search"), "visible_label": N_("visible label"),
    "correlation": N_("correlation"), "text": N_("text"), "position": N_("position"), "ratio": N_("ratio"),
    "box": N_("box"), "found": N_("found"), "verdict": N_("verdict"), "label_value": N_("label value"),
    "evidence": N_("evidence"), "matches": N_("matches"), "actions": N_("actions"), "output": N_("output"),
    "record": N_("record"), "tenant": N_("tenant"), "producer": N_("producer"), "user": N_("user"),
    "created_at": N_("created at"), "model": N_("model"), "technique": N_("technique"),
    "input_sha256": N_("input SHA-256"), "output_sha256": N_("output SHA-256"), "pixel_sha256": N_("pixel SHA-256"),
    "watermark_payload": N_("watermark payload"), "marks": N_("marks"), "ledger_index": N_("ledger index"),
    "proof": N_("proof"), "leaf_index": N_("leaf index"), "leaf_hash": N_("leaf hash"), "tree_size": N_("tree size"),
    "audit_path": N_("audit path"), "root": N_("root"), "entry": N_("entry"), "verified": N_("verified"),
    "checkpoint": N_("checkpoint"), "pdq": N_("PDQ"), "pdq_quality": N_("PDQ quality"), "warnings": N_("warnings"),
    "consent": N_("consent"), "id": N_("ID"), "verification": N_("verification"), "method": N_("method"),
    "result": N_("result"), "verified_at": N_("verified at"), "verifier": N_("verifier"),
    "reference": N_("reference"), "origin": N_("origin"), "timestamp": N_("timestamp"), "log_id": N_("log ID"),
    "via": N_("via"),
}


def scalar(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return translate(YES) if value else translate(NO)
    if isinstance(value, float):
        return f"{value:.3g}" if value and (abs(value) < 1e-3 or abs(value) >= 1e6) else f"{round(value, 4):g}"
    return str(value)


__all__ = ["KEY_LABELS", "NO", "NONE", "YES", "scalar"]
