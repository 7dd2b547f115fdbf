"""Time as text, the one way every domain writes it (issue 23: was copied into compliance, consent and moderation)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, timezone-aware UTC (every stored time)."""
    return datetime.now(UTC)


def iso(t: datetime | None, *, utc: bool = False) -> str | None:
    """ISO 8601 text of ``t`` (None stays None); ``utc`` converts to UTC first (``+00:00``)."""
    if t is None:
        return None
    return (t.astimezone(UTC) if utc else t).isoformat()


__all__ = ["iso", "utcnow"]
