"""Queries of the moderation service (DS-10..12, CC-10..12, US-02..04), so ``synthguard.moderation`` holds no SQL
(issue 23).

Plain functions over a ``Session``, and :class:`ModerationStore`, the same bound to one unit of work's session
(``uow.moderation``, the :class:`~synthguard.store.protocols.ModerationRepo` of the storage seam), so a case's
state change, its history row and its ledger entry commit together; they return ORM rows, counts or plain values
and leave the decisions (transitions, policy, copy distance) to ``moderation``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from synthguard.store.base import insert_unique
from synthguard.store.moderation_tables import ModAttempt, ModCase, ModContent, ModEvent, ModOutbox, ModRefutation

_URGENT = (ModCase.deadline_at.is_(None), ModCase.deadline_at, ModCase.priority.desc(), ModCase.id)


def add(s: Session, row: ModCase | ModContent | ModEvent | ModOutbox | ModRefutation | ModAttempt, *,
        flush: bool = False) -> None:
    """Add a row to the caller's transaction; ``flush`` when the caller needs its id now."""
    s.add(row)
    if flush:
        s.flush()


def _postgres(s: Session) -> bool:
    return s.bind is not None and s.bind.dialect.name == "postgresql"


# --- cases ---------------------------------------------------------------------------------------
def case_in_tenant(s: Session, tenant: str, *, ticket: str | None = None, case_id: int | None = None,
                   lock: bool = False) -> ModCase | None:
    """The tenant's case by ticket (or by row id); ``lock`` takes a row lock on Postgres (SQLite locks the file)."""
    q = select(ModCase).where(ModCase.tenant == tenant)
    q = q.where(ModCase.ticket == ticket) if ticket is not None else q.where(ModCase.id == case_id)
    if lock and _postgres(s):
        q = q.with_for_update()
    return s.scalar(q)


def case_by_ticket(s: Session, ticket: str) -> ModCase | None:
    """A case by its public ticket, in any tenant (the complainant's status page knows only ticket + secret)."""
    return s.scalar(select(ModCase).where(ModCase.ticket == ticket))


def move_case(s: Session, case_id: int, frm: str, to: str) -> int:
    """Set the case's state to ``to`` only if it is still ``frm`` (optimistic check); returns the rows moved (0, 1)."""
    res = s.execute(update(ModCase).where(ModCase.id == case_id, ModCase.state == frm).values(state=to)
                    .execution_options(synchronize_session=False))
    return int(res.rowcount)  # type: ignore[attr-defined]


def _claimable() -> Any:
    """Waiting for a reviewer: opened, or appealed without a running CC-11 restore timer."""
    return or_(ModCase.state == "opened", and_(ModCase.state == "appealed", ModCase.restore_at.is_(None)))


def next_claimable(s: Session, tenant: str, case_id: int | None = None) -> int | None:
    """The id of the most urgent claimable case (or of ``case_id`` if claimable).

    Postgres: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks a row no other transaction holds."""
    q = select(ModCase.id).where(ModCase.tenant == tenant, _claimable(), ModCase.claimed_by.is_(None))
    if case_id is not None:
        q = q.where(ModCase.id == case_id)
    q = q.order_by(*_URGENT)
    if _postgres(s):
        q = q.with_for_update(skip_locked=True)
    return s.scalar(q.limit(1))


def take_claim(s: Session, case_id: int, reviewer: str, at: datetime) -> int:
    """``UPDATE ... WHERE claimable``: 1 when this reviewer won the case, 0 when another got it first."""
    res = s.execute(update(ModCase).where(ModCase.id == case_id, _claimable(), ModCase.claimed_by.is_(None))
                    .values(claimed_by=reviewer, claimed_at=at))
    return int(res.rowcount)  # type: ignore[attr-defined]


def case_reloaded(s: Session, case_id: int) -> ModCase | None:
    """The case as the database has it now (after an UPDATE that bypassed the session)."""
    return s.get(ModCase, case_id, populate_existing=True)


def cases_in_states(s: Session, tenant: str, states: Sequence[str]) -> list[ModCase]:
    """The tenant's cases in ``states``, most urgent deadline first (no deadline last), then priority."""
    return list(s.scalars(select(ModCase).where(ModCase.tenant == tenant, ModCase.state.in_(states))
                          .order_by(*_URGENT)))


def open_cases(s: Session, states: Sequence[str], tenant: str | None) -> list[ModCase]:
    """Cases in ``states`` (of ``tenant``, or of every tenant with None), by id."""
    q = select(ModCase).where(ModCase.state.in_(states))
    if tenant is not None:
        q = q.where(ModCase.tenant == tenant)
    return list(s.scalars(q.order_by(ModCase.id)).all())


def cases_of_content(s: Session, content_id: int) -> list[ModCase]:
    return list(s.scalars(select(ModCase).where(ModCase.content_id == content_id).order_by(ModCase.id)))


def removal_cases(s: Session, content_ids: Sequence[int]) -> list[ModCase]:
    """The ``remove`` decisions on any of ``content_ids``."""
    return list(s.scalars(select(ModCase).where(ModCase.content_id.in_(content_ids), ModCase.action == "remove")))


