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
    checkpoint.txt         the signed checkpoint note (C2SP tlog-checkpoint), with the witnesses' cosignatures
                           (c2sp.org/tlog-cosignature) it carried
    ledger-public-key.pem  the key that signed it
    provider-descriptor.json  the provider's signed descriptor the verification relied on (issue 19)
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
from typing import TYPE_CHECKING, Any, Protocol

from synthguard.evidence.report import render_html, render_pdf
from synthguard.evidence.verify import MANIFEST, check_evidence, manifest_text
from synthguard.ledger.trusted import KeySource, TrustedKey
from synthguard.media import Media, write_atomic
from synthguard.trust.descriptor import build as build_descriptor
from synthguard.trust.descriptor import fingerprint
from synthguard.trust.trustlist import TrustList, for_settings, trusted_keys

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.keys import Keys
    from synthguard.labeling import Source
    from synthguard.ledger.log import Ledger

SCHEMA = "synthguard.evidence/1"
DESCRIPTOR_FILE = "provider-descriptor.json"


class Deployment(Protocol):
    """What a bundle reads of a deployment (``SynthGuard`` is one): its settings, keys and ledger for the descriptor
    and the trusted keys, and the inspect and trace journeys.  A protocol, so this module needs no core (issue 23)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def keys(self) -> Keys: ...
    @property
    def ledger(self) -> Ledger: ...
    @property
    def version(self) -> str: ...
    def media(self, source: Source) -> Media: ...
    def inspect(self, source: Source) -> dict[str, Any]: ...
    def trace(self, source: Source) -> dict[str, Any]: ...
    def user_ref(self, user_id: str, tenant: str | None = None) -> str: ...
    def ledger_origin(self) -> str: ...


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


def own_keys(sg: Deployment) -> list[TrustedKey]:
    """This deployment's ledger key, trusted because it is ours (never the key a bundle carries)."""
    return [TrustedKey(sg.keys.ledger_public, KeySource.OWN_LEDGER, f"this deployment ({sg.settings.home})",
                       sg.ledger.origin)]


def verifier_keys(sg: Deployment, trust_list: str | os.PathLike[str] | None = None) -> list[TrustedKey]:
    """The keys this deployment verifies evidence with: its own ledger key and every provider of its trust list
    (and of ``trust_list`` when given), each with its witness quorum (issue 19)."""
    keys = own_keys(sg) + trusted_keys(for_settings(sg.settings))
    if trust_list is not None:
        keys += trusted_keys(TrustList(trust_list))
    return keys


def _descriptor(sg: Deployment, trace: dict[str, Any]) -> dict[str, Any] | None:
    """The signed descriptor of the provider whose record the trace found: the trusted entry's, as pinned, for
    another provider's record; this deployment's own for ours (None when nothing was found)."""
    if not trace.get("found"):
        return None
    if trace.get("provider"):
        return trace["provider"].get("descriptor") or None
    try:
        return build_descriptor(sg)
    except Exception:  # noqa: BLE001 - a deployment without a ledger key has no proof to bundle either
        return None


def _provider_facts(descriptor: dict[str, Any] | None, trace: dict[str, Any]) -> dict[str, Any] | None:
    if descriptor is None:
        return None
    d = descriptor.get("descriptor") or {}
    facts = {"name": d.get("name"), "producer": d.get("producer"), "filing_number": d.get("filing_number"),
             "origin": (d.get("log") or {}).get("origin"), "lookup": d.get("lookup"), "takedown": d.get("takedown"),
             "descriptor_file": DESCRIPTOR_FILE}
    prov = trace.get("provider")
    if prov:
        facts |= {k: prov.get(k) for k in ("key_fingerprint", "key_source", "witnesses", "match")}
    else:
        facts |= {"key_fingerprint": fingerprint(d["log"]["vkey"]), "key_source": "this deployment (the issuer)"}
    return facts


def build_bundle(sg: Deployment, path: Source, *, include_file: bool = False) -> Bundle:
    """Trace ``path`` and assemble its evidence bundle in memory (nothing is written)."""
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
    descriptor = _descriptor(sg, trace)
    doc["provider"] = _provider_facts(descriptor, trace)
    doc["verification"] = check_evidence(doc, verifier_keys(sg) if trace.get("checkpoint") else (),
                                         sg.user_ref) | {"verified_at": generated_at}
    files: dict[str, bytes] = {}
    files["evidence.json"] = _json_bytes(doc)
    files["report.html"] = render_html(doc).encode()
    files["report.pdf"] = render_pdf(doc)
    if trace.get("checkpoint"):
        files["checkpoint.txt"] = trace["checkpoint"]["note"].encode()
        files["ledger-public-key.pem"] = trace["checkpoint"]["public_key"].encode()
    if descriptor is not None:
        files[DESCRIPTOR_FILE] = _json_bytes(descriptor)
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
