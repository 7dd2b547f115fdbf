"""Management-system register (DS-05 / DS Art. 7): versioned policy documents with an owner and a review date.

Art. 7 names eight systems (user registration, algorithm review, S&T ethics review, publication review, data
security, personal-information protection, anti-telecom-fraud, emergency response); the register also keeps the
Art. 15 security assessments (DS-17) as kind ``security_assessment``.  Versions are never overwritten: publishing a
new version adds a row, and the current version of a kind is the newest row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from synthguard.compliance.common import UserRef, check_name, check_text, ledger_body, parse_day, sha256_text
from synthguard.errors import ConflictError, ValidationError
from synthguard.i18n import N_
from synthguard.ledger.log import Ledger
from synthguard.store.base import utcnow
from synthguard.store.compliance_tables import PolicyDocument
from synthguard.store.protocols import Units
from synthguard.times import iso

ART7_KINDS = ("user_registration", "algorithm_review", "ethics_review", "publication_review", "data_security",
              "personal_information", "anti_fraud", "emergency_response")
ASSESSMENT = "security_assessment"
KINDS = (*ART7_KINDS, ASSESSMENT)


def _doc(d: PolicyDocument, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {"id": d.id, "tenant": d.tenant, "kind": d.kind, "version": d.version, "title": d.title, "owner": d.owner,
            "review_due": iso(d.review_due), "overdue": d.review_due < now, "evidence": d.evidence,
            "sha256": d.sha256, "created_at": iso(d.created_at), "created_by": d.created_by,
            "ledger_index": d.ledger_index}


class Register:
    """The register behind ``sg.compliance.register``, from narrow dependencies (issue 23): units of work, the
    ledger each new version is appended to, and the pseudonymiser of the actor."""

    def __init__(self, units: Units, ledger: Ledger, user_ref: UserRef):
        self.units, self.ledger, self.user_ref = units, ledger, user_ref

    def add(self, kind: str, version: str, *, owner: str, review_due: str | datetime, actor: str, title: str = "",
            evidence: str = "", text: str | None = None, tenant: str = "default") -> dict[str, Any]:
        """Record a new version of a policy document (never overwrites an existing version)."""
        check_name(kind, "policy kind", f"Use one of: {', '.join(KINDS)}.")
        if kind not in KINDS:
            raise ValidationError("unknown policy kind {kind!r}", hint=N_("Use one of: {kinds}."),
                                  values={"kind": kind, "kinds": ", ".join(KINDS)})
        version = check_text(version, "the version", max_len=32)
        owner = check_text(owner, "the owner", max_len=128)
        due = parse_day(review_due)
        with self.units() as uow:
            if uow.compliance.policy_exists(tenant, kind, version):
                raise ConflictError("{kind} version {version!r} is already registered",
                                    hint="Versions are immutable: register the revision under a new version.",
                                    values={"kind": kind, "version": version})
            digest = sha256_text(text) if text else None
            entry = self.ledger.append(uow.session, "feature", ledger_body(
                self.user_ref, "policy_document", actor, kind=kind, version=version, tenant=tenant, sha256=digest))
            doc = uow.compliance.add_policy(tenant=tenant, kind=kind, version=version, title=title, owner=owner,
                                            review_due=due, evidence=evidence, sha256=digest, created_by=actor,
                                            ledger_index=entry.index)  # a concurrent writer: ConflictError
            return _doc(doc)

    def documents(self, *, tenant: str | None = "default", current_only: bool = True) -> list[dict[str, Any]]:
        """The register: by default the current (newest) version of each kind."""
        with self.units() as uow:
            docs = uow.compliance.policies(tenant)
        now = utcnow()
        if not current_only:
            return [_doc(d, now) for d in docs]
        latest: dict[tuple[str, str], PolicyDocument] = {}
        for d in docs:
            latest[(d.tenant, d.kind)] = d
        return [_doc(d, now) for d in latest.values()]

    def export(self, *, tenant: str = "default") -> dict[str, Any]:
        """DS-05 export: every Art. 7 system with its current version, or ``None`` when it is missing."""
        current = {d["kind"]: d for d in self.documents(tenant=tenant)}
        return {"tenant": tenant, "systems": [{"kind": k, "current": current.get(k)} for k in ART7_KINDS],
                "security_assessment": current.get(ASSESSMENT),
                "missing": [k for k in ART7_KINDS if k not in current]}
