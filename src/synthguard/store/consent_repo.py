"""Queries of the likeness registry and the consent gate (DS-15), so ``synthguard.consent`` holds no SQL (issue 23).

Plain functions over a ``Session`` the caller opened (``with sg.db.session() as s:``), so what was one transaction
in the domain code stays one; they return ORM rows and leave decisions (grant status, matching) to ``consent``.
``Session`` is re-exported for the domain's type annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from synthguard.store.base import named_rows, tenant_rows, tenants_naming
from synthguard.store.consent_tables import ConsentChallenge, ConsentGrant, ConsentSubject, ConsentTemplate

if TYPE_CHECKING:  # annotations only: db imports the schema, which imports the tables
    from synthguard.store.db import Database


# --- subjects ------------------------------------------------------------------------------------
def subject(s: Session, key: str) -> ConsentSubject | None:
    """The subject by its key (``ConsentSubject.id``)."""
    return s.get(ConsentSubject, key)


def subject_in_tenant(s: Session, tenant: str, name: str) -> ConsentSubject | None:
    return s.scalars(select(ConsentSubject).where(ConsentSubject.tenant == tenant,
                                                  ConsentSubject.name == name)).first()


def subjects_named(s: Session, name: str, tenant: str | None, *, limit: int) -> list[ConsentSubject]:
    """Subjects of id ``name`` (in ``tenant``, or in any tenant with ``None``), by tenant, at most ``limit``."""
    return named_rows(s, ConsentSubject, name, tenant, limit=limit)


def tenants_of(s: Session, name: str) -> list[str]:
    """The tenants that have a subject of id ``name``, sorted."""
    return tenants_naming(s, ConsentSubject, name)


def subjects(s: Session, tenant: str | None) -> list[ConsentSubject]:
    return tenant_rows(s, ConsentSubject, tenant)


def add(s: Session, row: ConsentSubject | ConsentTemplate | ConsentChallenge) -> None:
    s.add(row)


# --- templates ----------------------------------------------------------------------------------
def template_modalities(s: Session, key: str) -> list[str]:
    """The modality of each of the subject's templates (one item per template)."""
    return list(s.execute(select(ConsentTemplate.modality).where(ConsentTemplate.subject_id == key)).scalars())


def templates_of(s: Session, key: str) -> list[ConsentTemplate]:
    return list(s.scalars(select(ConsentTemplate).where(ConsentTemplate.subject_id == key)))


def _gallery_where(modality: str, model_sha256: str, tenant: str | None) -> list[Any]:
    where = [ConsentTemplate.modality == modality, ConsentTemplate.model_sha256 == model_sha256,
             ConsentSubject.erased_at.is_(None)]
    if tenant is not None:
        where.append(ConsentSubject.tenant == tenant)
    return where


_JOIN = (ConsentSubject, ConsentSubject.id == ConsentTemplate.subject_id)


def gallery_signature(s: Session, modality: str, model_sha256: str, tenant: str | None) -> tuple[Any, ...]:
    """(count, max id, newest created_at) of the live templates of ``modality`` made by the model."""
    return tuple(s.execute(select(func.count(ConsentTemplate.id), func.max(ConsentTemplate.id),
                                  func.max(ConsentTemplate.created_at)).join(*_JOIN)
                           .where(*_gallery_where(modality, model_sha256, tenant))).one())


def gallery(s: Session, modality: str, model_sha256: str, tenant: str | None) -> list[Any]:
    """``(ConsentTemplate, protected, name, tenant)`` of the live templates of ``modality`` made by the model."""
    rows = select(ConsentTemplate, ConsentSubject.protected, ConsentSubject.name, ConsentSubject.tenant)
    return list(s.execute(rows.join(*_JOIN).where(*_gallery_where(modality, model_sha256, tenant))))


