"""The provider's consent gate (DS-15, PI-07, CC-01/02): every face and voice in the sources needs a live grant.

For each face or voice found in the source (and target) media: match it against the tenant's enrolled subjects;
a matched subject needs an intact, unrevoked, unexpired grant to this user (or to the whole provider,
``tenant:<tenant>``) for this purpose and modality, else ``deny`` with the reason.  A face or voice of nobody
enrolled, or one too small to identify, follows the unknown rule (deny in the cn and eu profiles).  Any deny
denies the whole request; nothing is allowed silently: the result lists every person with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthguard.consent import likeness
from synthguard.consent.policy import purpose_modalities, unknown_rule
from synthguard.errors import ConsentRequiredError, ValidationError
from synthguard.ledger.erasure import subject_ref
from synthguard.media import Media

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.consent.registry import Registry, Template
    from synthguard.ledger.log import Ledger
    from synthguard.store.protocols import Unit, Units

_STATUS_REASON = {
    "revoked": "the subject revoked the grant",
    "expired": "the grant has expired",
    "tampered": "the grant record or its evidence fails the integrity check (possible tampering)",
    "erased": "the subject erased their data",
}


@dataclass(frozen=True)
class GateResult:
    decision: str  # allow | deny
    purpose: str
    user: str
    persons: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # SHA-256 of each source/target file
    models: list[dict[str, Any]] = field(default_factory=list)  # model, weights hash and threshold per modality used
    tenant: str = "default"  # the tenant whose subjects were matched and whose account ``user`` is

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "purpose": self.purpose, "user": self.user, "persons": self.persons,
                "grants": self.grants, "notes": self.notes, "sources": self.sources, "models": self.models}

    def summary(self) -> str:
        denied = [p for p in self.persons if p["decision"] == "deny"]
        return "; ".join(f"{p['modality']} in {p['file']}: {p['reason']}" for p in denied) or "all allowed"


class ConsentDeniedError(ConsentRequiredError):
    """The gate denied: some face or voice in the sources lacks the person's separate consent (DS-15)."""

    def __init__(self, result: GateResult):
        super().__init__("consent gate denied {purpose!r} for user {user!r}: {summary}",
                         values={"purpose": result.purpose, "user": result.user, "summary": result.summary()})
        self.result = result

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:  # type: ignore[override]
        return super().to_dict(lang) | {"consent": self.result.to_dict()}


@dataclass(frozen=True, kw_only=True)
class ConsentGate:
    """The gate, built from narrow dependencies (issue 23): the likeness registry and the settings (getters, read
    at each check), a unit-of-work factory, the ledger (every decision's entry) and the pseudonym of an account
    (``Identity.account_ref``: the ledger never names the user)."""

    registry: Callable[[], Registry]
    settings: Callable[[], Settings]
    units: Units
    ledger: Ledger
    account_ref: Callable[[str, str], str]

    def check(self, sources: list[Media], *, purpose: str, user: str, targets: list[Media] = (),  # type: ignore[assignment]
              tenant: str = "default") -> GateResult:
        """Decide; does not log (see :meth:`enforce`)."""
        if not purpose:
            raise ValidationError("a purpose is required when source media are given (DS-15)",
                                  hint="Pass --purpose, e.g. face_swap or voice_clone (see docs/consent.md).")
        wanted = purpose_modalities(purpose)
        registry = self.registry()
        settings = self.settings()
        cards = likeness.cards(settings)
        rule = unknown_rule(settings)
        found: list[likeness.Likeness] = []
        notes: list[str] = []
        for role, items in (("source", sources), ("target", targets)):
            for media in items:
                people, more = likeness.find(media, role)
                found += people
                notes += more
        gallery: dict[str, list[Template]] = {}
        persons = []
        with self.units() as uow:
            for item in found:
                if item.modality not in gallery:
                    gallery[item.modality] = registry.templates(item.modality, tenant=tenant)
                persons.append(_decide(uow, registry, item, gallery[item.modality], cards[item.modality], rule, wanted,
                                       purpose, user, tenant, settings.profile))
        if not found:
            notes.append("no face or voice found in the sources: nothing needs consent")
        decision = "deny" if any(p["decision"] == "deny" for p in persons) else "allow"
        grants = sorted({p["grant_id"] for p in persons if p.get("grant_id") and p["decision"] == "allow"})
        shas = [m.sha256 for m in [*sources, *targets]]
        models = [cards[m].to_dict(likeness.model_sha256(m)) for m in sorted({f.modality for f in found})]
        return GateResult(decision, purpose, user, persons, notes, grants, shas, models, tenant)

    def enforce(self, sources: list[Media], *, purpose: str, user: str, targets: list[Media] = (),  # type: ignore[assignment]
                tenant: str = "default", output_sha256: str | None = None, log_allow: bool = True) -> GateResult:
        """Check, log the decision to the ledger (hashes and pseudonymous refs only), raise on deny."""
        result = self.check(sources, purpose=purpose, user=user, targets=targets, tenant=tenant)
        if result.decision == "deny" or log_allow:
            self.log(result, output_sha256=output_sha256)
        if result.decision == "deny":
            raise ConsentDeniedError(result)
        return result

    def log(self, result: GateResult, *, output_sha256: str | None = None) -> int:
        """The decision's ledger entry; returns its index."""
        with self.units() as uow:
            entry = self.ledger.append(uow.session, "consent", {
                "event": "check", "decision": result.decision, "purpose": result.purpose,
                "user": self.account_ref(result.tenant, result.user), "sources": result.sources,
                "output_input_sha256": output_sha256,
                "grants": result.grants,
                "models": [{"model": m["model"], "model_sha256": m.get("model_sha256"), "threshold": m["threshold"]}
                           for m in result.models],
                "persons": [{"subject_ref": p.get("subject_ref"),
                             "modality": p["modality"], "code": p["code"], "decision": p["decision"]}
                            for p in result.persons]})
        return entry.index


