"""Tables of the moderation service: platform content, cases and their history, outbox, refutations, rate limits.

Personal data never lands here in the clear: complainants' and uploaders' contact details live in the subject
vault (crypto-shredded on erasure) and rows keep only the vault payload id; uploaders appear as pseudonymous
``user_ref`` values.  ``mod_case_events`` is the case history (DS-10 "keep records"); migration 0006 makes it
append-only on SQLite and Postgres, and every event is also a ``moderation`` ledger entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from synthguard.store.base import Base, UTCDateTime, utcnow


class ModContent(Base):
    """An item hosted on the platform, registered at upload: fingerprints, status and the stored media."""

    __tablename__ = "mod_content"
    __table_args__ = (UniqueConstraint("tenant", "ref", name="uq_mod_content_tenant_ref"),
                      Index("ix_mod_content_tenant_sha", "tenant", "sha256"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    ref: Mapped[str] = mapped_column(String(128))  # the platform's own content id (shown in URLs)
    uploader_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # sg.user_ref(uploader)
    uploader_contact: Mapped[int | None] = mapped_column(Integer, nullable=True)  # vault payload id (email)
    sha256: Mapped[str] = mapped_column(String(64))
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pdq_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    media_file: Mapped[str] = mapped_column(String(80))  # "<sha256>.<ext>" under <home>/moderation/media
    mime: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16), default="none")
    status: Mapped[str] = mapped_column(String(16), default="visible")  # visible | restricted | removed | blocked
    notices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # labels, refutation notices
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the upload scan's evidence summary
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModCase(Base):
    """One case: source, category, policy rule, deadline, state, claim and outcome (DS-10, DS-12, US-04)."""

    __tablename__ = "mod_cases"
    __table_args__ = (Index("ix_mod_cases_queue", "tenant", "state", "deadline_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    ticket: Mapped[str] = mapped_column(String(32), unique=True)  # public ticket number
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)  # SHA-256 of the status secret
    source: Mapped[str] = mapped_column(String(24))  # scan | complaint | victim_notice | regulator
    kind: Mapped[str] = mapped_column(String(32))  # policy complaint type or scan rule id
    category: Mapped[str] = mapped_column(String(48))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    rule: Mapped[str] = mapped_column(String(64))  # policy rule id that set the deadline and actions
    content_id: Mapped[int | None] = mapped_column(ForeignKey("mod_content.id"), nullable=True, index=True)
    location: Mapped[str | None] = mapped_column(Text, nullable=True)  # URL or ref the notice names
    state: Mapped[str] = mapped_column(String(16), default="opened")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    valid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # US-02: clock start
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    escalations: Mapped[list[str]] = mapped_column(JSON, default=list)  # alert ids already fired
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    action: Mapped[str | None] = mapped_column(String(24), nullable=True)
    reason_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    actioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    report_decision: Mapped[str | None] = mapped_column(String(24), nullable=True)  # DS-10 report / no_report
    counter_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    restore_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # CC-11 timer
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    contact: Mapped[int | None] = mapped_column(Integer, nullable=True)  # vault payload id of the complainant
    automated: Mapped[bool] = mapped_column(default=False)  # DSA-05: opened by automated detection
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # non-personal facts


class ModEvent(Base):
    """Append-only case history: transitions, reveals, forwards, escalations (DS-10, DS-11)."""

    __tablename__ = "mod_case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ledger_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ModOutbox(Base):
    """Notifications waiting for the SMTP sender; the address is a vault payload id, never stored in clear."""

    __tablename__ = "mod_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("mod_cases.id"), nullable=True, index=True)
    recipient: Mapped[str] = mapped_column(String(24))  # complainant | uploader
    to_payload: Mapped[int | None] = mapped_column(Integer, nullable=True)
    template: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ModRefutation(Base):
    """A rumor-refutation notice (DS-11) with its public page; attached to content through ``notices``."""

    __tablename__ = "mod_refutations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModAttempt(Base):
    """Failed ticket-secret attempts per key (ticket or client), for the brute-force rate limit."""

    __tablename__ = "mod_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
