"""Which trusted provider a file's provenance claims point at, and whether its record verifies (issue 19).

``inspect``, ``scan``, ``trace`` and ``evidence`` read the same pointers a file may carry -- the GB 45438 AIGC
label (ContentProducer, ProduceID), the C2PA manifest (its signer certificate and our ``org.synthguard.record``
assertion with content id, producer and ledger reference ``<origin>#<content id>``) and, once cross-deployment
watermark detection reports one, the watermark's provider -- and match each against the verifier's trust list:

* a claim naming a provider in the list is **attributed** to that entry: its name, producer code, log origin, key
  fingerprint and where the key came from (``pinned by the operator`` or ``list <publisher> <fingerprint>``);
* a claim naming no trusted provider is **not verifiable here** -- never "invalid": the label's ReservedCode1 is a
  MAC only its producer can check (GB-12), and a foreign label is not a tampered one;
* a C2PA manifest is attributed by its signer certificate (the leaf of exactly one pinned chain, and the manifest
  "trusted" under the anchors the trust list adds), never by the names it claims;
* ``trust.resolve.resolve_all`` then asks the provider's lookup API (LM-24) with this deployment's credential
  for the record and verifies the answer against the pinned key and the witness quorum: ``verified`` when the
  proof holds, with whether the record's hashes are this file's (``identical``, ``same-pixels``) or another copy.

Own claims (records in this deployment's database, or our producer code when there is no database at hand) are
left to the local trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthguard.errors import NotFoundError
from synthguard.trust.trustlist import TrustedProvider, TrustList, c2pa_signer_entry

ATTRIBUTED = "attributed"              # names a trusted provider; its record not (yet) resolved
VERIFIED = "verified"                  # the provider's record, proof and checkpoint verified against the pin
NOT_VERIFIABLE = "not verifiable here"  # no trusted provider for this claim: neither valid nor invalid
NOT_FOUND = "no such record at the provider"
FAILED = "proof failed"                # the provider's answer does not verify: evidence of misbehaviour
UNRESOLVED = "unresolved"              # the lookup could not be made (no credential, provider unreachable)

Ours = Callable[[str | None, str | None], bool]  # (content id, producer code) -> a claim about our own records


def provider_info(entry: TrustedProvider) -> dict[str, Any]:
    """The trust entry as every result names it."""
    return {"name": entry.name, "producer": entry.producer, "origin": entry.origin,
            "key_fingerprint": entry.fingerprint, "key_source": entry.source,
            "witnesses_required": entry.quorum}


def _claim(mark: str, content_id: str | None, producer: str | None, entry: TrustedProvider | None,
           detail: str, **extra: Any) -> dict[str, Any]:
    return {"mark": mark, "content_id": content_id, "producer": producer,
            "provider": provider_info(entry) if entry else None,
            "status": ATTRIBUTED if entry else NOT_VERIFIABLE, "detail": detail, **extra}


def attribute(insp: dict[str, Any], trust: TrustList, ours: Ours) -> list[dict[str, Any]]:
    """The foreign provenance claims on an inspected file, each attributed to a trust entry or not verifiable."""
    out: list[dict[str, Any]] = []
    aigc = insp.get("aigc") or {}
    pid, producer = aigc.get("ProduceID") or None, aigc.get("ContentProducer") or None
    if (pid or producer) and insp.get("aigc_integrity") != "valid" and not ours(pid, producer):
        entry = trust.for_producer(producer) if producer else None
        out.append(_claim("aigc", pid, producer, entry,
                          f"the AIGC label names producer {producer!r}, "
                          + ("a trusted provider" if entry else "which is not in this deployment's trust list")))
    c2 = insp.get("c2pa") or {}
    if c2.get("present") and c2.get("state") in ("valid", "trusted"):
        cid, claimed = c2.get("content_id"), c2.get("producer")
        ref = c2.get("ledger_ref") or ""
        origin = ref.rpartition("#")[0] if "#" in ref else None
        signer = c2pa_signer_entry(trust, c2.get("serial"), c2.get("signer")) if c2.get("state") == "trusted" else None
        if signer is not None:
            problems = []
            if claimed and signer.producer and claimed != signer.producer:
                problems.append(f"the manifest claims producer {claimed!r} but is signed by {signer.producer!r}")
            if origin and origin != signer.origin:
                problems.append(f"the manifest's ledger reference names log {origin!r}, not the signer's "
                                f"{signer.origin!r}")
            out.append(_claim("c2pa", cid, signer.producer, signer,
                              "the C2PA manifest is signed by the certificate in this provider's pinned chain",
                              problems=problems))
        elif (cid or claimed) and not ours(cid, claimed):
            entry = trust.for_origin(origin) if origin else None
            entry = entry or (trust.for_producer(claimed) if claimed else None)
            how = ("its signer is not in any trusted provider's pinned C2PA chain, but its ledger reference or "
                   "producer names a trusted provider") if entry else \
                "its signer and the provider it names are not in this deployment's trust list"
            out.append(_claim("c2pa" if entry is None else "ledger_ref", cid, claimed, entry,
                              f"a C2PA manifest ({c2.get('state')}): {how}"))
    wm = insp.get("watermark") or {}
    hooked = _watermark_claim(wm, trust)
    if hooked is not None:
        out.append(hooked)
    return out


def _watermark_claim(wm: dict[str, Any], trust: TrustList) -> dict[str, Any] | None:
    """A provider's shared- or public-mode watermark found by ``image.federated.watermark`` (or by
    ``image.watermark`` when this deployment's own mark is federated).  Any of ``provider`` (a dict or a string),
    ``origin``, ``producer``, ``key_fingerprint`` names the provider; ``content_id`` (once its token resolved) or
    ``token`` / ``payload`` the mark.  Fields this code does not know are ignored."""
    if not wm.get("detected"):
        return None
    prov = wm.get("provider")
    refs = [v for v in ((prov.get("origin"), prov.get("producer"), prov.get("key_fingerprint"), prov.get("name"))
                        if isinstance(prov, dict) else (prov,)) if isinstance(v, str) and v]
    refs += [wm[k] for k in ("origin", "producer", "key_fingerprint") if isinstance(wm.get(k), str) and wm[k]]
    if not refs:
        return None  # our own watermark (or a detector that does not say whose): the local trace reads it
    entry = None
    for ref in refs:
        try:
            entry = trust.find(ref)
            break
        except NotFoundError:
            continue
    token = wm.get("token") or wm.get("payload")
    return _claim("watermark", wm.get("content_id"), entry.producer if entry else None, entry,
                  f"a watermark of provider {refs[0]!r}" + ("" if entry else ", which is not in the trust list"),
                  token=token, mode=wm.get("mode"))


def summary(claim: dict[str, Any]) -> dict[str, Any]:
    """A claim without the resolved record's full answer (what scan evidence and inspect show)."""
    out = {k: v for k, v in claim.items() if k != "resolved"}
    got = claim.get("resolved")
    if got:
        out["proof"] = {"verified": got["verified"], "origin": got["origin"], "tree_size": got["tree_size"],
                        "leaf_index": got["leaf_index"], "witnesses": got["witnesses"], "match": got["match"]}
    return out
