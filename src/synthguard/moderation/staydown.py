"""The stay-down banks' names (CC-12, US-04, US-09) and how a scan's bank matches read in the policies.

A leaf module: the policy (``scan_actions``) and the content registry both need these names, and neither may import
the other for them (issue 23: no imports inside functions to dodge a cycle).
"""

from __future__ import annotations

import hashlib
import re

STAY_DOWN = "removed-content"  # PDQ bank: near-duplicates of removed items
STAY_DOWN_EXACT = "removed-content-exact"  # SHA-256 bank: exact bytes (flat images have no usable PDQ)
STAY_DOWN_VIDEO = "removed-content-video"  # vPDQ bank: re-encoded or cut copies of removed videos (issue 20)
STAY_DOWN_AUDIO = "removed-content-audio"  # landmark bank: copies of removed audio and of removed videos' sound
LONG_STAY_DOWN = {STAY_DOWN_VIDEO: "vpdq", STAY_DOWN_AUDIO: "audio"}
STAY_DOWN_BASES = (STAY_DOWN, STAY_DOWN_EXACT, *LONG_STAY_DOWN)


def suffixed(base: str, tenant: str) -> str:
    """``base`` as the bank name of ``tenant``'s own stay-down bank."""
    if tenant == "default":
        return base
    suffix = tenant if re.fullmatch(r"[a-z0-9._-]{1,40}", tenant) else \
        "t" + hashlib.sha256(tenant.encode()).hexdigest()[:20]
    return f"{base}.{suffix}"


def bank_names(tenant: str) -> tuple[str, str]:
    """The tenant's own (PDQ, SHA-256) stay-down banks (issue 18 finding 2: removals never cross tenants).

    The default tenant keeps the plain names; others get a suffix (their name when it is a valid bank name
    suffix, else a digest of it).  Another tenant sees them only if the owner shares them (``Banks.share``).
    """
    return suffixed(STAY_DOWN, tenant), suffixed(STAY_DOWN_EXACT, tenant)


def long_bank_names(tenant: str) -> dict[str, str]:
    """The tenant's own video (vPDQ) and audio (landmark) stay-down banks: {bank name: kind} (issue 20)."""
    return {suffixed(base, tenant): kind for base, kind in LONG_STAY_DOWN.items()}


def policy_banks(banks: set[str], tenant: str | None) -> set[str]:
    """Matched bank names as the policies know them: the tenant's stay-down banks become ``removed-content``
    and ``removed-content-exact``; another tenant's (shared) ones stay apart, so they never block by themselves.
    ``tenant`` None is the operator's own scan: every tenant's stay-down bank counts."""
    out = set()
    for name in banks:
        base, dot, _ = name.partition(".")
        own = tenant is None or name in bank_names(tenant) or name in long_bank_names(tenant)
        if base in STAY_DOWN_BASES and own:
            out.add(base)
        elif base in STAY_DOWN_BASES:
            out.add(f"shared:{name}")
        else:
            out.add(name)
    return out


__all__ = ["LONG_STAY_DOWN", "STAY_DOWN", "STAY_DOWN_AUDIO", "STAY_DOWN_BASES", "STAY_DOWN_EXACT", "STAY_DOWN_VIDEO",
           "bank_names", "long_bank_names", "policy_banks", "suffixed"]
