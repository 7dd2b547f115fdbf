"""Queries of the provider compliance module (issue 11), so ``synthguard.compliance`` holds no SQL (issue 23).

Plain functions over a ``Session``, and :class:`ComplianceRepository` binding them to one unit of work
(``uow.compliance``), so what was one transaction in the domain code stays one; they return ORM rows, result rows
or plain values and leave the judging to ``compliance``.  Besides the compliance tables they read what the audit
measures: generation records, identity verifications, ledger entries and checkpoints, moderation cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, exists, func, inspect, or_, select
from sqlalchemy.orm import Session

from synthguard.errors import ConflictError
from synthguard.store.base import Base, insert_unique
from synthguard.store.compliance_tables import (
    FeatureSwitch,
    ModelDataset,
    PolicyDocument,
    ScreenDecision,
    ScreenLibraryChange,
    TermsAcceptance,
    TermsVersion,
    TrainingDataset,
)
from synthguard.store.ledger_tables import CHECKPOINTS, ENTRIES
from synthguard.store.moderation_tables import ModCase, ModRefutation
from synthguard.store.schema import IdentityVerification, Record, User

RowT = TypeVar("RowT", bound=Base)


def _tenant(q: Any, column: Any, tenant: str | None) -> Any:
    return q.where(column == tenant) if tenant is not None else q


def _inserted(s: Session, row: RowT) -> RowT:
    """``row`` added and flushed, so its id and column defaults are filled in."""
    s.add(row)
    s.flush()
    return row


def _version_exists(s: Session, model: type[PolicyDocument] | type[TermsVersion], tenant: str, kind: str,
                    version: str) -> bool:
    """Whether the tenant already has ``version`` of the versioned document ``kind`` (a policy or terms)."""
    return s.scalar(select(model.id).where(model.tenant == tenant, model.kind == kind,
                                           model.version == version)) is not None


# --- generation records of an audit period ------------------------------------------------------
def _period(since: datetime, until: datetime, tenant: str | None) -> Select[Record]:
    q = select(Record).where(Record.created_at >= since, Record.created_at <= until)
    return q.where(Record.tenant == tenant) if tenant is not None else q


def period_content_ids(s: Session, since: datetime, until: datetime, tenant: str | None) -> list[str]:
    """Content ids of the period's records, oldest first."""
    return list(s.scalars(_period(since, until, tenant).with_only_columns(Record.content_id)
                          .order_by(Record.created_at, Record.content_id)))


def records(s: Session, content_ids: Iterable[str]) -> list[Record]:
    return list(s.scalars(select(Record).where(Record.content_id.in_(list(content_ids)))))


def period_count(s: Session, since: datetime, until: datetime, tenant: str | None) -> int:
    return s.scalar(select(func.count()).select_from(_period(since, until, tenant).subquery())) or 0


def period_unverified(s: Session, since: datetime, until: datetime, tenant: str | None) -> list[str]:
    """Content ids of the period's records whose user had no identity verified before the generation."""
    verified_before = exists().where(and_(IdentityVerification.user_id == Record.user_id,
                                          IdentityVerification.result == "verified",
                                          IdentityVerification.verified_at <= Record.created_at))
    return list(s.scalars(_period(since, until, tenant).where(~verified_before).with_only_columns(Record.content_id)))


def period_distinct(s: Session, column: str, since: datetime, until: datetime, tenant: str | None) -> list[Any]:
    """The distinct values of one ``records`` column (``technique``, ``model``) in the period."""
    return list(s.scalars(_period(since, until, tenant).with_only_columns(getattr(Record, column)).distinct()))


def period_rows(s: Session, since: datetime, until: datetime, tenant: str | None, columns: Sequence[str], *,
                techniques: Sequence[str] | None = None) -> list[Any]:
    """Rows of the named ``records`` columns in the period (only of ``techniques`` when given)."""
    q = _period(since, until, tenant)
    if techniques is not None:
        q = q.where(Record.technique.in_(techniques))
    return list(s.execute(q.with_only_columns(*(getattr(Record, c) for c in columns))))