# asked on every scan with an AI verdict (consent/protected.py): built once, not per upload (issue 28)
_HAS = (select(ConsentTemplate.id).join(ConsentSubject, ConsentSubject.id == ConsentTemplate.subject_id)
        .where(ConsentTemplate.modality == bindparam("modality"), ConsentSubject.erased_at.is_(None)).limit(1))
_HAS_PROTECTED = _HAS.where(ConsentSubject.protected.is_(True))


def has_templates(s: Session | Connection, modality: str, *, protected_only: bool = False) -> bool:
    return s.execute(_HAS_PROTECTED if protected_only else _HAS, {"modality": modality}).first() is not None


def has_templates_now(db: Database, modality: str, protected_only: bool = False) -> bool:
    """:func:`has_templates` on a light connection of its own (``Database.reading``, no ORM session): asked on
    every scan with an AI verdict (the likeness registry's ``has_templates`` dependency, issue 23)."""
    with db.reading() as conn:
        return has_templates(conn, modality, protected_only=protected_only)


def delete_templates(s: Session, key: str) -> list[ConsentTemplate]:
    """Delete the subject's templates; returns them."""
    templates = templates_of(s, key)
    for t in templates:
        s.delete(t)
    return templates


# --- challenges ----------------------------------------------------------------------------------
def challenge(s: Session, challenge_id: str) -> ConsentChallenge | None:
    return s.get(ConsentChallenge, challenge_id)


def challenges_of(s: Session, key: str) -> list[ConsentChallenge]:
    return list(s.scalars(select(ConsentChallenge).where(ConsentChallenge.subject_id == key)))


def delete_challenges(s: Session, key: str) -> None:
    for c in s.scalars(select(ConsentChallenge).where(ConsentChallenge.subject_id == key)):
        s.delete(c)


# --- grants --------------------------------------------------------------------------------------
def grant(s: Session, grant_id: str) -> ConsentGrant | None:
    return s.get(ConsentGrant, grant_id)


def add_grant(s: Session, g: ConsentGrant) -> None:
    s.add(g)
    s.flush()


def evidence_used(s: Session, sha256: str) -> bool:
    """Whether a grant is already backed by the evidence file of this SHA-256."""
    return s.execute(select(ConsentGrant.id).where(ConsentGrant.evidence_sha256 == sha256)).first() is not None


def grants_of(s: Session, key: str) -> list[ConsentGrant]:
    """Every grant of the subject ``key``."""
    return list(s.scalars(select(ConsentGrant).where(ConsentGrant.subject_id == key)))


def grants_for(s: Session, key: str, purpose: str, grantees: Sequence[str]) -> list[ConsentGrant]:
    """The subject's grants for ``purpose`` to any of ``grantees``, newest first."""
    q = select(ConsentGrant).where(ConsentGrant.subject_id == key, ConsentGrant.purpose == purpose,
                                   ConsentGrant.grantee.in_(grantees))
    return list(s.scalars(q.order_by(ConsentGrant.created_at.desc())))


def grants(s: Session, *, subject_name: str | None, grantee: str | None, tenant: str | None) -> list[ConsentGrant]:
    """Grants, oldest first; ``subject_name`` is the subject's id in the grant's tenant."""
    q = select(ConsentGrant).order_by(ConsentGrant.created_at)
    if subject_name is not None:
        q = q.join(ConsentSubject, ConsentSubject.id == ConsentGrant.subject_id).where(
            ConsentSubject.name == subject_name)
    if grantee is not None:
        q = q.where(ConsentGrant.grantee == grantee)
    if tenant is not None:
        q = q.where(ConsentGrant.tenant == tenant)
    return list(s.scalars(q))


__all__ = ["Session", "add", "add_grant", "challenge", "challenges_of", "delete_challenges", "delete_templates",
           "evidence_used", "gallery", "gallery_signature", "grant", "grants", "grants_for", "grants_of",
           "has_templates", "has_templates_now", "subject", "subject_in_tenant", "subjects", "subjects_named",
           "template_modalities", "templates_of", "tenants_of"]
