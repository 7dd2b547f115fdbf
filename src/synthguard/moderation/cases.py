"""Cases: an explicit state machine whose every transition is a case-history row and a ledger entry (DS-10).

    opened -> in_review -> actioned | dismissed -> appealed -> in_review ... -> closed

``opened`` and ``appealed`` cases wait in the queue; a reviewer claims one (``in_review``) with an atomic
claim, so two reviewers never hold the same case (see :func:`claim`).  A case closes only after a disposal
(an action or a dismissal) and a report decision (DS-10: "a case cannot be closed without a disposal and a
report-decision field").  Sources: scan verdicts by policy, user complaints, victim notices, regulator requests.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from synthguard.errors import ConflictError, NotFoundError, ValidationError
from synthguard.i18n import N_
from synthguard.limits import MAX_ROW_ID
from synthguard.store.moderation_tables import ModCase, ModContent, ModEvent
from synthguard.times import iso

if TYPE_CHECKING:
    from synthguard.moderation.deps import ModerationDeps
    from synthguard.store.protocols import Unit

STATES = ("opened", "in_review", "actioned", "dismissed", "appealed", "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "opened": frozenset({"in_review"}),
    "in_review": frozenset({"actioned", "dismissed", "opened"}),  # "opened": the reviewer releases it
    "actioned": frozenset({"appealed", "closed"}),
    "dismissed": frozenset({"appealed", "closed"}),
    "appealed": frozenset({"in_review", "closed"}),
    "closed": frozenset(),
}
QUEUED = ("opened", "appealed")
SOURCES = ("scan", "complaint", "victim_notice", "regulator", "copy")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def check_transition(current: str, to: str) -> None:
    """Raise ConflictError unless ``current -> to`` is an edge of the machine."""
    if to not in STATES:
        raise ValidationError("unknown case state {to!r}", hint=N_("States: {states}."),
                              values={"to": to, "states": ", ".join(STATES)})
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (closed is final)"
        raise ConflictError("a case cannot go from {current!r} to {to!r}", hint=N_("From {current!r}: {allowed}."),
                            values={"current": current, "to": to, "allowed": allowed})


def new_ticket() -> str:
    """Public ticket number: "T-" + 10 Crockford base32 characters (50 random bits; not a secret)."""
    n = secrets.randbits(50)
    return "T-" + "".join(_CROCKFORD[(n >> (5 * i)) & 31] for i in reversed(range(10)))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def actor_ref(deps: ModerationDeps, actor: str) -> str:
    """Pseudonymous actor id for the ledger (a reviewer's name is personal data)."""
    return deps.user_ref(actor)


def record(deps: ModerationDeps, uow: Unit, case: ModCase, kind: str, actor: str, at: datetime, *,
           to: str | None = None, reason: str = "", details: dict[str, Any] | None = None) -> ModEvent:
    """Append one history row and its ledger entry in the caller's transaction; apply ``to`` if given."""
    frm = case.state
    if to is not None:
        check_transition(frm, to)
        # optimistic check in the database: a concurrent writer that moved the case first wins, we get a 409
        if uow.moderation.move_case(case.id, frm, to) != 1:
            raise ConflictError("case {ticket} changed meanwhile (it is no longer {state!r})",
                                values={"ticket": case.ticket, "state": frm},
                                hint=N_("Reload the case and decide again."))
        case.state = to
    details = details or {}
    body = {"event": f"case_{kind}", "ticket": case.ticket, "tenant": case.tenant, "from": frm, "to": to,
            "actor": actor_ref(deps, actor), "reason_sha256": hashlib.sha256(reason.encode()).hexdigest()}
    body |= {k: v for k, v in details.items() if k in ("action", "reason_code", "rule", "category", "level", "copies")}
    entry = deps.ledger.append(uow.session, "moderation", body, time=at)
    ev = ModEvent(case_id=case.id, at=at, actor=actor, kind=kind, from_state=frm, to_state=to, reason=reason,
                  details=details, ledger_index=entry.index)
    uow.moderation.add(ev, flush=True)
    return ev


def get(uow: Unit, tenant: str, case_id: int | str, *, lock: bool = False) -> ModCase:
    """A case of this tenant by id or ticket; 404 for another tenant's case, as for a missing one."""
    if isinstance(case_id, str) and case_id.startswith("T-"):
        case = uow.moderation.case_in_tenant(tenant, ticket=case_id, lock=lock)
    else:
        case = uow.moderation.case_in_tenant(tenant, case_id=_int(case_id), lock=lock)
    if case is None:
        raise NotFoundError("no case {case!r}", values={"case": case_id},
                            hint=N_("List the queue: GET /v1/moderation/queue."))
    return case


def _int(v: int | str) -> int:
    """A case row id; anything else (not a number, 0, over 2**63-1) names no case (never an OverflowError)."""
    try:
        n = int(v)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_ROW_ID:
        raise NotFoundError("no case {case!r}", values={"case": str(v)[:64]},
                            hint=N_("List the queue: GET /v1/moderation/queue."))
    return n


def claim(deps: ModerationDeps, uow: Unit, tenant: str, reviewer: str, at: datetime, case_id: int | None = None
          ) -> ModCase | None:
    """Claim the most urgent queued case (or ``case_id``) for ``reviewer``; None when nothing is left.

    Waiting means opened, or appealed without a running CC-11 restore timer, and held by nobody.  Postgres:
    ``SELECT ... FOR UPDATE SKIP LOCKED`` picks a row no other transaction holds.  SQLite: the claim is one
    ``UPDATE ... WHERE state IN queued AND claimed_by IS NULL``; a reviewer whose UPDATE hits no row lost the
    race and tries the next case (store/moderation_repo.py)."""
    for _ in range(20):
        cid = uow.moderation.next_claimable(tenant, case_id)
        if cid is None:
            return None
        if uow.moderation.take_claim(cid, reviewer, at) == 1:
            case = uow.moderation.case_reloaded(cid)
            assert case is not None
            record(deps, uow, case, "claim", reviewer, at, to="in_review")
            return case
        if case_id is not None:
            return None
    return None


def release(deps: ModerationDeps, uow: Unit, case: ModCase, reviewer: str, at: datetime) -> None:
    own(case, reviewer)
    record(deps, uow, case, "release", reviewer, at, to="opened")
    case.claimed_by = case.claimed_at = None


def own(case: ModCase, reviewer: str) -> None:
    if case.state != "in_review" or case.claimed_by != reviewer:
        raise ConflictError("case {ticket} is not in review by you (state {state!r})",
                            values={"ticket": case.ticket, "state": case.state},
                            hint=N_("Claim it first: POST /v1/moderation/cases/{id}/claim."))


def close(deps: ModerationDeps, uow: Unit, case: ModCase, actor: str, at: datetime, *, outcome: str | None = None,
          reason: str = "") -> None:
    """DS-10: only a case with a disposal and a report decision closes."""
    if case.action is None or case.report_decision is None:
        raise ConflictError("case {ticket} has no disposal or report decision yet (DS-10)",
                            values={"ticket": case.ticket},
                            hint=N_("Act on it (remove, label, refute, restrict, dismiss) before closing it."))
    record(deps, uow, case, "close", actor, at, to="closed", reason=reason, details={"outcome": outcome})
    case.closed_at, case.outcome = at, outcome or case.outcome or case.action
    case.claimed_by = None


def queue(uow: Unit, tenant: str, *, states: tuple[str, ...] = QUEUED + ("in_review",)) -> list[ModCase]:
    """Cases waiting or in review, most urgent deadline first (no deadline last), then priority."""
    return uow.moderation.cases_in_states(tenant, states)


def for_content(uow: Unit, content_id: int) -> list[ModCase]:
    return uow.moderation.cases_of_content(content_id)


def history(uow: Unit, case: ModCase) -> list[dict[str, Any]]:
    rows = uow.moderation.case_events(case.id)
    return [{"at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "from": e.from_state, "to": e.to_state,
             "reason": e.reason, "details": e.details, "ledger_index": e.ledger_index} for e in rows]


def case_dict(case: ModCase, content: ModContent | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    left = (case.deadline_at - now).total_seconds() if now and case.deadline_at else None
    return {"id": case.id, "ticket": case.ticket, "tenant": case.tenant, "source": case.source, "kind": case.kind,
            "category": case.category, "jurisdiction": case.jurisdiction, "rule": case.rule, "state": case.state,
            "priority": case.priority, "opened_at": iso(case.opened_at), "valid_at": iso(case.valid_at),
            "deadline_at": iso(case.deadline_at), "seconds_left": left, "escalations": list(case.escalations or []),
            "claimed_by": case.claimed_by, "action": case.action, "reason_code": case.reason_code,
            "actioned_at": iso(case.actioned_at), "report_decision": case.report_decision,
            "counter_at": iso(case.counter_at), "restore_at": iso(case.restore_at), "outcome": case.outcome,
            "closed_at": iso(case.closed_at), "automated": case.automated, "location": case.location,
            "details": case.details, "content": content_ref(content)}


def content_ref(c: ModContent | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"id": c.id, "ref": c.ref, "sha256": c.sha256, "pdq": c.pdq, "status": c.status, "verdict": c.verdict,
            "mime": c.mime, "notices": c.notices, "evidence": c.evidence or {}}


__all__ = ["QUEUED", "SOURCES", "STATES", "TRANSITIONS", "case_dict", "check_transition", "claim", "close", "get",
           "history", "new_ticket", "queue", "record", "release"]