def _decide(uow: Unit, registry: Registry, item: likeness.Likeness, gallery: list[Template], card: likeness.ModelCard,
            rule: str, wanted: list[str], purpose: str, user: str, tenant: str, profile: str) -> dict[str, Any]:
    out = item.describe()
    if item.embedding is None:
        return out | {"subject": None, "match": "unidentifiable", "decision": rule, "code": "unidentifiable",
                      "reason": f"{item.problem}; unidentified persons are {_verb(rule)} in the {profile} profile"}
    best: tuple[Template, float, bool] | None = None
    for t in gallery:
        score = card.score(item.embedding, t.embedding)
        if card.matches(score) and (best is None or card.better(score, best[1])):
            best = (t, score, t.protected)
    if best is None:
        return out | {"subject": None, "match": "unknown", "decision": rule, "code": f"unknown_{rule}",
                      "reason": f"matches no enrolled subject; unknown {item.modality}s are {_verb(rule)} in the "
                                f"{profile} profile (DS-15)"}
    template, score, protected = best
    subject = template.name or template.subject_id  # the id in the tenant; grants and the ledger use the key
    out |= {"subject": subject, "subject_ref": subject_ref(template.subject_id), "protected": protected,
            "match": "matched", "score": round(score, 4), "threshold": card.threshold}
    if item.modality not in wanted:
        return out | {"decision": "deny", "code": "modality_not_in_purpose",
                      "reason": f"purpose {purpose!r} does not edit a {item.modality}, yet the sources carry "
                                f"{subject}'s {item.modality}; use a purpose that covers it"}
    statuses = []
    for g in uow.consent.grants_for(template.subject_id, purpose, [user, f"tenant:{tenant}"]):
        if item.modality not in (g.modalities or []):
            continue
        status = registry.grant_status(uow.session, g)
        if status == "active":
            return out | {"decision": "allow", "code": "granted", "grant_id": g.id,
                          "reason": f"grant {g.id} from {subject} to {g.grantee} for {purpose}"}
        statuses.append((status, g.id))
    if not statuses:
        return out | {"decision": "deny", "code": "no_grant",
                      "reason": f"{subject} has given {user!r} no separate consent for {purpose} of their "
                                f"{item.modality} (DS-15)"}
    order = ["tampered", "revoked", "expired", "erased"]
    status, gid = sorted(statuses, key=lambda x: order.index(x[0]) if x[0] in order else 9)[0]
    return out | {"decision": "deny", "code": status, "grant_id": gid,
                  "reason": f"{_STATUS_REASON.get(status, status)} ({gid})"}


def _verb(rule: str) -> str:
    return "allowed" if rule == "allow" else "denied"


