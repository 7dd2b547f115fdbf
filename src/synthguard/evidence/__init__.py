"""Evidence bundles for victims, police and courts: evidence.json, an HTML/PDF report, the signed
checkpoint, the ledger key, a standalone verifier and a SHA-256 manifest, in one zip (US-07, CC-10, DS-18).
"""

from synthguard.evidence.bundle import SCHEMA, Bundle, build_bundle, bundle_bytes, write_bundle
from synthguard.evidence.report import render_html, render_pdf
from synthguard.evidence.verify import check_evidence, verify_bundle

__all__ = ["Bundle", "SCHEMA", "build_bundle", "bundle_bytes", "check_evidence", "render_html", "render_pdf",
           "verify_bundle", "write_bundle"]
