"""Tables for the likeness registry (DS-15, PI-06/07, PI-11, PI-13): subjects, biometric templates, grants.

Nothing biometric or personal is stored in the clear: embeddings, optional reference media, a grant's scope and
its consent evidence are vault tokens under the subject's own key (:class:`synthguard.ledger.SubjectVault`), so
erasing the subject destroys them all at once.  A grant's decision-relevant fields carry an HMAC (``mac``), so a
grant edited in the database (un-revoked, expiry moved) is detected by the gate instead of allowing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from synthguard.store.base import Base, UTCDateTime, utcnow


class ConsentSubject(Base):
    """A natural person whose likeness is registered: enrolled to grant consent, or protected (victim side)."""

    __tablename__ = "consent_subjects"
    __table_args__ = (Index("uq_consent_subjects_tenant_name", "tenant", "name", unique=True),)

    # the subject's key (synthguard.identity.scoped_key): its id in the default tenant, <tenant>/<id> in others;
    # ``name`` is the id the tenant chose, unique in the tenant (issue 18 finding 13)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    keep_media: Mapped[bool] = mapped_column(Boolean, default=False)  # opted in to keeping reference media
    signing_key: Mapped[str | None] = mapped_column(Text, nullable=True)  # Ed25519 public key (PEM) for statements
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    erasure_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ConsentTemplate(Base):
    """One biometric template (face or voice embedding), encrypted under the subject's vault key."""

    __tablename__ = "consent_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("consent_subjects.id"), index=True)
    modality: Mapped[str] = mapped_column(String(8))  # face | voice
    model: Mapped[str] = mapped_column(String(64))
    model_sha256: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)  # vault token of the float32 embedding
    media_token: Mapped[str | None] = mapped_column(Text, nullable=True)  # reference media, only when opted in
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentGrant(Base):
    """A subject's separate consent (DS-15, PI-07) for one grantee and purpose; revocable at any time (PI-03)."""

    __tablename__ = "consent_grants"
    __table_args__ = (Index("ix_consent_grants_lookup", "subject_id", "grantee", "purpose"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("consent_subjects.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    grantee: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(64))
    modalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_token: Mapped[str | None] = mapped_column(Text, nullable=True)  # vault token of the free-text scope
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence_kind: Mapped[str] = mapped_column(String(16))  # statement | spoken
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    evidence_token: Mapped[str | None] = mapped_column(Text, nullable=True)  # vault token of the evidence file
    evidence_check: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mac: Mapped[str] = mapped_column(String(64))
    ledger_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ConsentChallenge(Base):
    """A random phrase the subject speaks for spoken consent evidence; single use, short-lived."""

    __tablename__ = "consent_challenges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("consent_subjects.id"), index=True)
    grantee: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(64))
    phrase: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
