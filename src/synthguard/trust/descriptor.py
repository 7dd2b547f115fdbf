"""The provider descriptor: what other deployments need to verify this provider, signed by its ledger key.

Published at ``GET /.well-known/synthguard.json`` and printed by ``synthguard provider descriptor``: the producer
code (GB 45438 ContentProducer, GB-14), name and filing number (DS-22), the log's origin and note verifier key
(c2sp.org/signed-note), the C2PA signing chain, what a platform needs to detect its watermark (``trust.wmkeys``: the
mode, scheme and key id; the detection key itself only in public mode -- in shared mode it is sealed to each
platform the provider chose), the record-lookup
endpoint (LM-24) and a takedown contact.

The signature is Ed25519 over the canonical JSON of ``descriptor`` with the ledger key, so it verifies against the
same ``vkey`` a verifier pins for the checkpoints.  A descriptor is never trusted because it carries a key: the
verifier compares the key with one it pinned (its fingerprint shown at ``trust add``), and says which.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature

from synthguard.errors import LedgerIntegrityError, ValidationError
from synthguard.ledger.checkpoint import parse_vkey, vkey
from synthguard.trust.wmkeys import Deployment, material

VERSION = "synthguard-descriptor/v1"


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint(vkey_text: str) -> str:
    """A short, comparable fingerprint of a verifier key (shown to people who pin it)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(vkey_text.strip().encode()).digest()).decode().rstrip("=")


def build(sg: Deployment, *, base_url: str | None = None) -> dict[str, Any]:
    """This deployment's signed descriptor."""

    st, keys = sg.settings, sg.keys
    private = keys.ledger_private
    origin = sg.ledger_origin()
    chain = keys.c2pa_chain.read_text(encoding="utf-8") if keys.c2pa_chain.is_file() else None
    base = (base_url or "").rstrip("/")
    doc = {
        "version": VERSION,
        "issued": datetime.now(UTC).isoformat(timespec="seconds"),
        "producer": st.producer,
        "name": st.service_name,
        "filing_number": st.filing_number,
        "log": {"origin": origin, "vkey": vkey(origin, private)},
        "c2pa_chain_pem": chain,
        "watermark": material(st, keys),  # mode, scheme, key id; the detection key only in public mode
        "lookup": f"{base}/v1/records/{{content_id}}" if base else None,
        "takedown": f"{base}/complaints" if base else None,
    }
    signature = private.sign(canonical(doc))
    return {"descriptor": doc, "signature": base64.b64encode(signature).decode()}


def verify(signed: Any, pinned_vkey: str | None = None) -> dict[str, Any]:
    """The descriptor if its signature verifies with its own log key AND (when given) that key is the pinned one;
    LedgerIntegrityError otherwise. Returns ``{"descriptor", "vkey", "fingerprint", "pinned"}``."""
    if not (isinstance(signed, dict) and isinstance(signed.get("descriptor"), dict)
            and isinstance(signed.get("signature"), str)):
        raise ValidationError("not a signed SynthGuard descriptor (expected descriptor and signature)")

    doc = signed["descriptor"]
    if doc.get("version") != VERSION:
        raise ValidationError("unknown descriptor version {v!r}", values={"v": str(doc.get("version"))[:40]})
    try:
        key_text = doc["log"]["vkey"]
        _, pub = parse_vkey(key_text)
        pub.verify(base64.b64decode(signed["signature"], validate=True), canonical(doc))
    except (KeyError, TypeError, ValueError, InvalidSignature) as exc:
        raise LedgerIntegrityError("the descriptor's signature does not verify with its log key") from exc
    if pinned_vkey is not None and pinned_vkey.strip() != key_text.strip():
        raise LedgerIntegrityError("the descriptor is signed by {got}, not by the pinned key {pinned}",
                                   values={"got": fingerprint(key_text), "pinned": fingerprint(pinned_vkey)})
    return {"descriptor": doc, "vkey": key_text, "fingerprint": fingerprint(key_text),
            "pinned": pinned_vkey is not None}
