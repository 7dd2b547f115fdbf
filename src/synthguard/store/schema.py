"""Tables for users, identity verification, generation records and fingerprints.

Every table lives under :mod:`synthguard.store` on the same ``Base`` (the ledger's in ``ledger_tables``); importing
this module imports them all, so ``Base.metadata`` is the whole schema (Alembic's target).
Personal data never lands here in the clear: identifiers are stored as salted HMACs (DS-07, PI-*).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

import synthguard.store.auth_tables  # noqa: F401  (registers the API token table on Base.metadata)
import synthguard.store.bank_tables  # noqa: F401  (registers the hash bank tables on Base.metadata)
import synthguard.store.compliance_tables  # noqa: F401  (registers the compliance tables on Base.metadata)
import synthguard.store.consent_tables  # noqa: F401  (registers the likeness registry tables on Base.metadata)
import synthguard.store.job_tables  # noqa: F401  (registers the job queue table on Base.metadata)
import synthguard.store.ledger_tables  # noqa: F401  (registers the ledger tables on Base.metadata)
import synthguard.store.moderation_tables  # noqa: F401  (registers the moderation tables on Base.metadata)
import synthguard.store.scan_tables  # noqa: F401  (registers the verdict cache and deep-scan uploads tables)
from synthguard.store.base import Base, UTCDateTime, utcnow


class User(Base):
    """A user of the provider's service, by the provider's own pseudonymous id (``name``), unique in its tenant.

    ``id`` is the account's key in the deployment (:func:`synthguard.identity.scoped_key`): the id itself in the
    default tenant and for accounts made before ids were per tenant, ``<tenant>/<id>`` otherwise (issue 18 finding
    13).  Records, verifications, terms acceptances, the vault and the ledger pseudonym use the key."""

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_tenant_name", "tenant", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verifications: Mapped[list[IdentityVerification]] = relationship(
        back_populates="user", order_by="IdentityVerification.verified_at", cascade="all, delete-orphan"
    )


class IdentityVerification(Base):
    """One real-identity check (DS-07): method, result, time, verifier, salted hash of the identifier."""

    __tablename__ = "identity_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(16))  # verified | failed
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verifier: Mapped[str] = mapped_column(String(64))
    identifier_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(128), nullable=True)
    user: Mapped[User] = relationship(back_populates="verifications")


class Record(Base):
    """One generated output (DS-18): who made it, with what, and the hashes that find it again."""

    __tablename__ = "records"

    content_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # GB 45438 ProduceID
    tenant: Mapped[str] = mapped_column(String(64), default="default", index=True)
    producer: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)  # the account's key (User.id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    modality: Mapped[str] = mapped_column(String(16))
    technique: Mapped[str | None] = mapped_column(String(32), nullable=True)  # DS-26
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    input_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    output_sha256: Mapped[str] = mapped_column(String(64), index=True)
    pixel_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    watermark_payload: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    marks: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # label layout etc. (DS-19)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    fingerprints: Mapped[list[Fingerprint]] = relationship(back_populates="record", cascade="all, delete-orphan")
    account: Mapped[User] = relationship()  # user_id is the account's key; its id is account.name


class Fingerprint(Base):
    """A hash of an output (sha256, pdq, ...) so a copy stripped of every mark still finds its record."""

    __tablename__ = "fingerprints"
    __table_args__ = (Index("ix_fingerprints_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[str] = mapped_column(ForeignKey("records.content_id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))  # the hash, or SHA-256 of a fingerprint longer than a key
    data: Mapped[str | None] = mapped_column(Text, nullable=True)  # the long fingerprint itself (audio, video)
    record: Mapped[Record] = relationship(back_populates="fingerprints")

    @classmethod
    def of(cls, kind: str, fingerprint: str) -> Fingerprint:
        """Short hashes are their own key; long perceptual fingerprints are keyed by their SHA-256."""
        if len(fingerprint) <= 128:
            return cls(kind=kind, value=fingerprint)
        return cls(kind=kind, value=hashlib.sha256(fingerprint.encode()).hexdigest(), data=fingerprint)
