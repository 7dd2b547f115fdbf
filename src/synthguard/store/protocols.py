"""The storage seam's contracts (issue 23): what a service may ask of a unit of work, as ``Protocol`` types.

A typed service takes ``units: Units`` (a factory of units of work) and never a database or a session, so a test
can hand it any store that satisfies these protocols, and SQLAlchemy stays in ``store/``.  One protocol per
aggregate; :class:`synthguard.store.unit_of_work.UnitOfWork` is the SQLAlchemy implementation, and
tests/test_store_protocols.py checks that it satisfies every protocol here.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from synthguard.store.schema import IdentityVerification, Record, User


@runtime_checkable
class UsersRepo(Protocol):
    """The accounts and their identity verifications (DS-07)."""

    def key_of(self, tenant: str, name: str) -> str | None: ...
    def get(self, key: str) -> User | None: ...
    def named(self, name: str, tenant: str | None, *, limit: int) -> list[User]: ...
    def tenants_of(self, name: str) -> list[str]: ...
    def all(self, tenant: str | None) -> list[User]: ...
    def add(self, row: User) -> bool: ...
    def add_verification(self, row: IdentityVerification) -> None: ...


@runtime_checkable
class RecordsRepo(Protocol):
    """The generation records and their fingerprints (DS-18)."""

    def add(self, rec: Record) -> None: ...
    def get(self, content_id: Any) -> Record | None: ...
    def by_watermark(self, payload: Any) -> Record | None: ...


class Unit(Protocol):
    """One transaction and the repositories over it: all of it commits together or not at all.

    ``session`` is the transaction itself, for the domain objects that still write through one (the ledger's
    append, the subject vault); a service hands it on and never queries it."""

    session: Any
    users: UsersRepo
    records: RecordsRepo


Units = Callable[[], AbstractContextManager[Any]]
"""A factory of units of work (``Database.unit_of_work``): ``with units() as uow: ...``."""

__all__ = ["RecordsRepo", "Unit", "Units", "UsersRepo"]
