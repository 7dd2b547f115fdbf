"""SLA timers: escalation alerts at fractions of a case's deadline, overdue marks, and CC-11 restorations.

Pure schedule (:func:`due_alerts`) plus the sweep that applies it.  With a 48 h deadline and the default
alerts ``[0.5, 0.75]`` the alerts fire at 24 h and 36 h (US-04), then ``overdue`` at 48 h; each alert fires
once (its id is kept in ``escalations``), raises the case's priority and is a case-history row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from synthguard.i18n import N_
from synthguard.moderation import cases, content, notify
from synthguard.store.moderation_tables import ModCase

if TYPE_CHECKING:
    from synthguard.moderation.policy import Policy
    from synthguard.moderation.service import Moderation

OPEN = ("opened", "in_review", "appealed")
BUMP = {"alert-50": 10, "alert-75": 20, "overdue": 40}


def due_alerts(policy: Policy, case: ModCase, now: datetime) -> list[str]:
    """Alert ids due at ``now`` and not fired yet, in order."""
    if case.deadline_at is None or case.valid_at is None or case.state not in OPEN:
        return []
    if case.state == "appealed" and case.restore_at is not None:  # CC-11 timer runs instead
        return []
    hours = (case.deadline_at - case.valid_at).total_seconds() / 3600
    fired = set(case.escalations or [])
    out = [f"alert-{int(f * 100)}" for f in policy.alerts
           if now >= case.valid_at + (case.deadline_at - case.valid_at) * f and hours > 0]
    if now >= case.deadline_at:
        out.append("overdue")
    return [a for a in out if a not in fired]


def sweep(mod: Moderation, tenant: str | None = None) -> dict[str, Any]:
    now = mod.clock()
    fired: list[dict[str, Any]] = []
    restored: list[str] = []
    lift: list[tuple[str, int]] = []
    deps = mod.deps
    with deps.units() as uow:
        for case in uow.moderation.open_cases(OPEN, tenant):
            for alert in due_alerts(mod.policy, case, now):
                case.escalations = [*(case.escalations or []), alert]
                case.priority += BUMP.get(alert, 10)
                cases.record(deps, uow, case, "escalate", "sla", now, reason=f"SLA {alert}",
                             details={"level": alert})
                fired.append({"ticket": case.ticket, "alert": alert})
            if case.state == "appealed" and case.restore_at is not None and now >= case.restore_at:
                c = uow.moderation.content(case.content_id) if case.content_id else None
                if c is not None:
                    content.set_status(c, "visible")
                    lift.append((case.ticket, c.id))
                case.outcome, case.restore_at = "restored", None
                cases.close(deps, uow, case, "sla", now, outcome="restored",
                            reason=N_("no proof of complaint or suit within the period (CC-11)"))
                notify.queue(uow, case, "restored", "complainant", case.contact, ref=c.ref if c else "-",
                             reason=N_("counter-notice stands"))
                restored.append(case.ticket)
        removed = uow.moderation.removed_content()
    for ticket, cid in lift:
        with deps.units() as uow:
            c = uow.moderation.content(cid)
        if c is not None:
            content.lift_stay_down(deps, c, ticket, "sla")
    banned: dict[str, set[str]] = {}
    for c in removed:  # repair: a crash between a removal's commit and its bank writes (per tenant: finding 2)
        if c.tenant not in banned:
            banned[c.tenant] = {e["hash"] for b in content.ensure_banks(deps, c.tenant)
                                for e in deps.banks().entries(b, include_removed=False)}
        if c.sha256 not in banned[c.tenant]:
            content.stay_down(deps, c, "sweep", "sla")
    return {"at": now.isoformat(), "alerts": fired, "restored": restored}


__all__ = ["due_alerts", "sweep"]
