"""Tables of the provider compliance module (issue 11): emergency switches, the management-system register,
the prompt-screen feature library and its decisions, service terms and their acceptance, the training-data register.

Nothing here holds raw personal data: users appear by the provider's pseudonymous account id (as in ``records``),
prompts only as SHA-256.  ``screen_library_changes`` is append-only (migration 0004 adds UPDATE/DELETE triggers on
SQLite and Postgres), so the feature library's history (DS-09: who, when, why) cannot be rewritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from synthguard.store.base import Base, UTCDateTime, utcnow


class FeatureSwitch(Base):
    """An emergency switch (DS-05, DS-24): a feature such as ``label.audio`` or ``voice_clone`` turned off now.

    ``tenant`` "*" applies to every tenant.  A missing row means "enabled"."""

    __tablename__ = "feature_switches"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    feature: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    ledger_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PolicyDocument(Base):
    """One version of a management-system document (DS-05 / DS Art. 7), or a security assessment (DS-17)."""

    __tablename__ = "compliance_policies"
    __table_args__ = (UniqueConstraint("tenant", "kind", "version", name="uq_compliance_policies_kind_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    kind: Mapped[str] = mapped_column(String(48), index=True)
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(128))
    review_due: Mapped[datetime] = mapped_column(UTCDateTime())
    evidence: Mapped[str] = mapped_column(Text, default="")  # link or path to the document
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # of the document text, if given
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    ledger_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ScreenLibraryChange(Base):
    """Append-only change log of the prompt-screen feature library (DS-09); its row id is the library version."""

    __tablename__ = "screen_library_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))  # add | remove
    list_name: Mapped[str] = mapped_column(String(64))  # category, e.g. impersonation, fraud, ncii
    kind: Mapped[str] = mapped_column(String(16))  # keyword | pattern
    value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    ledger_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ScreenDecision(Base):
    """One provider-side review decision (DS-08, DS-03): what was screened (by hash), the verdict and what decided."""

    __tablename__ = "screen_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    stage: Mapped[str] = mapped_column(String(16))  # prompt | reference | output
    subject_sha256: Mapped[str] = mapped_column(String(64), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # allow | block | review
    matched: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    library_version: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str] = mapped_column(String(64))
    content_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    ledger_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TermsVersion(Base):
    """A published version of the service agreement or the first-use notice (DS-06, LM-19)."""

    __tablename__ = "terms_versions"
    __table_args__ = (UniqueConstraint("tenant", "kind", "version", name="uq_terms_versions_kind_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    kind: Mapped[str] = mapped_column(String(32))  # service_agreement | first_use_notice
    version: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(128))


class TermsAcceptance(Base):
    """A user's click-through acceptance of one terms version (DS-06: user id, version, time)."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (UniqueConstraint("user_id", "terms_id", name="uq_terms_acceptances_user_terms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    terms_id: Mapped[int] = mapped_column(ForeignKey("terms_versions.id"), index=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ledger_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TrainingDataset(Base):
    """A training data set (DS-14, GAI-01): source, legal basis, personal-information flags, consent references."""

    __tablename__ = "training_datasets"
    __table_args__ = (UniqueConstraint("tenant", "name", name="uq_training_datasets_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    name: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contains_pi: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitive_pi: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    retention: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))


class ModelDataset(Base):
    """Lineage: model version ``model`` (as in ``records.model``) was trained on data set ``dataset_id`` (DS-14)."""

    __tablename__ = "model_datasets"
    __table_args__ = (UniqueConstraint("tenant", "model", "dataset_id", name="uq_model_datasets_link"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    model: Mapped[str] = mapped_column(String(128), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("training_datasets.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    linked_by: Mapped[str] = mapped_column(String(128))
