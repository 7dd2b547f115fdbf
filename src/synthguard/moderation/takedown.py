"""Notice-and-takedown intake: validation per regime, tickets and secrets, status, counter-notice, proof, appeal.

What a valid notice needs comes from the policy's complaint type: for takedowns, real identity, contact, a
signature and a good-faith statement (US-02 TAKE IT DOWN §3(a)(1)(B), CC-10 Art. 1195, DSA-02 Art. 16(2));
the clock starts at receipt of a *valid* request (US-02), so an incomplete one is refused with the list of
missing elements and nothing is stored.  Identity and contact go to the subject vault under the ticket
(``complaint:<ticket>``); rows and ledger entries hold only the ticket, hashes and the type.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from synthguard.errors import NotFoundError, RefusedError, ValidationError
from synthguard.i18n import N_
from synthguard.moderation.policy import ComplaintType, Policy
from synthguard.store.moderation_tables import ModAttempt, ModCase

if TYPE_CHECKING:
    from synthguard.ledger.erasure import SubjectVault
    from synthguard.store.protocols import Unit

# One address per field: a dot-atom local part and a host name (no commas, quotes, angle brackets or spaces), so
# "root,victim@example.com" cannot make a notice go to two recipients (issue 18 finding 6).
EMAIL = re.compile(r"^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                   r"@(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
LIMITS = {"name": 200, "email": 320, "signature": 200, "location": 2000, "description": 5000, "identity": 500}
ATTEMPTS = 5  # failed secrets per ticket and per client ...
WINDOW = timedelta(minutes=15)  # ... within this window; then 429


class TooManyAttemptsError(RefusedError):
    """Too many wrong ticket secrets: the status page is rate limited against brute force."""

    http_status = 429
    hint = N_("Wait 15 minutes and try again with the secret from your receipt.")


@dataclass(frozen=True)
class Notice:
    """A validated complaint: what to store in the case (non-personal) and in the vault (personal)."""

    kind: ComplaintType
    location: str
    description: str
    personal: dict[str, str]  # name, email, signature, identity -> vault
    good_faith: bool


def validate(policy: Policy, data: dict[str, Any], *, role: str | None = None) -> Notice:
    """Check a complaint against its type's required elements; ValidationError lists every missing one."""
    if not isinstance(data, dict):
        raise ValidationError("a complaint must be a JSON object")
    kind = policy.complaint(str(data.get("kind", "")))
    if kind.roles and role not in kind.roles:
        raise RefusedError("complaint type {kind!r} is for {roles} accounts only",
                           values={"kind": kind.id, "roles": ", ".join(kind.roles)},
                           hint=N_("Sign in with the matching API token, or choose another complaint type."))
    clean: dict[str, Any] = {}
    for f, limit in LIMITS.items():
        v = data.get(f)
        if v is None:
            continue
        if not isinstance(v, str):
            raise ValidationError("{field} must be text", values={"field": f})
        v = v.strip()
        if len(v) > limit:
            raise ValidationError("{field} is longer than {limit} characters", values={"field": f, "limit": limit})
        clean[f] = v
    gf = data.get("good_faith")
    good_faith = gf is True or (isinstance(gf, str) and gf.lower() in ("true", "on", "yes", "1"))
    missing = [f for f in kind.required if (not good_faith if f == "good_faith" else not clean.get(f))]
    if missing:
        raise ValidationError("the notice is missing: {fields}", values={"fields": ", ".join(missing)},
                              hint=N_("A valid notice needs every element listed (US-02, CC-10, DSA-02); "
                                      "the deadline starts once it is complete."))
    if clean.get("email") and not EMAIL.fullmatch(clean["email"]):
        raise ValidationError("email does not look like an address", hint=N_("Give an address we can reply to."))
    personal = {k: clean[k] for k in ("name", "email", "signature", "identity") if clean.get(k)}
    return Notice(kind, clean.get("location", ""), clean.get("description", ""), personal, good_faith)


def source_for(kind: ComplaintType, role: str | None) -> str:
    if role == "regulator":
        return "regulator"
    return "victim_notice" if kind.takedown else "complaint"


def store_personal(vault: SubjectVault, uow: Unit, ticket: str, notice: Notice, entry_index: int) -> int | None:
    """Vault the complainant's identity; returns the payload id of the email (for the outbox)."""
    subject = f"complaint:{ticket}"
    contact = None
    for k, v in notice.personal.items():
        pid = vault.store(uow.session, subject, f"{k}={v}" if k != "email" else v, entry_index=entry_index)
        if k == "email":
            contact = pid
    return contact


def check_secret(uow: Unit, ticket: str, secret: str, client: str, now: datetime) -> ModCase | None:
    """The case for a ticket and its secret, or None (the failure is recorded: commit, then answer 404).

    The holder of the right secret is never locked out (issue 18 finding 3: five bogus guesses used to lock
    the real complainant out): the secret is checked first.  Wrong guesses are throttled per ticket and per
    client with TooManyAttemptsError (429).  The secrets carry 144 random bits, so the throttle bounds load
    and noise; it is not what keeps them secret.
    """
    case = uow.moderation.case_by_ticket(ticket) if isinstance(ticket, str) else None
    given = hashlib.sha256((secret or "").encode()).hexdigest()
    if case is not None and case.secret_hash and hmac.compare_digest(case.secret_hash, given):
        return case
    keys = (f"ticket:{ticket}"[:128], f"client:{client}"[:128])
    uow.moderation.forget_attempts_before(now - WINDOW)
    for key in keys:
        if uow.moderation.attempts_since(key, now - WINDOW) >= ATTEMPTS:
            raise TooManyAttemptsError("too many wrong ticket secrets; try again later")
    for key in keys:
        uow.moderation.add(ModAttempt(key=key, at=now))
    return None


def wrong_secret() -> NotFoundError:
    return NotFoundError("no case with this ticket and secret",
                         hint=N_("Check both against your receipt; after 5 wrong tries, wrong tries are refused "
                                 "for 15 minutes (the right secret always works)."))


def status_view(case: ModCase, policy: Policy, now: datetime) -> dict[str, Any]:
    """What the complainant sees: state, deadline, outcome -- never the other side's data."""
    kind = policy.complaint_types.get(case.kind)
    appeal_until = case.actioned_at + timedelta(days=policy.appeal_window_days) if case.actioned_at else None
    return {"ticket": case.ticket, "kind": case.kind, "kind_title": kind.title if kind else case.kind,
            "state": case.state, "opened_at": case.opened_at.isoformat(),
            "deadline_at": case.deadline_at.isoformat() if case.deadline_at else None,
            "action": case.action, "reason_code": case.reason_code,
            "reason": policy.reason_codes.get(case.reason_code or "", {}).get("text"),
            "actioned_at": case.actioned_at.isoformat() if case.actioned_at else None,
            "outcome": case.outcome, "restore_at": case.restore_at.isoformat() if case.restore_at else None,
            "counter_notice": case.counter_at is not None,
            "can_appeal": case.state == "dismissed" and appeal_until is not None and now <= appeal_until,
            "can_prove_suit": case.state == "appealed" and case.restore_at is not None}


__all__ = ["ATTEMPTS", "Notice", "TooManyAttemptsError", "check_secret", "source_for", "status_view",
           "store_personal", "validate", "wrong_secret"]
