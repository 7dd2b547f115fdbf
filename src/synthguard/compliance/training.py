"""Training-data register (DS-14, GAI-01, PI-01): data sets with source, legal basis, PI flags, consent references,
and the lineage from model versions (as in ``records.model``) to the data sets they were trained on."""

from __future__ import annotations

from typing import Any

from synthguard.compliance.common import UserRef, check_text, ledger_body
from synthguard.errors import ConflictError, NotFoundError, ValidationError
from synthguard.i18n import N_
from synthguard.ledger.log import Ledger
from synthguard.store.compliance_tables import TrainingDataset
from synthguard.store.protocols import Units
from synthguard.times import iso

# PIPL Art. 13 legal bases (PI-01) plus data without personal information under a licence or in the public domain.
LEGAL_BASES = ("consent", "contract", "legal_duty", "public_health", "news_reporting", "publicly_disclosed",
               "statutory", "licence", "public_domain", "own_data")


def _ds(d: TrainingDataset) -> dict[str, Any]:
    return {"id": d.id, "tenant": d.tenant, "name": d.name, "source": d.source, "legal_basis": d.legal_basis,
            "contains_pi": d.contains_pi, "sensitive_pi": d.sensitive_pi, "consent_refs": list(d.consent_refs or []),
            "retention": d.retention, "created_at": iso(d.created_at), "created_by": d.created_by}


class Training:
    """The register behind ``sg.compliance.training``, from narrow dependencies (issue 23): units of work, the
    ledger each data set and lineage link is appended to, and the pseudonymiser of the actor."""

    def __init__(self, units: Units, ledger: Ledger, user_ref: UserRef):
        self.units, self.ledger, self.user_ref = units, ledger, user_ref

    def add(self, name: str, *, source: str, actor: str, legal_basis: str | None = None, contains_pi: bool = False,
            sensitive_pi: bool = False, consent_refs: list[str] | None = None, retention: str = "",
            tenant: str = "default") -> dict[str, Any]:
        """Register a data set as it is; a missing legal basis is recorded (and fails the DS-14 check)."""
        name = check_text(name, "the data set name", max_len=128)
        source = check_text(source, "the source")
        if legal_basis is not None and legal_basis not in LEGAL_BASES:
            raise ValidationError("unknown legal basis {legal_basis!r}",
                                  hint=N_("Use one of: {legal_bases} (PIPL Art. 13), or leave it out."),
                                  values={"legal_basis": legal_basis, "legal_bases": ", ".join(LEGAL_BASES)})
        if sensitive_pi and not contains_pi:
            raise ValidationError("sensitive personal information implies personal information",
                                  hint="Pass --contains-pi with --sensitive-pi.")
        with self.units() as uow:
            if uow.compliance.dataset(tenant, name) is not None:
                raise ConflictError("data set {name!r} is already registered", values={"name": name})
            d = uow.compliance.add_dataset(tenant=tenant, name=name, source=source, legal_basis=legal_basis,
                                           contains_pi=contains_pi, sensitive_pi=sensitive_pi,
                                           consent_refs=consent_refs or [], retention=retention, created_by=actor)
            self.ledger.append(uow.session, "feature", ledger_body(
                self.user_ref, "training_dataset", actor, dataset=d.id, legal_basis=legal_basis,
                contains_pi=contains_pi))
            return _ds(d)

    def link(self, model: str, dataset: str, *, actor: str, tenant: str = "default") -> dict[str, Any]:
        """Record that model version ``model`` was trained on ``dataset`` (lineage, DS-14)."""
        model = check_text(model, "the model version", max_len=128)
        with self.units() as uow:
            d = uow.compliance.dataset(tenant, dataset)
            if d is None:
                raise NotFoundError("no data set {dataset!r}",
                                    hint="Register it: `synthguard compliance dataset add`.",
                                    values={"dataset": dataset})
            if not uow.compliance.is_linked(tenant, model, d.id):
                uow.compliance.link(tenant=tenant, model=model, dataset_id=d.id, linked_by=actor)
                self.ledger.append(uow.session, "feature", ledger_body(self.user_ref, "model_lineage", actor,
                                                                       model=model, dataset=d.id))
        return self.lineage(model, tenant=tenant)

    def datasets(self, *, tenant: str | None = "default") -> list[dict[str, Any]]:
        with self.units() as uow:
            return [_ds(d) for d in uow.compliance.datasets(tenant)]

    def lineage(self, model: str, *, tenant: str | None = "default") -> dict[str, Any]:
        with self.units() as uow:
            return {"model": model, "datasets": [_ds(d) for d in uow.compliance.lineage(model, tenant)]}

    def models(self, *, tenant: str | None = "default") -> dict[str, list[dict[str, Any]]]:
        """Every model with lineage -> its data sets."""
        with self.units() as uow:
            out: dict[str, list[dict[str, Any]]] = {}
            for model, d in uow.compliance.lineage_links(tenant):
                out.setdefault(model, []).append(_ds(d))
            return out
