"""Provenance: the PKI that signs C2PA manifests (EU-09 1.1.1); the manifests themselves are a marking technique.

The C2PA marker and reader live in :mod:`synthguard.marking.c2pa` (beside the other markers, which compose it);
they are re-exported here lazily, so that ``import synthguard`` does not load the native c2pa library until a
manifest is actually signed or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthguard.provenance.pki import DevPKI, create_dev_pki

if TYPE_CHECKING:
    from synthguard.marking.c2pa import C2PAMarker, C2PAReport, C2PASigner

_LAZY = {"C2PAMarker", "C2PAReport", "C2PASigner"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from synthguard.marking import c2pa

        return getattr(c2pa, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["C2PAMarker", "C2PAReport", "C2PASigner", "DevPKI", "create_dev_pki"]