# --- ledger --------------------------------------------------------------------------------------
def ledger_entries(s: Session, indexes: Iterable[int]) -> list[Any]:
    """``(idx, kind, data)`` rows of the given ledger entries (``data`` is the stored JSON text)."""
    q = select(ENTRIES.c.idx, ENTRIES.c.kind, ENTRIES.c.data).where(ENTRIES.c.idx.in_(list(indexes)))
    return list(s.execute(q))


def ledger_data(s: Session, kind: str, *, since: datetime | None = None) -> list[str]:
    """The stored JSON text of every ledger entry of ``kind`` (created at or after ``since``)."""
    q = select(ENTRIES.c.data).where(ENTRIES.c.kind == kind)
    if since is not None:
        q = q.where(ENTRIES.c.created_at >= since)
    return list(s.scalars(q))


def latest_checkpoint(s: Session) -> Any:
    """``(tree_size, created_at)`` of the newest checkpoint, or ``None``."""
    return s.execute(select(CHECKPOINTS.c.tree_size, CHECKPOINTS.c.created_at)
                     .order_by(CHECKPOINTS.c.id.desc()).limit(1)).first()


# --- moderation ----------------------------------------------------------------------------------
def moderation_period(s: Session, since: datetime, until: datetime, tenant: str | None, sources: Sequence[str]
                      ) -> tuple[list[ModCase], set[int], list[str | None]]:
    """Cases from ``sources`` opened in the period, the cases with a refutation published in it, and those
    cases' ``report_decision``."""
    q = select(ModCase).where(ModCase.source.in_(sources), ModCase.opened_at >= since, ModCase.opened_at <= until)
    complaints = list(s.scalars(q.where(ModCase.tenant == tenant) if tenant is not None else q))
    r = select(ModRefutation.case_id).where(ModRefutation.created_at >= since, ModRefutation.created_at <= until)
    case_ids = set(s.scalars(r.where(ModRefutation.tenant == tenant) if tenant is not None else r))
    decisions = list(s.scalars(select(ModCase.report_decision).where(ModCase.id.in_(case_ids)))) if case_ids else []
    return complaints, case_ids, decisions


# --- emergency switches --------------------------------------------------------------------------
def switch(s: Session, tenant: str, feature: str) -> FeatureSwitch:
    """The switch row, added to the session when it does not exist yet."""
    row = s.get(FeatureSwitch, (tenant, feature))
    if row is None:
        row = FeatureSwitch(tenant=tenant, feature=feature)
        s.add(row)
    return row


def switches(s: Session, tenants: Sequence[str] | None = None) -> list[FeatureSwitch]:
    q = select(FeatureSwitch).order_by(FeatureSwitch.tenant, FeatureSwitch.feature)
    if tenants is not None:
        q = q.where(FeatureSwitch.tenant.in_(tenants))
    return list(s.scalars(q))


def switched_off(s: Session, features: Sequence[str], tenant: str, all_tenants: str) -> list[FeatureSwitch]:
    q = select(FeatureSwitch).where(
        FeatureSwitch.feature.in_(features), FeatureSwitch.enabled.is_(False),
        or_(FeatureSwitch.tenant == tenant, FeatureSwitch.tenant == all_tenants))
    return list(s.scalars(q))


# --- management-system register -------------------------------------------------------------------
def policy_exists(s: Session, tenant: str, kind: str, version: str) -> bool:
    return _version_exists(s, PolicyDocument, tenant, kind, version)


def add_policy(s: Session, **fields: Any) -> PolicyDocument:
    """Insert a policy document version; a concurrent writer of the same version is a ConflictError."""
    doc = PolicyDocument(**fields)
    if not insert_unique(s, doc):  # a concurrent writer registered the same version
        raise ConflictError("{kind} version {version!r} is already registered",
                            values={"kind": fields["kind"], "version": fields["version"]})
    return doc


def policies(s: Session, tenant: str | None) -> list[PolicyDocument]:
    """Every version, by kind and then oldest first (so the last of each kind is its current version)."""
    q = select(PolicyDocument).order_by(PolicyDocument.kind, PolicyDocument.created_at, PolicyDocument.id)
    return list(s.scalars(_tenant(q, PolicyDocument.tenant, tenant)))


# --- prompt screen ------------------------------------------------------------------------------
def add_library_change(s: Session, **fields: Any) -> ScreenLibraryChange:
    return _inserted(s, ScreenLibraryChange(**fields))


