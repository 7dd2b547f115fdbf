"""Declarative base shared by every table module (so Alembic sees one metadata)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.exc import (  # re-exported (``__all__``): code outside store/ catches it from here
    IntegrityError,
    SQLAlchemyError,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from synthguard.times import utcnow  # re-exported (``__all__``): the tables and the domain code use it from here

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)





def insert_unique(s: Session, row: Base) -> bool:
    """Add and flush ``row`` now; False when a unique constraint says another process inserted it first (the
    caller's transaction must then roll back: raise, or let it end)."""
    s.add(row)
    try:
        s.flush()
    except IntegrityError:
        return False
    return True

__all__ = ["NAMING", "Base", "SQLAlchemyError", "UTCDateTime", "insert_unique", "utcnow"]
