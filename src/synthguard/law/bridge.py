"""``facts_from_trace``: a partial incident built from a trace, a platform scan and a complaint.

For the moderation case: everything the system itself observed becomes a fact; nothing evaluative is
invented (``identifiable``, ``obscene`` stay for a reviewer to assess), and the complaint supplies what only
the person depicted can say (consent, harm).  The result is a *partial* incident: add ``id``/``date``/
``jurisdictions`` if the inputs lack them, then pass it to :func:`synthguard.law.validate_incident`.
"""

from __future__ import annotations

from typing import Any

TECHNIQUES = {"face_swap", "face_reenactment", "voice_clone", "undress", "full_synthesis", "text_persona",
              "lip_sync", "scene"}
MODALITIES = {"image", "video", "audio", "text"}


def facts_from_trace(trace: dict[str, Any], scan: dict[str, Any] | None = None,
                     complaint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Map ``SynthGuard.trace()`` / ``.scan()`` dicts and a complaint (dict) onto the incident format."""
    complaint = complaint or {}
    out: dict[str, Any] = {"format": "synthguard.incident/1", "content": {}, "parties": [], "sources": []}
    rec = trace.get("record") or {}
    if trace.get("found"):
        out["content"]["synthetic"] = True
        out["parties"].append({"id": str(trace.get("producer") or "provider"), "role": "provider",
                               "kind": "organization", "implicit_label": bool(trace.get("via"))})
        if rec.get("user"):
            out["parties"].append({"id": str(rec["user"]), "role": "actor"})
        if rec.get("created_at"):
            out["date"] = str(rec["created_at"])[:10]
        out["sources"].append(f"ledger record {trace.get('content_id')} via {', '.join(trace.get('via') or [])}")
    if rec.get("modality") in MODALITIES:
        out["content"]["modality"] = [rec["modality"]]
    if rec.get("technique") in TECHNIQUES:
        out["content"]["technique"] = [rec["technique"]]
    if scan:
        verdict = scan.get("verdict")
        if verdict in ("ai_generated", "possibly_ai", "suspected_ai"):
            out["content"].setdefault("synthetic", True if verdict == "ai_generated" else None)
        out["content"]["labeled"] = "implicit_only" if scan.get("label_value") else "none"
        if any(a.get("flag") == "metadata_stripped" for a in scan.get("actions") or []):
            out["content"]["label_removed"] = True
        out["sources"].append(f"platform scan {scan.get('sha256', '')[:16]}: {verdict}")
    _complaint(out, complaint)
    out["content"] = {k: v for k, v in out["content"].items() if v is not None}
    return out


def _complaint(out: dict[str, Any], c: dict[str, Any]) -> None:
    depicted: dict[str, Any] = {"id": str(c.get("complainant_id") or "complainant"), "role": "depicted"}
    for key in ("consent", "knew_of_harm_on", "requested_removal", "age", "kind"):
        if c.get(key) is not None:
            depicted[key] = c[key]
    if c or not any(p["role"] == "depicted" for p in out["parties"]):
        out["parties"].insert(0, depicted)
    if c.get("received_at"):
        out["parties"].append({"id": str(c.get("platform") or "platform"), "role": "platform", "notified": True,
                               "notice_received_at": c["received_at"], "notice_valid": c.get("valid")})
    for key in ("jurisdictions", "purpose"):
        if c.get(key):
            out[key] = list(c[key])
    if c.get("harm"):
        out["harm"] = dict(c["harm"])
    if c.get("sexual") is not None:
        out["content"]["sexual"] = bool(c["sexual"])
    if c.get("id"):
        out["id"] = str(c["id"])
    if c.get("date"):
        out["date"] = c["date"]