def case_events(s: Session, case_id: int) -> list[ModEvent]:
    """The case's history, oldest first."""
    return list(s.scalars(select(ModEvent).where(ModEvent.case_id == case_id).order_by(ModEvent.id)))


def case_tenants(s: Session) -> list[str]:
    """Every tenant that has a case (unordered, distinct)."""
    return list(s.scalars(select(ModCase.tenant).distinct()))


def tickets(s: Session, case_ids: Iterable[int]) -> dict[int, str]:
    """{case id: ticket} of the given cases."""
    return {i: t for i, t in s.execute(select(ModCase.id, ModCase.ticket).where(ModCase.id.in_(list(case_ids))))}


def cases_opened_in(s: Session, tenant: str, start: datetime, end: datetime) -> list[Any]:
    """``(ModCase, ModContent or None)`` of the tenant's cases opened in [start, end), by id."""
    q = select(ModCase, ModContent).outerjoin(ModContent, ModContent.id == ModCase.content_id)
    return list(s.execute(q.where(ModCase.tenant == tenant, ModCase.opened_at >= start, ModCase.opened_at < end)
                          .order_by(ModCase.id)))


def cases_decided_in(s: Session, tenant: str, start: datetime, end: datetime) -> list[Any]:
    """``(ModCase, ModContent or None)`` of the tenant's cases actioned in [start, end), by time of action."""
    q = select(ModCase, ModContent).outerjoin(ModContent, ModContent.id == ModCase.content_id)
    return list(s.execute(q.where(ModCase.tenant == tenant, ModCase.actioned_at >= start, ModCase.actioned_at < end)
                          .order_by(ModCase.actioned_at)))


# --- content -------------------------------------------------------------------------------------
def content(s: Session, content_id: int) -> ModContent | None:
    """A content row by id (from the session's identity map when it is already loaded)."""
    return s.get(ModContent, content_id)


def content_by_ref(s: Session, tenant: str, ref: str) -> ModContent | None:
    return s.scalar(select(ModContent).where(ModContent.tenant == tenant, ModContent.ref == ref))


def content_ref_taken(s: Session, tenant: str, ref: str) -> bool:
    return s.scalar(select(ModContent.id).where(ModContent.tenant == tenant, ModContent.ref == ref)) is not None


def insert_content(s: Session, c: ModContent) -> bool:
    """Add and flush a new content row; False when the (tenant, ref) is taken (a concurrent registration won)."""
    return insert_unique(s, c)


def live_content_except(s: Session, tenant: str, content_id: int) -> list[ModContent]:
    """The tenant's visible or restricted items other than ``content_id`` (where copies are looked for)."""
    return list(s.scalars(select(ModContent).where(ModContent.tenant == tenant, ModContent.id != content_id,
                                                   ModContent.status.in_(("visible", "restricted")))))


def removed_content(s: Session, tenant: str | None = None) -> list[ModContent]:
    """Removed items (of ``tenant``, or of every tenant with None)."""
    where = [ModContent.status == "removed"] if tenant is None else \
        [ModContent.tenant == tenant, ModContent.status == "removed"]
    return list(s.scalars(select(ModContent).where(*where)))


def content_arrived_in(s: Session, tenant: str, start: datetime, end: datetime) -> list[ModContent]:
    """The tenant's uploads registered in [start, end), by id."""
    return list(s.scalars(select(ModContent).where(ModContent.tenant == tenant, ModContent.created_at >= start,
                                                   ModContent.created_at < end).order_by(ModContent.id)))


# --- refutations ---------------------------------------------------------------------------------
def refutation(s: Session, slug: str) -> ModRefutation | None:
    return s.scalar(select(ModRefutation).where(ModRefutation.slug == slug))


def refutations_in(s: Session, tenant: str, start: datetime, end: datetime) -> list[ModRefutation]:
    return list(s.scalars(select(ModRefutation).where(ModRefutation.tenant == tenant,
                                                      ModRefutation.created_at >= start,
                                                      ModRefutation.created_at < end)))


# --- outbox --------------------------------------------------------------------------------------
def outbox(s: Session, tenant: str, *, pending_only: bool = False) -> list[ModOutbox]:
    """The tenant's notifications, oldest first (only the unsent ones with ``pending_only``)."""
    q = select(ModOutbox).where(ModOutbox.tenant == tenant).order_by(ModOutbox.id)
    if pending_only:
        q = q.where(ModOutbox.sent_at.is_(None))
    return list(s.scalars(q))


def outbox_due(s: Session, max_attempts: int, limit: int) -> list[ModOutbox]:
    """Unsent notifications with fewer than ``max_attempts`` tries, oldest first, at most ``limit``."""
    return list(s.scalars(select(ModOutbox).where(ModOutbox.sent_at.is_(None), ModOutbox.attempts < max_attempts)
                          .order_by(ModOutbox.id).limit(limit)))


