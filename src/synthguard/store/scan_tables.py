"""Tables for scans under repeat traffic (issue 28): the verdict cache and the uploads waiting on a deep scan.

``scan_cache`` keeps the content-only half of a scan (marks, detectors, fingerprints: ``scan.Analysis``) under
a key made of the content hash, the watermark search, the settings and the versions of keys and detectors, so
every process serving uploads shares it.  ``deep_scan_uploads`` attaches each upload that needs the deferred
full watermark search to the one deep-scan job of its content; the job delivers its result to every row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from synthguard.errors import StoreError
from synthguard.store.base import Base, UTCDateTime, utcnow
from synthguard.store.job_tables import Job

if TYPE_CHECKING:  # annotations only: schema imports this module, and db imports the schema's repositories
    from synthguard.store.db import Database


class ScanCacheEntry(Base):
    """One cached analysis of one content under one scan configuration."""

    __tablename__ = "scan_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    search: Mapped[str] = mapped_column(String(8))
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class DeepScanUpload(Base):
    """An upload waiting on (or served by) the deep-scan job of its content; ``result`` is its own verdict."""

    __tablename__ = "deep_scan_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default")
    name: Mapped[str] = mapped_column(String(128))  # the client's file name
    declared_ai: Mapped[bool] = mapped_column(Boolean, default=False)
    content_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)  # moderation content, if any
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


# Prebuilt statements of the repeat path (issue 28): a cached repeat reads or attaches with no query building.
_CACHED = select(ScanCacheEntry.analysis).where(ScanCacheEntry.key == bindparam("key"))
_ATTACH = insert(DeepScanUpload).returning(DeepScanUpload.id)
_JOB_STATE = select(Job.state).where(Job.id == bindparam("job_id")).with_for_update(read=True)


# --- the verdict cache ---------------------------------------------------------------------------
def cached(db: Database, key: str) -> dict[str, Any] | None:
    with db.reading() as conn:  # on repeats whose deep scan is pending: the light connection
        return conn.scalar(_CACHED, {"key": key})


def cache_put(db: Database, key: str, sha256: str, search: str, analysis: dict[str, Any]) -> None:
    """Insert once; a concurrent insert of the same key by another process is the same value, so it wins."""
    try:
        with db.session() as s:
            cache_add(s, key, sha256, search, analysis)
    except StoreError as exc:
        if not is_duplicate(exc):
            raise


def cache_add(s: Session, key: str, sha256: str, search: str, analysis: dict[str, Any]) -> None:
    """:func:`cache_put` inside the caller's transaction: the insert is checked at its commit (a duplicate key is
    a StoreError that :func:`is_duplicate` recognises)."""
    s.add(ScanCacheEntry(key=key, sha256=sha256, search=search, analysis=analysis, created_at=utcnow()))


def is_duplicate(exc: BaseException) -> bool:
    """Whether a StoreError was caused by a unique key: another process stored the same analysis first."""
    return isinstance(exc.__cause__, IntegrityError)


def cache_prune(db: Database, older_than: timedelta) -> int:
    with db.session() as s:
        return cache_prune_in(s, older_than)


def cache_prune_in(s: Session, older_than: timedelta) -> int:
    """Delete the entries older than ``older_than`` in the caller's transaction; returns how many."""
    q = delete(ScanCacheEntry).where(ScanCacheEntry.created_at < utcnow() - older_than)
    return int(s.execute(q).rowcount or 0)  # type: ignore[attr-defined]


def cache_forget(db: Database, sha256: str | None = None) -> int:
    """Drop the cached analyses of one content (or all): after a detector bug fix, for instance."""
    with db.session() as s:
        return cache_forget_in(s, sha256)


def cache_forget_in(s: Session, sha256: str | None = None) -> int:
    """:func:`cache_forget` in the caller's transaction."""
    q = delete(ScanCacheEntry)
    if sha256 is not None:
        q = q.where(ScanCacheEntry.sha256 == sha256)
    return int(s.execute(q).rowcount or 0)  # type: ignore[attr-defined]


