"""Declarative base shared by every table module (so Alembic sees one metadata)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import DateTime, Dialect, MetaData, select
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



RowT = TypeVar("RowT", bound=Base)


# Queries on a table whose rows each tenant names (accounts, likeness subjects): columns ``name`` (unique in its
# ``tenant``), ``tenant`` and ``created_at``.
def named_rows(s: Session, table: type[RowT], name: str, tenant: str | None, *, limit: int) -> list[RowT]:
    """Rows named ``name`` (in ``tenant``, or in any tenant with ``None``), by tenant, at most ``limit``."""
    c = table.__table__.c
    q = select(table).where(c["name"] == name)
    if tenant is not None:
        q = q.where(c["tenant"] == tenant)
    return list(s.scalars(q.order_by(c["tenant"]).limit(limit)))


def tenants_naming(s: Session, table: type[Base], name: str) -> list[str]:
    """The tenants that have a row named ``name``, sorted."""
    c = table.__table__.c
    return list(s.scalars(select(c["tenant"]).where(c["name"] == name).order_by(c["tenant"])))


def tenant_rows(s: Session, table: type[RowT], tenant: str | None) -> list[RowT]:
    """Every row (of ``tenant`` when given), oldest first."""
    c = table.__table__.c
    q = select(table).order_by(c["created_at"])
    if tenant is not None:
        q = q.where(c["tenant"] == tenant)
    return list(s.scalars(q))


__all__ = ["NAMING", "Base", "RowT", "SQLAlchemyError", "UTCDateTime", "insert_unique", "named_rows",
           "tenant_rows", "tenants_naming", "utcnow"]
