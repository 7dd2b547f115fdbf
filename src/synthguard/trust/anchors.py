"""C2PA trust anchors from the trust list (issue 19, EU-09).

A manifest reads as "trusted" only when its signer chains to an anchor the verifier chose.  A deployment's anchors
are its configured bundle (``c2pa_trust_anchors``, else its own development CA) plus the root of every C2PA chain in
the signed descriptors of the providers it trusts: pinning a provider is what makes its manifests "trusted" here.
Which provider signed a manifest is then told by the signer certificate itself (its serial number and name are the
leaf of exactly one pinned chain, :func:`synthguard.trust.trustlist.c2pa_signer_entry`), never by the claims inside.

The anchors are one PEM file, ``<home>/c2pa-trust-anchors.pem`` (the configured bundle or own CA, then the trusted
roots), rewritten whenever the trust list changes; the C2PA reader reads it on every validation, so a running
server picks up a newly trusted provider at once.

The code is in :mod:`synthguard.trust.trustlist`, beside the list whose changes rewrite the file
(:func:`~synthguard.trust.trustlist.for_settings`): the two modules imported each other, one of them inside a
function (issue 23).  This module keeps the names its callers (keys.py, scan_cache.py) import.
"""

from synthguard.trust.trustlist import ANCHORS_FILE, anchors, refresh, trust_roots

__all__ = ["ANCHORS_FILE", "anchors", "refresh", "trust_roots"]
