"""Evidence bundles: everything a victim hands to police or a court about one file, in one zip.

``build_bundle`` reads every mark on the file, traces it to the ledger record with its inclusion
proof and signed checkpoint, re-verifies both, and renders the report; ``write_bundle`` writes the
zip atomically.  The suspect file itself is left out unless asked for: it may be intimate imagery
(US-01, US-07 evidence preservation; CC-10 prima facie evidence; DS-18, CSL-01 the retained log;
LM-24 the lookup from content id to producer record; PI-06 sensitive personal information).

Zip layout::

    evidence.json          every fact below, machine-readable (SCHEMA)
    report.html            the same, for people (Chinese / English headings)
    report.pdf             the same, printable
    checkpoint.txt         the signed checkpoint note (C2SP tlog-checkpoint)
    ledger-public-key.pem  the key that signed it
    verify.py              standalone verifier (Python + cryptography; no SynthGuard needed)
    MANIFEST.sha256        SHA-256 of every other file (``sha256sum -c MANIFEST.sha256``)
    suspect/<name>         only with include_file=True
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthguard.evidence.verify import MANIFEST, check_evidence, manifest_text
from synthguard.ledger.trusted import KeySource, TrustedKey
from synthguard.media import Media, write_atomic

if TYPE_CHECKING:
    from synthguard.core import Source, SynthGuard

SCHEMA = "synthguard.evidence/1"


@dataclass(frozen=True)
class Bundle:
    """The evidence document and the bytes of every file of the zip (MANIFEST included)."""

    evidence: dict[str, Any]
    files: dict[str, bytes] = field(repr=False)

    @property
    def found(self) -> bool:
        return bool(self.evidence["trace"]["found"])

    def summary(self) -> dict[str, Any]:
        trace, ver = self.evidence["trace"], self.evidence["verification"]
        return {"found": self.found, "content_id": trace["content_id"], "producer": trace["producer"],
                "via": trace["via"], "leaf_index": (trace["proof"] or {}).get("leaf_index"),
                "verified": ver["ok"], "files": sorted(self.files), "problems": self.evidence["problems"]}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _file_facts(media: Media, include_file: bool) -> dict[str, Any]:
    name = Path(media.name).name if media.name != "<bytes>" else "suspect." + media.format
    width, height = media.size
    return {"name": name, "size_bytes": len(media.data), "sha256": media.sha256,
            "sha512": hashlib.sha512(media.data).hexdigest(), "pixel_sha256": media.content_sha256,
            "format": media.format, "mime": media.mime, "width": width, "height": height,
            "included": include_file, "bundle_path": f"suspect/{name}" if include_file else None}


def _marks(insp: dict[str, Any]) -> dict[str, Any]:
    """Every mark with its decode confidence (SCHEMA ``marks``)."""
    wm = insp.get("watermark") or {}
    vis = insp.get("visible_label") or {}
    return {
        "watermark": {"detected": bool(wm.get("detected")), "payload": wm.get("payload"),
                      "score": wm.get("score"), "p_value": wm.get("p_value")},
        "aigc": {"found": insp.get("aigc") is not None, "fields": insp.get("aigc"),
                 "integrity": insp.get("aigc_integrity"), "count": insp.get("aigc_count", 0),
                 "digital_source_type": insp.get("digital_source_type")},
        "c2pa": insp["c2pa"],
        "visible_label": {"found": bool(vis.get("found")), "correlation": vis.get("correlation"),
                          "text": vis.get("text"), "position": vis.get("position"),
                          "certain": vis.get("certain", True), "checked": vis.get("checked")},
        "problems": list(insp.get("problems", [])),
    }


def _match(file: dict[str, Any], trace: dict[str, Any]) -> str:
    """How the file relates to the recorded output: identical, same pixels, or a derived copy."""
    rec = trace.get("record") or {}
    if not trace.get("found"):
        return "none"
    if rec.get("output_sha256") == file["sha256"]:
        return "identical"
    if rec.get("pixel_sha256") == file["pixel_sha256"]:
        return "same-pixels"
    return "derived-copy"


def _timeline(trace: dict[str, Any], generated_at: str) -> list[dict[str, str]]:
    events = [{"time": generated_at, "event": "bundle", "detail": "this evidence bundle was generated"}]
    if trace.get("record"):
        events.append({"time": trace["record"]["created_at"], "event": "record",
                       "detail": f"generation record {trace['content_id']} written to the ledger "
                                 f"(entry {trace['record']['ledger_index']})"})
    if trace.get("checkpoint"):
        events.append({"time": trace["checkpoint"]["timestamp"], "event": "checkpoint",
                       "detail": f"ledger checkpoint signed over {trace['checkpoint']['tree_size']} entries"})
    return sorted(events, key=lambda e: datetime.fromisoformat(e["time"].replace("Z", "+00:00")))


def own_keys(sg: SynthGuard) -> list[TrustedKey]:
    """This deployment's ledger key, trusted because it is ours (never the key a bundle carries)."""
    return [TrustedKey(sg.keys.ledger_public, KeySource.OWN_LEDGER, f"this deployment ({sg.settings.home})",
                       sg.ledger.origin)]


def build_bundle(sg: SynthGuard, path: Source, *, include_file: bool = False) -> Bundle:
    """Trace ``path`` and assemble its evidence bundle in memory (nothing is written)."""
    from synthguard.evidence.report import render_html, render_pdf

    media = sg.media(path)
    insp = sg.inspect(media)
    trace = sg.trace(media)
    generated_at = _now()
    file = _file_facts(media, include_file)
    doc: dict[str, Any] = {
        "schema": SCHEMA, "generated_at": generated_at, "tool": {"name": "synthguard", "version": sg.version},
        "file": file, "marks": _marks(insp), "match": _match(file, trace), "trace": trace,
        "timeline": _timeline(trace, generated_at),
        "problems": list(dict.fromkeys([*insp.get("problems", []), *trace.get("problems", [])])),
    }
    doc["verification"] = check_evidence(doc, own_keys(sg) if trace.get("checkpoint") else (),
                                         sg.user_ref) | {"verified_at": generated_at}
    files: dict[str, bytes] = {}
    files["evidence.json"] = _json_bytes(doc)
    files["report.html"] = render_html(doc).encode()
    files["report.pdf"] = render_pdf(doc)
    if trace.get("checkpoint"):
        files["checkpoint.txt"] = trace["checkpoint"]["note"].encode()
        files["ledger-public-key.pem"] = trace["checkpoint"]["public_key"].encode()
    files["verify.py"] = resources.files("synthguard.evidence").joinpath("standalone.py").read_bytes()
    if include_file:
        files[file["bundle_path"]] = media.data
    files[MANIFEST] = manifest_text(files).encode()
    return Bundle(doc, files)


def _json_bytes(doc: dict[str, Any]) -> bytes:
    import json

    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n").encode()


def bundle_bytes(bundle: Bundle) -> bytes:
    """The zip (MANIFEST first, so ``unzip -l`` shows what to check against)."""
    buf = io.BytesIO()
    stamp = datetime.fromisoformat(bundle.evidence["generated_at"]).timetuple()[:6]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(bundle.files, key=lambda n: (n != MANIFEST, n)):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name == "verify.py" else 0o644) << 16
            zf.writestr(info, bundle.files[name])
    return buf.getvalue()


def write_bundle(bundle: Bundle, out_zip: str | os.PathLike[str]) -> Path:
    """Write the zip atomically (a temp file renamed into place); OutputError leaves nothing behind."""
    return write_atomic(out_zip, bundle_bytes(bundle))
