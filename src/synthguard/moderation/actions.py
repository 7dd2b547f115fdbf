"""A reviewer's actions on a case: label, add notice, refute, restrict, remove, escalate, dismiss.

Each action must be allowed by the case type's policy and carry a policy reason code.  ``remove`` also removes
identical copies (same SHA-256) at once and queues near-duplicates (PDQ) as cases with the same deadline
(US-04 "known identical copies"), and asks for the stay-down fingerprints (CC-12) after the commit.
``refute`` publishes a refutation page and attaches its notice to the item and its near-duplicates (DS-11).
Every decision gets a statement of reasons in the case (DSA-06/07) and notifications with redress (DSA-04).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from synthguard.errors import ValidationError
from synthguard.i18n import N_
from synthguard.moderation import cases, content, notify
from synthguard.moderation import refutation as refutations
from synthguard.store.moderation_tables import ModCase, ModContent

if TYPE_CHECKING:
    from synthguard.moderation.service import Moderation
    from synthguard.store.protocols import Unit

# DS-10/DS-11: categories reported to the regulator by default
REPORTABLE = ("ncii", "false_information", "regulator_order", "ca_sedit", "csam")
REPORT_DECISIONS = ("report", "no_report")
STATUS = {"remove": "removed", "restrict": "restricted"}
NEEDS_CONTENT = ("remove", "restrict", "label", "notice")


@dataclass
class Result:
    effects: dict[str, Any] = field(default_factory=dict)
    stay_down: list[tuple[str, int]] = field(default_factory=list)  # (ticket, content id) for after the commit


def apply(mod: Moderation, uow: Unit, case: ModCase, reviewer: str, action: str, reason_code: str, now: datetime,
          *, note: str = "", report_decision: str | None = None, refutation: dict[str, str] | None = None) -> Result:
    policy = mod.policy
    kind = policy.complaint(case.kind)
    if action not in kind.actions:
        raise ValidationError("action {action!r} is not allowed for {kind!r} cases",
                              values={"action": action, "kind": case.kind, "actions": ", ".join(kind.actions)},
                              hint=N_("Allowed: {actions}."))
    policy.check_reason(reason_code)
    if report_decision is not None and report_decision not in REPORT_DECISIONS:
        raise ValidationError("report_decision must be one of {REPORT_DECISIONS}",
                              values={"REPORT_DECISIONS": REPORT_DECISIONS})
    c = uow.moderation.content(case.content_id) if case.content_id else None
    if action in NEEDS_CONTENT and c is None:
        raise ValidationError("case {ticket} names no content on this platform; {action} needs one",
                              values={"ticket": case.ticket, "action": action},
                              hint=N_("Dismiss or escalate it, or refute with a public page only."))
    res = Result()
    if action == "escalate":
        case.priority += 50
        case.claimed_by = case.claimed_at = None
        cases.record(mod.deps, uow, case, "escalate", reviewer, now, to="opened", reason=note,
                     details={"reason_code": reason_code, "level": "reviewer"})
        res.effects = {"escalated": True}
        return res
    if action == "remove":
        res.effects = _remove(mod, uow, case, c, reviewer, now)  # type: ignore[arg-type]
        res.stay_down.append((case.ticket, c.id))  # type: ignore[union-attr]
        res.stay_down += [(case.ticket, cid) for cid in res.effects["removed_copies_ids"]]
    elif action in STATUS:
        content.set_status(c, STATUS[action])  # type: ignore[arg-type]
    elif action in ("label", "notice"):
        c.notices = list(c.notices) + [{"type": action, "reason_code": reason_code,  # type: ignore[union-attr]
                                        "text": policy.reason_codes[reason_code]["text"], "at": now.isoformat()}]
    elif action == "refute":
        res.effects = refutations.publish(uow, case, c, reviewer, now, refutation or {})
    to = "dismissed" if action == "dismiss" else "actioned"
    case.action, case.reason_code, case.actioned_at = action, reason_code, now
    case.report_decision = report_decision or ("report" if case.category in REPORTABLE and to == "actioned"
                                               else "no_report")
    case.claimed_by = None
    case.details = dict(case.details) | {"statement_of_reasons": _sor(mod, case, note)}
    cases.record(mod.deps, uow, case, "decide", reviewer, now, to=to, reason=note,
                 details={"action": action, "reason_code": reason_code} | {
                     k: v for k, v in res.effects.items() if k != "removed_copies_ids"})
    fields = {"action": action, "reason": policy.reason_codes[reason_code]["text"],
              "appeal_days": int(policy.appeal_window_days)}
    notify.queue(uow, case, "decision", "complainant", case.contact, **fields)
    if c is not None and c.uploader_contact:
        notify.queue(uow, case, "decision", "uploader", c.uploader_contact, **fields)
    return res


def _remove(mod: Moderation, uow: Unit, case: ModCase, c: ModContent, reviewer: str, now: datetime
            ) -> dict[str, Any]:
    content.set_status(c, "removed")
    same, near = content.copies(uow, c)
    for o in same:
        content.set_status(o, "removed")
    queued = []
    for o in near:
        child = mod._open(uow, case.tenant, "copy", case.kind, o, now, actor=reviewer, rule=case.rule,
                          automated=True, deadline=case.deadline_at,
                          details={"copy_of": case.ticket, "distance": content.hamming(c.pdq or "", o.pdq or "")})
        queued.append(child.ticket)
    return {"removed": c.ref, "removed_copies": [o.ref for o in same], "removed_copies_ids": [o.id for o in same],
            "queued_copies": queued, "copies": len(same) + len(queued)}


def _sor(mod: Moderation, case: ModCase, note: str) -> dict[str, Any]:
    """The facts a statement of reasons needs (DSA-07), kept non-personal; rendered by reports.py."""
    return {"source": case.source, "automated_detection": case.automated, "note_chars": len(note),
            "policy": f"{mod.policy.jurisdiction}@{mod.policy.version}"}


__all__ = ["REPORTABLE", "Result", "apply"]