def library_version(s: Session, tenant: str | None) -> int:
    """The id of the newest change of the tenant's feature library (of any tenant's with ``None``), or 0."""
    return int(s.scalar(_tenant(select(func.max(ScreenLibraryChange.id)), ScreenLibraryChange.tenant, tenant)) or 0)


def library_changes(s: Session, tenant: str, *, up_to: int | None = None) -> list[ScreenLibraryChange]:
    q = select(ScreenLibraryChange).where(ScreenLibraryChange.tenant == tenant)
    if up_to is not None:
        q = q.where(ScreenLibraryChange.id <= up_to)
    return list(s.scalars(q.order_by(ScreenLibraryChange.id)))


def library_tenants(s: Session) -> list[str]:
    return list(s.scalars(select(ScreenLibraryChange.tenant).distinct()))


def add_decision(s: Session, **fields: Any) -> ScreenDecision:
    return _inserted(s, ScreenDecision(**fields))


def decisions(s: Session, tenant: str | None, limit: int) -> list[ScreenDecision]:
    q = select(ScreenDecision).order_by(ScreenDecision.id.desc()).limit(limit)
    return list(s.scalars(_tenant(q, ScreenDecision.tenant, tenant)))


def decision_count(s: Session, stage: str, since: datetime, until: datetime, tenant: str | None) -> int:
    return s.scalar(_tenant(select(func.count()).where(
        ScreenDecision.stage == stage, ScreenDecision.at >= since, ScreenDecision.at <= until),
        ScreenDecision.tenant, tenant)) or 0


def screened(s: Session, stage: str, *, hashes: Sequence[str], content_ids: Sequence[str]
             ) -> tuple[set[str], set[str | None]]:
    """Of the given output hashes and content ids, those a decision of ``stage`` was recorded for."""
    by_hash = set(s.scalars(select(ScreenDecision.subject_sha256).where(
        ScreenDecision.stage == stage, ScreenDecision.subject_sha256.in_(list(hashes) or [""]))))
    by_id = set(s.scalars(select(ScreenDecision.content_id).where(
        ScreenDecision.stage == stage, ScreenDecision.content_id.in_(list(content_ids) or [""]))))
    return by_hash, by_id


# --- terms --------------------------------------------------------------------------------------
def terms_exists(s: Session, tenant: str, kind: str, version: str) -> bool:
    return _version_exists(s, TermsVersion, tenant, kind, version)


def add_terms(s: Session, **fields: Any) -> TermsVersion:
    return _inserted(s, TermsVersion(**fields))


def terms_version(s: Session, tenant: str, kind: str, version: str | None = None) -> TermsVersion | None:
    """The given version, or the newest one published."""
    q = select(TermsVersion).where(TermsVersion.tenant == tenant, TermsVersion.kind == kind)
    q = (q.where(TermsVersion.version == version) if version is not None
         else q.order_by(TermsVersion.published_at.desc(), TermsVersion.id.desc()).limit(1))
    return s.scalars(q).first()


def terms_versions(s: Session, tenant: str | None) -> list[TermsVersion]:
    """Every version, oldest first."""
    q = _tenant(select(TermsVersion), TermsVersion.tenant, tenant)
    return list(s.scalars(q.order_by(TermsVersion.published_at, TermsVersion.id)))


def acceptance(s: Session, user_key: str | None, terms_id: int) -> TermsAcceptance | None:
    return s.scalars(select(TermsAcceptance).where(TermsAcceptance.user_id == user_key,
                                                   TermsAcceptance.terms_id == terms_id)).first()


def add_acceptance(s: Session, **fields: Any) -> TermsAcceptance:
    return _inserted(s, TermsAcceptance(**fields))


def acceptances(s: Session) -> dict[tuple[str, int], datetime]:
    """(user key, terms id) -> when it was accepted, for every acceptance."""
    return {(a.user_id, a.terms_id): a.accepted_at for a in s.scalars(select(TermsAcceptance))}


def user_key(s: Session, tenant: str, name: str) -> str | None:
    """The ``users.id`` of the tenant's user ``name``, or ``None``."""
    return s.scalar(select(User.id).where(User.tenant == tenant, User.name == name))


