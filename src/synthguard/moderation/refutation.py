"""Rumor refutation (DS-11): a notice on the item and its hash-matched copies, shown to viewers, and a public page.

Every refutation is a row (kept for the regulator report) and a ledger entry through the case history.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from synthguard.errors import NotFoundError, ValidationError
from synthguard.i18n import N_
from synthguard.moderation import content
from synthguard.store.moderation_tables import ModCase, ModContent, ModRefutation

if TYPE_CHECKING:
    from synthguard.store.protocols import Unit


def publish(uow: Unit, case: ModCase, c: ModContent | None, reviewer: str, now: datetime,
            data: dict[str, str]) -> dict[str, Any]:
    title, text = (data.get("title") or "").strip(), (data.get("text") or "").strip()
    if not title or not text or len(title) > 200 or len(text) > 5000:
        raise ValidationError("a refutation needs a title (<= 200 characters) and a text (<= 5000)",
                              hint=N_("Say what is false and what is true, with sources (DS-11)."))
    slug = "R-" + secrets.token_hex(6)
    targets: list[ModContent] = []
    if c is not None:
        same, near = content.copies(uow, c)
        targets = [c, *same, *near]
    notice = {"type": "refutation", "slug": slug, "title": title, "url": f"/refutations/{slug}", "at": now.isoformat()}
    for t in targets:
        t.notices = list(t.notices) + [notice]
    uow.moderation.add(ModRefutation(tenant=case.tenant, slug=slug, case_id=case.id, title=title, text=text,
                              content_refs=[t.ref for t in targets], created_at=now))
    return {"refutation": slug, "refuted": [t.ref for t in targets]}


def public_view(uow: Unit, slug: str) -> dict[str, Any]:
    r = uow.moderation.refutation(slug) if isinstance(slug, str) else None
    if r is None:
        raise NotFoundError("no refutation {slug!r}", values={"slug": slug},
                            hint=N_("Check the address of the refutation notice."))
    return {"slug": r.slug, "title": r.title, "text": r.text, "content": r.content_refs,
            "published_at": r.created_at.isoformat()}


def notices_for(uow: Unit, tenant: str, ref: str) -> dict[str, Any]:
    """What a viewer of an item sees next to it: labels, notices, refutations, and whether it is available."""
    c = content.find(uow, tenant, ref)
    return {"ref": c.ref, "status": c.status, "available": c.status in ("visible", "restricted"),
            "notices": c.notices}


__all__ = ["notices_for", "public_view", "publish"]
