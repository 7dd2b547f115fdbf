"""The scan's cross-deployment watermark step (issue 19 item 3): every trusted provider's mark, attributed.

One :class:`~synthguard.marking.watermark.federated.FederatedDetector` holds the detection keys of every trust
list entry that lets us read its marks (public mode: the key in its signed descriptor; shared mode: the key from
its grant, ``trust.wmkeys``) plus, when this deployment marks in shared/public mode itself, its own key.  The
geometric search runs once per image, whatever the number of providers; attribution is one tensor contraction.

Each mark found is attributed and resolved:

- **resolved** -- the provider's lookup API (with the credential kept in the trust entry) turned the token into
  a record whose ledger entry carries this token, proven against the **pinned** key (``trust.resolve``); for our
  own key, our own ledger: ``label`` "1" (LM-13), naming provider, key fingerprint and content id;
- **mark present, not resolved** -- the provider has no record for this token (a forged mark: in public mode
  anyone can embed one, in shared mode any key holder), or its answer failed verification: ``info``, no AI tier
  (a forger must not be able to brand a real photo), with the reason;
- **not attempted** (no credential or endpoint, provider unreachable): shared mode ``label`` "1" at lower
  confidence (only the provider and the platforms it granted the key can embed it); public mode ``trace`` "3"
  (LM-15: anyone could have embedded it) -- both say "not resolved";
- **resolved to another picture** -- the record's PDQ (any rotation/mirror) is far from the file's: a genuine
  token copied onto another image (the copy attack), or an edit PDQ does not survive: ``trace`` "3" for review;
- a mark whose payload no trusted key decodes: ``info`` "mark present, provider unknown".

A key id claimed by several trust entries (a provider copying another's public key into its own descriptor) is
resolved with each; only the provider holding the integrity key can resolve a genuine token, so the copier never
gets a resolved record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from synthguard.detection import Detection
from synthguard.errors import LedgerIntegrityError, NotFoundError, SynthGuardError, WatermarkError
from synthguard.fingerprint.pdq import MATCH_THRESHOLD, bits_to_hex, pdq_dihedral, pdq_pixels
from synthguard.marking.watermark import federated as fed
from synthguard.media import Media, Modality
from synthguard.trust import resolve as res
from synthguard.trust.trustlist import TrustList
from synthguard.trust.wmkeys import detection_key

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.keys import Keys

NAME = "image.federated.watermark"


class Resolver(Protocol):
    """What the detector resolves our own marks with: the settings, the key ring, our records and our ledger's
    origin.  ``SynthGuard`` is one; a bare plugin context (an inspection without a database) is not."""

    @property
    def settings(self) -> Settings: ...

    @property
    def keys(self) -> Keys: ...

    def record(self, content_id: str) -> dict[str, Any]: ...

    def ledger_origin(self) -> str: ...


@dataclass(frozen=True)
class Claimant:
    name: str
    origin: str
    fingerprint: str | None
    source: str
    mode: str
    own: bool = False
    entry: Any = None  # the trust entry (parsed once per trust list change)


class FederatedWatermarkDetector:
    modalities = frozenset({Modality.IMAGE})

    def __init__(self, sg: Resolver, *, name: str = NAME, include_own: bool = False, search: str = "full"):
        self.sg = sg
        self.name = name
        self.include_own = include_own
        self.search = search
        self._state: tuple[Any, dict[str, list[Claimant]], Any] | None = None

    def with_search(self, search: str) -> FederatedWatermarkDetector:
        return FederatedWatermarkDetector(self.sg, name=self.name, include_own=self.include_own, search=search)

    @property
    def trust_path(self) -> Path:
        return Path(self.sg.settings.home) / "trust-list.json"

    def keys(self) -> tuple[dict[str, list[Claimant]], Any]:
        """(key id -> claimants, detector), rebuilt only when the trust list file changes."""
        try:
            st = os.stat(self.trust_path)
            stamp: Any = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if self._state is not None and self._state[0] == stamp:
            return self._state[1], self._state[2]
        claims: dict[str, list[Claimant]] = {}
        keys: dict[str, bytes] = {}
        if stamp is not None:
            for e in TrustList(self.trust_path).entries():
                got = detection_key(e)
                if got is None:
                    continue
                mode, key = got
                kid = fed.key_id(key)
                keys[kid] = key
                claims.setdefault(kid, []).append(Claimant(e.name or e.producer or e.origin, e.origin, e.fingerprint,
                                                           e.source, mode, entry=e))
        mode = self.sg.settings.watermark_mode
        if self.include_own and mode in fed.MODES:
            key = fed.derive(self.sg.keys.watermark, mode)
            kid = fed.key_id(key)
            keys[kid] = key
            claims.setdefault(kid, []).insert(0, Claimant("this deployment", self.sg.ledger_origin(), None,
                                                          "own key", mode, own=True))
        detector = fed.FederatedDetector(keys)
        self._state = (stamp, claims, detector)
        return claims, detector

    def detect(self, media: Media) -> list[Detection]:
        claims, detector = self.keys()
        if not claims:
            return []  # no provider lets us read its marks: nothing to search for
        try:
            r = detector.detect(media.image(), search=self.search)
        except WatermarkError as exc:
            return [Detection(self.name, "info", evidence={"checked": False}, problems=(exc.message,))]
        base = {"p_value": r.p_value, "false_match_probability": r.p_value, "keys": r.keys, "decodes": r.decodes,
                "search": r.search}
        if not r.present:
            if self.search != "full":
                return [Detection(self.name, "info", evidence={"checked": True, "search": self.search,
                                                               "full_search": "not run"})]
            return []
        att = r.attribution
        if att is None:
            return [Detection(self.name, "info", r.score, 0.0, None,
                              base | {"status": "mark_present_provider_unknown", "resolved": False},
                              problems=("SynthGuard mark present, not resolved: no trusted provider's key decodes it "
                                        "(a provider not in the trust list, or a bare copy of the public sync "
                                        "pattern)",))]
        token = att.payload.hex()
        outcomes = [self._content(media, self._resolve(c, token)) for c in claims.get(att.key_id, [])]
        ev = base | {"token": token, "payload": token, "key_id": att.key_id,
                     "false_attribution": att.false_attribution}
        return [self._finding(c, o, ev, r.score) for c, o in zip(claims[att.key_id], outcomes, strict=True)]

    # --- resolution ------------------------------------------------------------------------------------------
    def _resolve(self, c: Claimant, token: str) -> dict[str, Any]:
        try:
            if c.own:
                found = self.sg.record(token)
                rec = found["record"]
                if rec.get("watermark_payload") != token:
                    return {"status": "not_resolved", "reason": "our ledger has no record with this token"}
                return {"status": "resolved", "content_id": rec["content_id"], "verified": True,
                        "via": "own ledger", "fingerprints": found.get("fingerprints") or {}}
            entry = c.entry
            if not entry.lookup:
                return {"status": "not_attempted", "reason": "the provider publishes no lookup endpoint"}
            credential = TrustList(self.trust_path).credential(entry.origin)
            if not credential:
                return {"status": "not_attempted",
                        "reason": "no credential for the provider's lookup API (synthguard trust credential)"}
            found = res._httpx_get(entry.lookup.replace("{content_id}", token),
                                   {"authorization": f"Bearer {credential}"})
            got = res.verify_token_answer(found, entry, token)  # against the pinned key of this entry
            return {"status": "resolved", "content_id": got["content_id"], "verified": True, "via": "lookup API",
                    "tree_size": got["tree_size"], "leaf_index": got["leaf_index"], "witnesses": got["witnesses"],
                    "output_sha256": got["record"].get("output_sha256"), "fingerprints": got["fingerprints"]}
        except NotFoundError:
            return {"status": "not_resolved", "reason": "the provider has no record for this token"}
        except LedgerIntegrityError as exc:
            return {"status": "not_resolved", "reason": f"the provider's answer did not verify: {exc.message}"}
        except SynthGuardError as exc:  # unreachable, refused credential, ...
            return {"status": "not_attempted", "reason": exc.message}

    @staticmethod
    def _content(media: Media, o: dict[str, Any]) -> dict[str, Any]:
        """Is the file the resolved record's output?  A genuine token copied onto another picture (anyone can in
        public mode, key holders in shared mode) resolves to a genuine record of *another* image: the record's
        PDQ (any of the 8 rotations/mirrors) must be within the match threshold of the file's."""
        want = (o.pop("fingerprints", None) or {}).get("pdq")
        if o["status"] != "resolved" or not want:
            return o
        variants, _quality = pdq_dihedral(pdq_pixels(media))
        d = min(bin(int(bits_to_hex(v), 16) ^ int(want, 16)).count("1") for v in variants)
        o["pdq_distance"] = d
        if d > MATCH_THRESHOLD:
            o["status"] = "resolved_other_content"
            o["reason"] = (f"the token resolves to record {o['content_id']}, but this file is not its output (PDQ "
                           f"distance {d} > {MATCH_THRESHOLD}): a copied mark, or a heavily cropped copy")
        return o

    def _finding(self, c: Claimant, o: dict[str, Any], ev: dict[str, Any], score: float) -> Detection:
        ev = ev | {"provider": c.name, "origin": c.origin, "key_fingerprint": c.fingerprint, "key_source": c.source,
                   "mode": c.mode, "resolution": o, "resolved": o["status"] == "resolved",
                   "content_id": o.get("content_id")}
        if o["status"] == "resolved":
            return Detection(self.name, "label", score, 0.99, "1", ev | {"status": "resolved"})
        if o["status"] == "resolved_other_content":  # a copy attack, or an edit PDQ does not survive: for review
            return Detection(self.name, "trace", score, 0.5, "3", ev | {"status": "resolved_other_content"},
                             advisory=True, problems=(f"mark present ({c.name}): {o['reason']}",))
        note = f"mark present, not resolved ({c.name}): {o['reason']}"
        if o["status"] == "not_resolved":  # the provider denies it, or its answer is forged: no AI tier
            return Detection(self.name, "info", score, 0.0, None, ev | {"status": "mark_present_not_resolved"},
                             problems=(note,))
        if c.mode == "shared":  # only the provider and the platforms it granted the key can embed it
            return Detection(self.name, "label", score, 0.9, "1", ev | {"status": "mark_present_not_resolved"},
                             problems=(note,))
        return Detection(self.name, "trace", score, 0.5, "3", ev | {"status": "mark_present_not_resolved"},
                         advisory=True, problems=(note + " (public mode: anyone can embed this mark)",))


class Covered:
    """Registered under ``image.federated.watermark`` when this deployment's own mark is federated: the
    ``image.watermark`` detector then runs the federated search for every key (own and trusted) at once."""

    modalities = frozenset({Modality.IMAGE})
    name = NAME

    def detect(self, media: Media) -> list[Detection]:
        return []