# --- failed ticket secrets (status page throttle) ------------------------------------------------
def forget_attempts_before(s: Session, at: datetime) -> None:
    s.execute(delete(ModAttempt).where(ModAttempt.at < at))


def attempts_since(s: Session, key: str, since: datetime) -> int:
    return s.scalar(select(func.count()).where(ModAttempt.key == key, ModAttempt.at >= since)) or 0


class ModerationStore:
    """The moderation rows (cases, content, history, refutations, outbox, secret attempts) in one unit of work: the
    functions above bound to its session, so the moderation service names no ``Session`` (issue 23)."""

    def __init__(self, session: Session):
        self._s = session

    def add(self, row: ModCase | ModContent | ModEvent | ModOutbox | ModRefutation | ModAttempt, *,
            flush: bool = False) -> None:
        add(self._s, row, flush=flush)

    def attempts_since(self, key: str, since: datetime) -> int:
        return attempts_since(self._s, key, since)

    def case_by_ticket(self, ticket: str) -> ModCase | None:
        return case_by_ticket(self._s, ticket)

    def case_events(self, case_id: int) -> list[ModEvent]:
        return case_events(self._s, case_id)

    def case_in_tenant(self, tenant: str, *, ticket: str | None = None, case_id: int | None = None,
                       lock: bool = False) -> ModCase | None:
        return case_in_tenant(self._s, tenant, ticket=ticket, case_id=case_id, lock=lock)

    def case_reloaded(self, case_id: int) -> ModCase | None:
        return case_reloaded(self._s, case_id)

    def case_tenants(self) -> list[str]:
        return case_tenants(self._s)

    def cases_decided_in(self, tenant: str, start: datetime, end: datetime) -> list[Any]:
        return cases_decided_in(self._s, tenant, start, end)

    def cases_in_states(self, tenant: str, states: Sequence[str]) -> list[ModCase]:
        return cases_in_states(self._s, tenant, states)

    def cases_of_content(self, content_id: int) -> list[ModCase]:
        return cases_of_content(self._s, content_id)

    def cases_opened_in(self, tenant: str, start: datetime, end: datetime) -> list[Any]:
        return cases_opened_in(self._s, tenant, start, end)

    def content(self, content_id: int) -> ModContent | None:
        return content(self._s, content_id)

    def content_arrived_in(self, tenant: str, start: datetime, end: datetime) -> list[ModContent]:
        return content_arrived_in(self._s, tenant, start, end)

    def content_by_ref(self, tenant: str, ref: str) -> ModContent | None:
        return content_by_ref(self._s, tenant, ref)

    def content_ref_taken(self, tenant: str, ref: str) -> bool:
        return content_ref_taken(self._s, tenant, ref)

    def forget_attempts_before(self, at: datetime) -> None:
        forget_attempts_before(self._s, at)

    def insert_content(self, c: ModContent) -> bool:
        return insert_content(self._s, c)

    def live_content_except(self, tenant: str, content_id: int) -> list[ModContent]:
        return live_content_except(self._s, tenant, content_id)

    def move_case(self, case_id: int, frm: str, to: str) -> int:
        return move_case(self._s, case_id, frm, to)

    def next_claimable(self, tenant: str, case_id: int | None = None) -> int | None:
        return next_claimable(self._s, tenant, case_id)

    def open_cases(self, states: Sequence[str], tenant: str | None) -> list[ModCase]:
        return open_cases(self._s, states, tenant)

    def outbox(self, tenant: str, *, pending_only: bool = False) -> list[ModOutbox]:
        return outbox(self._s, tenant, pending_only=pending_only)

    def outbox_due(self, max_attempts: int, limit: int) -> list[ModOutbox]:
        return outbox_due(self._s, max_attempts, limit)

    def refutation(self, slug: str) -> ModRefutation | None:
        return refutation(self._s, slug)

    def refutations_in(self, tenant: str, start: datetime, end: datetime) -> list[ModRefutation]:
        return refutations_in(self._s, tenant, start, end)

    def removal_cases(self, content_ids: Sequence[int]) -> list[ModCase]:
        return removal_cases(self._s, content_ids)

    def removed_content(self, tenant: str | None = None) -> list[ModContent]:
        return removed_content(self._s, tenant)

    def take_claim(self, case_id: int, reviewer: str, at: datetime) -> int:
        return take_claim(self._s, case_id, reviewer, at)

    def tickets(self, case_ids: Iterable[int]) -> dict[int, str]:
        return tickets(self._s, case_ids)


__all__ = ["ModerationStore", "Session", "add", "attempts_since", "case_by_ticket", "case_events", "case_in_tenant",
           "case_reloaded", "case_tenants", "cases_decided_in", "cases_in_states", "cases_of_content",
           "cases_opened_in", "content", "content_arrived_in", "content_by_ref", "content_ref_taken",
           "forget_attempts_before", "insert_content", "live_content_except", "move_case", "next_claimable",
           "open_cases", "outbox", "outbox_due", "refutation", "refutations_in", "removal_cases", "removed_content",
           "take_claim", "tickets"]
