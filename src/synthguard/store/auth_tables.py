"""API tokens for the HTTP service: only the SHA-256 of each secret is stored (never the secret)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from synthguard.store.base import Base, UTCDateTime, utcnow


class ApiToken(Base):
    """A bearer token bound to one role and one tenant; revoked tokens stay for the audit trail."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RateBucket(Base):
    """One API token's request bucket, shared by every server process and host (``rate_limit_shared``)."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)  # seconds since the epoch of the last charge
    allowed: Mapped[int] = mapped_column(Integer, default=1)  # the last charge's answer (1 = served)


class WebSession(Base):
    """A browser session of the web pages (console, consent), opened by signing in with an API token once.

    Only the SHA-256 of the session id is stored (the id itself lives in the browser's HttpOnly cookie), so a copy
    of the database cannot be replayed as a cookie.  A session ends at ``expires_at``, after ``idle`` without use,
    at sign-out (``ended_at``) or when its token is revoked (checked on every request)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the cookie's session id
    token_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    client: Mapped[str] = mapped_column(String(64), default="")  # the address that signed in (audit)