# --- uploads attached to a deep scan --------------------------------------------------------------
def attach(db: Database, job_id: str, *, tenant: str, name: str, declared_ai: bool,
           content_ref: str | None = None, callback_url: str | None = None) -> tuple[int, str | None]:
    """Attach an upload to a deep-scan job: ``(upload id, the job's state)`` in one transaction (None: no such job).

    The state is read after the insert under a share lock on the job row (SQLite: the write lock), so a job
    finishing meanwhile either committed first (the state says done: the caller delivers) or delivers after
    this commit and sees the upload: never neither."""
    with db.session() as s:
        return attach_in(s, job_id, tenant=tenant, name=name, declared_ai=declared_ai, content_ref=content_ref,
                         callback_url=callback_url)


def attach_in(s: Session, job_id: str, *, tenant: str, name: str, declared_ai: bool,
              content_ref: str | None = None, callback_url: str | None = None) -> tuple[int, str | None]:
    """:func:`attach` inside the caller's transaction (with the upload's scan entry: one write, one commit)."""
    conn = s.connection()  # Core statements, built once: a repeat's one write (no ORM unit of work)
    upload_id = conn.execute(_ATTACH, {"job_id": job_id, "tenant": tenant, "name": name[-128:],
                                       "declared_ai": declared_ai, "content_ref": content_ref,
                                       "callback_url": callback_url, "created_at": utcnow()}).scalar_one()
    return int(upload_id), conn.scalar(_JOB_STATE, {"job_id": job_id})


def undelivered(s: Session, job_id: str, upload_id: int | None = None) -> list[DeepScanUpload]:
    """The job's uploads not delivered yet (only ``upload_id``, when given), oldest first, detached from ``s``."""
    q = select(DeepScanUpload).where(DeepScanUpload.job_id == job_id, DeepScanUpload.delivered_at.is_(None))
    if upload_id is not None:
        q = q.where(DeepScanUpload.id == upload_id)
    rows = list(s.scalars(q.order_by(DeepScanUpload.id)))
    for row in rows:
        s.expunge(row)
    return rows


def stranded(s: Session, *, limit: int = 100) -> list[tuple[str, str]]:
    """(job id, blob) of finished deep-scan jobs that still have undelivered uploads."""
    rows = s.execute(select(Job.id, Job.payload).where(
        Job.state == "done", Job.id.in_(select(DeepScanUpload.job_id).where(DeepScanUpload.delivered_at.is_(None))
                                        .distinct())).limit(limit)).all()
    return [(r[0], str(r[1]["blob"])) for r in rows if isinstance(r[1], dict) and r[1].get("blob")]


def mark_delivered(s: Any, upload_id: int, result: dict[str, Any], ledger_index: int | None) -> bool:
    """Claim the delivery inside the caller's transaction; False when another process delivered it first."""
    n = s.execute(update(DeepScanUpload).where(DeepScanUpload.id == upload_id, DeepScanUpload.delivered_at.is_(None))
                  .values(delivered_at=utcnow(), result=result, ledger_index=ledger_index)
                  .execution_options(synchronize_session=False)).rowcount
    return bool(n == 1)


def uploads_of(s: Session, job_id: str) -> list[dict[str, Any]]:
    def iso(t: datetime | None) -> str | None:
        return t.isoformat() if t else None

    return [{"id": u.id, "name": u.name, "declared_ai": u.declared_ai, "content_ref": u.content_ref,
             "created_at": iso(u.created_at), "delivered_at": iso(u.delivered_at), "result": u.result,
             "ledger_index": u.ledger_index}
            for u in s.scalars(select(DeepScanUpload).where(DeepScanUpload.job_id == job_id)
                               .order_by(DeepScanUpload.id))]


__all__ = ["DeepScanUpload", "ScanCacheEntry", "attach", "attach_in", "cache_add", "cache_forget", "cache_forget_in",
           "cache_prune", "cache_prune_in", "cache_put", "cached", "is_duplicate", "mark_delivered", "stranded",
           "undelivered", "uploads_of"]