# --- training-data register -----------------------------------------------------------------------
def dataset(s: Session, tenant: str, name: str) -> TrainingDataset | None:
    return s.scalars(select(TrainingDataset).where(TrainingDataset.tenant == tenant,
                                                   TrainingDataset.name == name)).first()


def add_dataset(s: Session, **fields: Any) -> TrainingDataset:
    return _inserted(s, TrainingDataset(**fields))


def is_linked(s: Session, tenant: str, model: str, dataset_id: int) -> bool:
    return s.scalar(select(ModelDataset.id).where(ModelDataset.tenant == tenant, ModelDataset.model == model,
                                                  ModelDataset.dataset_id == dataset_id)) is not None


def link(s: Session, **fields: Any) -> None:
    s.add(ModelDataset(**fields))


def datasets(s: Session, tenant: str | None) -> list[TrainingDataset]:
    return list(s.scalars(_tenant(select(TrainingDataset).order_by(TrainingDataset.name), TrainingDataset.tenant,
                                  tenant)))


def dataset_count(s: Session, tenant: str | None) -> int:
    return s.scalar(_tenant(select(func.count()).select_from(TrainingDataset), TrainingDataset.tenant, tenant)) or 0


def lineage(s: Session, model: str, tenant: str | None) -> list[TrainingDataset]:
    q = (select(TrainingDataset).join(ModelDataset, ModelDataset.dataset_id == TrainingDataset.id)
         .where(ModelDataset.model == model).order_by(TrainingDataset.name))
    return list(s.scalars(_tenant(q, ModelDataset.tenant, tenant)))


def lineage_links(s: Session, tenant: str | None) -> list[Any]:
    """``(model, TrainingDataset)`` for every link."""
    q = select(ModelDataset.model, TrainingDataset).join(TrainingDataset,
                                                         ModelDataset.dataset_id == TrainingDataset.id)
    return list(s.execute(_tenant(q, ModelDataset.tenant, tenant)))


def table_names_of(s: Session) -> set[str]:
    """The tables of the database the session is bound to (what the moderation adapter may read)."""
    return set(inspect(s.connection()).get_table_names())


def set_switch(s: Session, tenant: str, feature: str, **fields: Any) -> FeatureSwitch:
    """The switch row (added when it does not exist yet) with ``fields`` set, flushed."""
    row = switch(s, tenant, feature)
    for name, value in fields.items():
        setattr(row, name, value)
    s.flush()
    return row


