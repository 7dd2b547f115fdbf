"""Console sign-out that sticks (issue 18 finding 11).

Console sessions are signed cookies; a signature cannot be taken back, so signing out records the session id as
ended and every request checks it.  The record lives in ``mod_attempts`` (the throttle table, which is purged
15 minutes after a row's time) with the session's expiry as its time, so it is kept exactly as long as the
cookie could still be presented.  No new table, no migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from synthguard.store.moderation_tables import ModAttempt

if TYPE_CHECKING:
    from synthguard.core import SynthGuard

__all__ = ["end", "ended"]


def _key(sid: str) -> str:
    return f"session-ended:{sid}"[:128]


def end(sg: SynthGuard, sid: str, expires: datetime) -> None:
    with sg.db.session() as s:
        s.add(ModAttempt(key=_key(sid), at=expires))


def ended(sg: SynthGuard, sid: str) -> bool:
    with sg.db.session() as s:
        return s.scalar(select(ModAttempt.id).where(ModAttempt.key == _key(sid)).limit(1)) is not None
