"""The shared request-rate buckets (``rate_buckets``, see server/ratelimit.py), charged by one atomic statement.

``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite and Postgres) refills and spends in the same
statement, so every process and host using the database shares the exact rate.  The refill uses the caller's
wall clock; a clock behind the row's refills nothing rather than draining it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

_AVAIL = ("(rate_buckets.tokens + CASE WHEN :now > rate_buckets.updated THEN :now - rate_buckets.updated ELSE 0 END"
          " * :rate)")
_CAPPED = f"(CASE WHEN {_AVAIL} > :burst THEN :burst ELSE {_AVAIL} END)"
_CHARGE = text(
    "INSERT INTO rate_buckets (key, tokens, updated, allowed) VALUES (:key, :burst - 1, :now, 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    f"tokens = CASE WHEN {_CAPPED} >= 1 THEN {_CAPPED} - 1 ELSE {_CAPPED} END, "
    f"allowed = CASE WHEN {_CAPPED} >= 1 THEN 1 ELSE 0 END, "
    "updated = CASE WHEN :now > rate_buckets.updated THEN :now ELSE rate_buckets.updated END "
    "RETURNING tokens, allowed")


def charge(engine: Any, key: str, *, now: float, rate: float, burst: float) -> tuple[float, bool]:
    """Spend one token of bucket ``key`` in its own transaction: ``(tokens left, whether one was spent)``."""
    with engine.begin() as conn:
        tokens, allowed = conn.execute(_CHARGE, {"key": key, "now": now, "rate": rate, "burst": burst}).one()
    return tokens, bool(allowed)


__all__ = ["charge"]
