"""C2PA trust anchors from the trust list (issue 19, EU-09).

A manifest reads as "trusted" only when its signer chains to an anchor the verifier chose.  A deployment's anchors
are its configured bundle (``c2pa_trust_anchors``, else its own development CA) plus the root of every C2PA chain in
the signed descriptors of the providers it trusts: pinning a provider is what makes its manifests "trusted" here.
Which provider signed a manifest is then told by the signer certificate itself (its serial number and name are the
leaf of exactly one pinned chain, :func:`synthguard.trust.trustlist.c2pa_signer_entry`), never by the claims inside.

The anchors are one PEM file, ``<home>/c2pa-trust-anchors.pem`` (the configured bundle or own CA, then the trusted
roots), rewritten whenever the trust list changes; the C2PA reader reads it on every validation, so a running
server picks up a newly trusted provider at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from synthguard.media import write_atomic
from synthguard.trust.trustlist import LIST_FILE, TrustList, c2pa_chain

ANCHORS_FILE = "c2pa-trust-anchors.pem"


def _base(settings: Any) -> str:
    configured = settings.c2pa_trust_anchors
    own = Path(settings.keys_dir) / "c2pa-ca.pem"
    path = configured or (own if own.is_file() else None)
    if path is None:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""  # the configured file's own error is reported by the C2PA reader when it is used alone


def trust_roots(settings: Any) -> list[str]:
    """PEM of the root (the last certificate) of each trusted provider's C2PA chain."""
    out = []
    try:
        entries = TrustList(Path(settings.home) / LIST_FILE).entries()
    except Exception:  # noqa: BLE001 - an unreadable list adds no anchors; `trust list` reports it
        return []
    for entry in entries:
        chain = c2pa_chain(entry)
        if chain:
            out.append(chain[-1].public_bytes(serialization.Encoding.PEM).decode())
    return out


def refresh(settings: Any) -> Path | None:
    """Write the combined anchors file if its content changed; its path, or None when there is nothing to anchor
    (no configured bundle, no own CA, no trusted chain, and no combined file written before).  Once written the
    file is kept up to date, also when the last trusted chain goes: a running reader holds this one path."""
    roots = trust_roots(settings)
    base = _base(settings)
    path = Path(settings.home) / ANCHORS_FILE
    if not roots and not base.strip() and not path.is_file():
        return None
    text = (base.rstrip("\n") + "\n" if base.strip() else "") + "".join(roots)
    try:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text.encode())
            os.chmod(path, 0o644)
    except OSError:
        return None
    return path


def anchors(settings: Any, base: Path | None) -> Path | None:
    """The anchors a deployment validates C2PA manifests with: the combined file (``base`` + the trusted providers'
    roots), or ``base`` itself when the home cannot hold the combined file."""
    return refresh(settings) or base
