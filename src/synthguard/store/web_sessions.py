"""Server-side web sessions (issue 22): open at sign-in, look up per request, end at sign-out.

The browser holds a random session id (256 bits) in an HttpOnly cookie; the database holds its SHA-256, the
token it was opened with, an absolute expiry and the last use.  A lookup succeeds only while the session is not
ended, not expired, not idle for longer than ``idle``, and its API token is not revoked, so revoking a token
(``synthguard tokens revoke``) signs its browsers out at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from synthguard.store.auth_tables import ApiToken, WebSession
from synthguard.store.base import utcnow
from synthguard.store.db import Database

__all__ = ["SessionRow", "end", "lookup", "open_session", "purge"]

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute per session


@dataclass(frozen=True)
class SessionRow:
    """A live session with the token behind it."""

    id: int
    token_id: int
    role: str
    tenant: str
    name: str
    expires_at: datetime


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def open_session(db: Database, token_id: int, *, lifetime: timedelta, client: str = "") -> str:
    """A new session for the token; returns the session id (shown to the browser only)."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.add(WebSession(sid_hash=_hash(sid), token_id=token_id, created_at=now, last_seen_at=now,
                         expires_at=now + lifetime, client=client[:64]))
    return sid


def lookup(db: Database, sid: str | None, *, idle: timedelta) -> SessionRow | None:
    """The live session for a cookie's id, or None (unknown, ended, expired, idle too long, token revoked)."""
    if not sid or len(sid) > 128:
        return None
    digest = _hash(sid)
    now = utcnow()
    with db.session() as s:
        row = s.execute(select(WebSession, ApiToken).join(ApiToken, ApiToken.id == WebSession.token_id)
                        .where(WebSession.sid_hash == digest)).first()
        if row is None:
            return None
        sess, token = row
        if (not hmac.compare_digest(sess.sid_hash, digest) or sess.ended_at is not None or sess.expires_at <= now
                or sess.last_seen_at + idle <= now or token.revoked_at is not None):
            return None
        if now - sess.last_seen_at >= TOUCH_EVERY:
            sess.last_seen_at = now
        return SessionRow(sess.id, token.id, token.role, token.tenant, token.name, sess.expires_at)


def end(db: Database, sid: str | None) -> bool:
    """End the session (sign-out); True when a live one was ended.  The row stays until :func:`purge`."""
    if not sid or len(sid) > 128:
        return False
    with db.session() as s:
        res = s.execute(update(WebSession).where(WebSession.sid_hash == _hash(sid), WebSession.ended_at.is_(None))
                        .values(ended_at=utcnow()))
        return bool(res.rowcount)  # type: ignore[attr-defined]


def purge(db: Database, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete sessions that expired or ended more than ``older_than`` ago."""
    cutoff = utcnow() - older_than
    with db.session() as s:
        res = s.execute(delete(WebSession).where((WebSession.expires_at < cutoff) | (WebSession.ended_at < cutoff)))
        return int(res.rowcount)  # type: ignore[attr-defined]