class ComplianceRepository:
    """The compliance queries (this module's functions) bound to one unit of work's session: ``uow.compliance``.

    Besides the compliance tables it reads what the audit measures (records, identity verifications, ledger
    entries and checkpoints, moderation cases); see :class:`synthguard.store.protocols.ComplianceRepo`."""

    def __init__(self, session: Session):
        self._s = session

    # generation records of an audit period
    def period_content_ids(self, since: datetime, until: datetime, tenant: str | None) -> list[str]:
        return period_content_ids(self._s, since, until, tenant)

    def records(self, content_ids: Iterable[str]) -> list[Record]:
        return records(self._s, content_ids)

    def period_count(self, since: datetime, until: datetime, tenant: str | None) -> int:
        return period_count(self._s, since, until, tenant)

    def period_unverified(self, since: datetime, until: datetime, tenant: str | None) -> list[str]:
        return period_unverified(self._s, since, until, tenant)

    def period_distinct(self, column: str, since: datetime, until: datetime, tenant: str | None) -> list[Any]:
        return period_distinct(self._s, column, since, until, tenant)

    def period_rows(self, since: datetime, until: datetime, tenant: str | None, columns: Sequence[str], *,
                    techniques: Sequence[str] | None = None) -> list[Any]:
        return period_rows(self._s, since, until, tenant, columns, techniques=techniques)

    # ledger, checkpoints, moderation, the schema
    def ledger_entries(self, indexes: Iterable[int]) -> list[Any]:
        return ledger_entries(self._s, indexes)

    def ledger_data(self, kind: str, *, since: datetime | None = None) -> list[str]:
        return ledger_data(self._s, kind, since=since)

    def latest_checkpoint(self) -> Any:
        return latest_checkpoint(self._s)

    def moderation_period(self, since: datetime, until: datetime, tenant: str | None, sources: Sequence[str]
                          ) -> tuple[list[ModCase], set[int], list[str | None]]:
        return moderation_period(self._s, since, until, tenant, sources)

    def table_names(self) -> set[str]:
        return table_names_of(self._s)

    # emergency switches (DS-05)
    def set_switch(self, tenant: str, feature: str, **fields: Any) -> FeatureSwitch:
        return set_switch(self._s, tenant, feature, **fields)

    def switches(self, tenants: Sequence[str] | None = None) -> list[FeatureSwitch]:
        return switches(self._s, tenants)

    def switched_off(self, features: Sequence[str], tenant: str, all_tenants: str) -> list[FeatureSwitch]:
        return switched_off(self._s, features, tenant, all_tenants)

    # management-system register (DS Art. 7)
    def policy_exists(self, tenant: str, kind: str, version: str) -> bool:
        return policy_exists(self._s, tenant, kind, version)

    def add_policy(self, **fields: Any) -> PolicyDocument:
        return add_policy(self._s, **fields)

    def policies(self, tenant: str | None) -> list[PolicyDocument]:
        return policies(self._s, tenant)

    # prompt screen (DS-08/09)
    def add_library_change(self, **fields: Any) -> ScreenLibraryChange:
        return add_library_change(self._s, **fields)

    def library_version(self, tenant: str | None) -> int:
        return library_version(self._s, tenant)

    def library_changes(self, tenant: str, *, up_to: int | None = None) -> list[ScreenLibraryChange]:
        return library_changes(self._s, tenant, up_to=up_to)

    def library_tenants(self) -> list[str]:
        return library_tenants(self._s)

    def add_decision(self, **fields: Any) -> ScreenDecision:
        return add_decision(self._s, **fields)

    def decisions(self, tenant: str | None, limit: int) -> list[ScreenDecision]:
        return decisions(self._s, tenant, limit)

    def decision_count(self, stage: str, since: datetime, until: datetime, tenant: str | None) -> int:
        return decision_count(self._s, stage, since, until, tenant)

    def screened(self, stage: str, *, hashes: Sequence[str], content_ids: Sequence[str]
                 ) -> tuple[set[str], set[str | None]]:
        return screened(self._s, stage, hashes=hashes, content_ids=content_ids)

    # terms (DS-06)
    def terms_exists(self, tenant: str, kind: str, version: str) -> bool:
        return terms_exists(self._s, tenant, kind, version)

    def add_terms(self, **fields: Any) -> TermsVersion:
        return add_terms(self._s, **fields)

    def terms_version(self, tenant: str, kind: str, version: str | None = None) -> TermsVersion | None:
        return terms_version(self._s, tenant, kind, version)

    def terms_versions(self, tenant: str | None) -> list[TermsVersion]:
        return terms_versions(self._s, tenant)

    def acceptance(self, user_key: str | None, terms_id: int) -> TermsAcceptance | None:
        return acceptance(self._s, user_key, terms_id)

    def add_acceptance(self, **fields: Any) -> TermsAcceptance:
        return add_acceptance(self._s, **fields)

    def acceptances(self) -> dict[tuple[str, int], datetime]:
        return acceptances(self._s)

    def user_key(self, tenant: str, name: str) -> str | None:
        return user_key(self._s, tenant, name)

    # training-data register (DS-14)
    def dataset(self, tenant: str, name: str) -> TrainingDataset | None:
        return dataset(self._s, tenant, name)

    def add_dataset(self, **fields: Any) -> TrainingDataset:
        return add_dataset(self._s, **fields)

    def is_linked(self, tenant: str, model: str, dataset_id: int) -> bool:
        return is_linked(self._s, tenant, model, dataset_id)

    def link(self, **fields: Any) -> None:
        link(self._s, **fields)

    def datasets(self, tenant: str | None) -> list[TrainingDataset]:
        return datasets(self._s, tenant)

    def dataset_count(self, tenant: str | None) -> int:
        return dataset_count(self._s, tenant)

    def lineage(self, model: str, tenant: str | None) -> list[TrainingDataset]:
        return lineage(self._s, model, tenant)

    def lineage_links(self, tenant: str | None) -> list[Any]:
        return lineage_links(self._s, tenant)
