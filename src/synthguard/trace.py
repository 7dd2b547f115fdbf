"""Trace a file to the record that made it, with an RFC 6962 inclusion proof against a signed checkpoint.

Every pointer a file may carry is tried: our watermark payload, the GB 45438 ProduceID (its
ReservedCode1 must verify), the C2PA record assertion (the manifest must validate), and the
fingerprints (exact SHA-256, pixel hash, PDQ) for copies stripped of every mark.  A pointer that names
no record, or a record whose hashes contradict the file, is reported as a problem and never as "found".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any

from synthguard.config import Settings
from synthguard.errors import NotFoundError
from synthguard.fingerprint import Hasher
from synthguard.fingerprint.pdq import nearest
from synthguard.i18n import N_
from synthguard.ledger.log import Ledger
from synthguard.ledger.service import checkpoint_dict as ledger_checkpoint_dict
from synthguard.media import Media, Modality
from synthguard.store import record_repo
from synthguard.store.record_repo import Session
from synthguard.store.schema import Record
from synthguard.store.unit_of_work import UnitOfWork
from synthguard.trust.attribution import VERIFIED, attribute, provider_info, summary
from synthguard.trust.resolve import resolve_all
from synthguard.trust.trustlist import for_settings

RECORD_HINT = N_("Check the content id (SG and 26 more characters: the AIGC ProduceID); find the record of a file "
                 "with `synthguard trace FILE`.")
_WATERMARK_TOKEN = re.compile(r"[0-9a-f]{16}")

# Strength of each kind of evidence: a claim the file makes about itself (metadata) is weakest.
STRENGTH = {"sha256": 5, "pixel_sha256": 5, "watermark": 4, "c2pa": 3, "pdq": 3, "aigc": 2, "ledger_ref": 2}


def find_record(s: Session, content_id: str) -> Record:
    """The record of ``content_id`` or of a watermark token (16 hex digits, ``watermark_payload``: how a platform
    that read the token of a shared- or public-mode mark resolves it, issue 19); NotFoundError otherwise."""
    rec = record_repo.record(s, content_id)
    if rec is None and _WATERMARK_TOKEN.fullmatch(content_id):
        rec = record_repo.record_by_watermark(s, content_id)
    if rec is None:
        raise NotFoundError("no record {content_id!r}", values={"content_id": content_id}, hint=RECORD_HINT)
    return rec


@dataclass
class TraceResult:
    found: bool
    via: list[str] = field(default_factory=list)
    confirmed: bool = False  # a content hash or a signed label agrees, not only the watermark pointer
    producer: str | None = None
    content_id: str | None = None
    record: dict[str, Any] | None = None
    proof: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    marks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    provider: dict[str, Any] | None = None  # a record of another, trusted provider: who, with which key, why
    attribution: list[dict[str, Any]] = field(default_factory=list)  # foreign claims and how each resolved

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_dict(rec: Record) -> dict[str, Any]:
    """The record as answers show it: ``user`` is the account's id in its ``tenant`` (ids are per tenant, issue 18
    finding 13; the ledger entry's ``user`` is the pseudonym of the account's key)."""
    user = rec.account.name if rec.account is not None else rec.user_id
    return {"content_id": rec.content_id, "tenant": rec.tenant, "producer": rec.producer, "user": user,
            "created_at": rec.created_at.isoformat(), "modality": rec.modality, "model": rec.model,
            "technique": rec.technique, "input_sha256": rec.input_sha256, "output_sha256": rec.output_sha256,
            "pixel_sha256": rec.pixel_sha256, "watermark_payload": rec.watermark_payload, "marks": rec.marks,
            "ledger_index": rec.ledger_index}


@dataclass(kw_only=True)
class Tracer:
    """Which record made a file, and the provider lookup API (LM-24), built from narrow dependencies (issue 23):
    the settings (a getter: the trust list is read at each trace), a unit-of-work factory, the ledger and its
    public key, the inspection, the perceptual hashers of a modality and whether a claim names one of this
    deployment's records."""

    settings: Callable[[], Settings]
    units: Callable[[], AbstractContextManager[UnitOfWork]]
    ledger: Ledger
    public_key: Callable[[], Any]
    media: Callable[[Any], Media]
    inspect: Callable[[Media], dict[str, Any]]
    hashers: Callable[[Modality], list[Hasher]]
    ours: Callable[[str | None, str | None], bool]

    def checkpoint_dict(self, cp: Any, note: str | None = None) -> dict[str, Any]:
        """The checkpoint for answers; ``note`` is the stored note when it carries witness cosignatures (issue 19)."""
        return ledger_checkpoint_dict(self.public_key(), cp, note)

    def record(self, content_id: str) -> dict[str, Any]:
        """The record, its inclusion proof and the checkpoint: the provider lookup API (LM-24).  ``content_id``
        may also be a watermark token (16 hex digits, ``watermark_payload``): how a platform that read the token
        of a shared- or public-mode mark resolves it (issue 19); a forged token names no record (404)."""
        with self.units() as uow:
            rec = find_record(uow.session, content_id)
            proof, checkpoint, problems = self.proof_for(uow.session, rec)
            return {"record": record_dict(rec), "proof": proof, "checkpoint": checkpoint, "problems": problems,
                    # the output's perceptual hash (not in the proven entry): lets a platform that resolved a
                    # watermark token see whether its file is this record's output or a copied mark (issue 19)
                    "fingerprints": {f.kind: f.value for f in rec.fingerprints if f.kind == "pdq"}}

    def proof_for(self, s: Session, rec: Record) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[str]]:
        """Inclusion proof of the record's ledger entry at the latest checkpoint covering it (else the current
        tree)."""
        problems: list[str] = []
        if rec.ledger_index is None:
            return None, None, ["the record has no ledger entry"]
        ledger = self.ledger
        cp = ledger.latest_checkpoint(s)
        entry = ledger.entry(s, rec.ledger_index)
        if entry.body.get("content_id") != rec.content_id or entry.body.get("output_sha256") != rec.output_sha256:
            problems.append(f"ledger entry {rec.ledger_index} does not describe record {rec.content_id}")
        if cp is not None and cp.tree_size > rec.ledger_index:
            size, checkpoint = cp.tree_size, self.checkpoint_dict(cp, ledger.latest_note(s))
        else:
            size, checkpoint = ledger.size(s), None
            problems.append("no signed checkpoint covers this record yet; run `synthguard ledger checkpoint`")
        p = ledger.inclusion_proof(s, rec.ledger_index, size)
        if checkpoint is not None and p.root.hex() != checkpoint["root"]:
            problems.append("the ledger's root at the checkpoint size differs from the signed checkpoint")
        proof = {"leaf_index": p.index, "leaf_hash": p.leaf_hash.hex(), "tree_size": p.tree_size,
                 "audit_path": [h.hex() for h in p.hashes], "root": p.root.hex(), "entry": entry.data.decode(),
                 "verified": p.verify()}
        return proof, checkpoint, problems

    def trace(self, source: Any) -> TraceResult:
        """Every pointer the file carries, the strongest claim's record and its inclusion proof (module docstring)."""
        media = self.media(source)
        media.decode()
        result = TraceResult(found=False)
        claims: dict[str, set[str]] = {}  # content_id -> vias

        def claim(content_id: str | None, via: str) -> None:
            if content_id:
                claims.setdefault(content_id, set()).add(via)

        insp = self.inspect(media)
        result.marks = {k: insp[k] for k in ("aigc", "aigc_integrity", "digital_source_type", "c2pa", "watermark")}
        with self.units() as uow:
            s = uow.session
            wm = insp.get("watermark") or {}
            if wm.get("detected") and wm.get("payload"):
                rec = record_repo.record_by_watermark(s, wm["payload"])
                if rec is None:
                    result.problems.append(f"watermark payload {wm['payload']} names no record of this provider")
                claim(rec.content_id if rec else None, "watermark")
            if insp.get("aigc"):
                pid = insp["aigc"].get("ProduceID")
                if insp.get("aigc_integrity") == "valid":
                    claim(pid if record_repo.record(s, pid) else None, "aigc")
                    if not record_repo.record(s, pid):
                        result.problems.append(f"AIGC ProduceID {pid} names no record")
                elif pid:
                    result.problems.append(f"AIGC ProduceID {pid} ignored: ReservedCode1 integrity is "
                                           f"{insp.get('aigc_integrity')} (GB-12, LM-22)")
            c2 = insp["c2pa"] or {}
            if c2.get("content_id"):
                if c2.get("state") in ("valid", "trusted") and record_repo.record(s, c2["content_id"]) is not None:
                    claim(c2["content_id"], "c2pa")
                else:
                    result.problems.append(f"C2PA content id {c2['content_id']} ignored: manifest "
                                           f"{c2.get('state')} or no such record")
            for kind, value in (("sha256", media.sha256), ("pixel_sha256", media.content_sha256)):
                for cid in record_repo.content_ids_of(s, kind, value):
                    claim(cid, kind)
            pdq_hasher = next((h for h in self.hashers(media.modality) if h.kind == "pdq"), None)
            if pdq_hasher is not None:  # images: PDQ within the match radius of a record's (Hamming index)
                pdq = pdq_hasher.hash(media)
                for cid, _dist in nearest(pdq.value, record_repo.fingerprints_of(s, "pdq"))[:3]:
                    claim(cid, "pdq")
            if not claims:  # none of our records: another provider's, if the file names a trusted one (issue 19)
                return self.foreign(media, insp, result)
            best = max(claims, key=lambda c: (sum(STRENGTH[v] for v in claims[c]), len(claims[c])))
            if len(claims) > 1:
                result.problems.append("pointers disagree: " + "; ".join(
                    f"{c} via {', '.join(sorted(v))}" for c, v in claims.items()))
            rec = record_repo.record(s, best)
            assert rec is not None
            result.found, result.via, result.content_id = True, sorted(claims[best], key=lambda v: -STRENGTH[v]), best
            result.producer, result.record = rec.producer, record_dict(rec)
            result.confirmed = bool(claims[best] - {"watermark"})
            if not result.confirmed:
                result.problems.append("only the watermark points at this record: the file differs from the "
                                       "recorded output (an edited copy, or a payload forged by someone holding "
                                       "the scheme key)")
            result.proof, result.checkpoint, problems = self.proof_for(s, rec)
            result.problems += problems
        return result

    def foreign(self, media: Media, insp: dict[str, Any], result: TraceResult) -> TraceResult:
        """The file names another provider's record (AIGC label, C2PA manifest, ledger reference, watermark): ask
        the trusted provider's lookup API and verify record, inclusion proof and (cosigned) checkpoint against the
        pinned key (trust.resolve).  Found only when that verifies; the result names the provider, its key
        fingerprint and where the key came from, and carries the signed descriptor it relied on (issue 19)."""
        trust = for_settings(self.settings())
        claims = resolve_all(attribute(insp, trust, self.ours), trust, sha256=media.sha256,
                             pixel_sha256=media.content_sha256)
        result.attribution = [summary(c) for c in claims]
        rank = {"identical": 0, "same-pixels": 1, "other-copy": 2}
        verified = sorted((c for c in claims if c["status"] == VERIFIED),
                          key=lambda c: (rank[c["resolved"]["match"]], -STRENGTH.get(c["mark"], 1)))
        for c in claims:
            if c["status"] != VERIFIED:
                result.problems.append(f"{c['mark']} pointer to {c.get('content_id') or '-'}: {c['status']}"
                                       + (f" ({c['reason']})" if c.get("reason") else f" ({c['detail']})"))
        if not verified:
            return result
        best = verified[0]
        got, entry = best["resolved"], trust.find(best["provider"]["origin"])
        same = [c["mark"] for c in verified if (c["provider"]["origin"], c["content_id"]) ==
                (best["provider"]["origin"], best["content_id"])]
        result.found, result.content_id = True, best["content_id"]
        result.via = sorted(set(same), key=lambda v: -STRENGTH.get(v, 1))
        result.producer, result.record = got["record"].get("producer") or entry.producer, got["record"]
        result.proof = got["proof"] | {"verified": True}  # re-checked here against the pinned key, not on trust
        result.checkpoint = got["checkpoint"]
        result.provider = provider_info(entry) | {"vkey": entry.vkey, "witnesses": got["witnesses"],
                                                  "descriptor": entry.descriptor, "match": got["match"]}
        result.confirmed = got["match"] != "other-copy"
        if not result.confirmed:
            result.problems.append(f"the provider's record {best['content_id']} describes other bytes than this "
                                   "file (an edited or re-encoded copy): attributed by the pointer only")
        return result
