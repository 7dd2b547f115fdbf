"""Provenance: the PKI that signs C2PA manifests (EU-09 1.1.1); the manifests themselves are a marking technique.

The C2PA marker and reader live in :mod:`synthguard.marking.c2pa` (beside the other markers, which compose it);
they are re-exported here lazily, so that ``import synthguard`` does not load the native c2pa library until a
manifest is actually signed or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthguard.lazy import load_lazily

if TYPE_CHECKING:
    from synthguard.marking.c2pa import C2PAMarker, C2PAReport, C2PASigner
    from synthguard.provenance.pki import DevPKI, create_dev_pki

# the PKI loads on first use too: it imports cryptography's x509, which ``watermark detect`` need not pay
_LAZY = {**dict.fromkeys(("C2PAMarker", "C2PAReport", "C2PASigner"), "synthguard.marking.c2pa"),
         **dict.fromkeys(("DevPKI", "create_dev_pki"), "synthguard.provenance.pki")}


def __getattr__(name: str) -> Any:
    return load_lazily(globals(), _LAZY, name)


__all__ = ["C2PAMarker", "C2PAReport", "C2PASigner", "DevPKI", "create_dev_pki"]
