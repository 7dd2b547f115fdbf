"""Service agreement and notices (DS-06, LM-19, seed 002): versioned texts, click-through acceptance, filing display.

The service agreement must set out the labeling duties (LM-19); the first-use notice tells users about labeling
and the algorithmic service; the filing number is displayed with its public link (DS-22).  Acceptance records hold
the user's pseudonymous account id, the version and the time; the ledger gets the pseudonymous reference only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthguard.compliance.common import UserRef, check_text, ledger_body, sha256_text
from synthguard.config import Settings
from synthguard.errors import ConflictError, NotFoundError, TermsNotAcceptedError, ValidationError
from synthguard.i18n import N_
from synthguard.ledger.log import Ledger
from synthguard.store.compliance_tables import TermsVersion
from synthguard.store.protocols import Units
from synthguard.store.schema import User
from synthguard.store.unit_of_work import Users
from synthguard.times import iso

KINDS = ("service_agreement", "first_use_notice")
LABELING_TERMS = ("标识", "label")  # LM-19: the agreement explains the labeling methods and duties


def _terms(t: TermsVersion, with_text: bool = False) -> dict[str, Any]:
    d = {"id": t.id, "tenant": t.tenant, "kind": t.kind, "version": t.version, "sha256": t.sha256,
         "published_at": iso(t.published_at), "published_by": t.published_by,
         "covers_labeling": covers_labeling(t.text)}
    return d | ({"text": t.text} if with_text else {})


def covers_labeling(text: str) -> bool:
    low = text.casefold()
    return any(word in low for word in LABELING_TERMS)


Account = Callable[[Users, str, str | None], User]
"""The account ``user_id`` of ``tenant`` in a unit of work's users, else NotFoundError (``Identity.account``)."""


class Terms:
    """Agreements and notices behind ``sg.compliance.terms``, from narrow dependencies (issue 23): units of work, the
    ledger, the pseudonymiser, the settings (service name, filing number) and the account lookup (finding 13)."""

    def __init__(self, units: Units, ledger: Ledger, user_ref: UserRef, *, settings: Callable[[], Settings],
                 account: Account):
        self.units, self.ledger, self.user_ref = units, ledger, user_ref
        self.settings, self.account = settings, account

    def publish(self, kind: str, version: str, text: str, *, actor: str, tenant: str = "default") -> dict[str, Any]:
        if kind not in KINDS:
            raise ValidationError("unknown terms kind {kind!r}", hint=N_("Use one of: {kinds}."),
                                  values={"kind": kind, "kinds": ", ".join(KINDS)})
        version = check_text(version, "the version", max_len=32)
        text = check_text(text, "the text", max_len=200_000)
        with self.units() as uow:
            if uow.compliance.terms_exists(tenant, kind, version):
                raise ConflictError("{kind} version {version!r} is already published",
                                    hint="Published terms are immutable: publish the change as a new version.",
                                    values={"kind": kind, "version": version})
            t = uow.compliance.add_terms(tenant=tenant, kind=kind, version=version, text=text,
                                         sha256=sha256_text(text), published_by=actor)
            self.ledger.append(uow.session, "feature", ledger_body(self.user_ref, "terms_version", actor, kind=kind,
                                                                   version=version, tenant=tenant, sha256=t.sha256))
            return _terms(t)

    def current(self, kind: str = "service_agreement", *, tenant: str = "default", with_text: bool = True
                ) -> dict[str, Any] | None:
        with self.units() as uow:
            t = uow.compliance.terms_version(tenant, kind)
            return _terms(t, with_text) if t else None

    def accept(self, user_id: str, *, version: str | None = None, kind: str = "service_agreement",
               tenant: str | None = None) -> dict[str, Any]:
        """Record the user's click-through acceptance (DS-06: user id, version, time); idempotent per version.
        ``user_id`` is an account of ``tenant`` (None: the one tenant that has that id; issue 18 finding 13)."""
        with self.units() as uow:
            user = self.account(uow.users, user_id, tenant)
            t = uow.compliance.terms_version(user.tenant, kind, version)
            if t is None:
                hint = "Publish it first: `synthguard compliance terms publish`."
                if version:
                    raise NotFoundError("no {kind} version {version!r} for tenant {tenant!r}", hint=hint,
                                        values={"kind": kind, "version": version, "tenant": user.tenant})
                raise NotFoundError("no {kind} published for tenant {tenant!r}", hint=hint,
                                    values={"kind": kind, "tenant": user.tenant})
            row = uow.compliance.acceptance(user.id, t.id)
            if row is None:
                entry = self.ledger.append(uow.session, "feature", {
                    "event": "terms_acceptance", "user": self.user_ref(user.id), "kind": kind,
                    "version": t.version, "sha256": t.sha256})
                row = uow.compliance.add_acceptance(user_id=user.id, terms_id=t.id, ledger_index=entry.index)
            return {"user": user_id, "tenant": user.tenant, "kind": kind, "version": t.version, "sha256": t.sha256,
                    "accepted_at": iso(row.accepted_at), "ledger_index": row.ledger_index}

    def require_accepted(self, user_id: str, *, tenant: str, kind: str = "service_agreement") -> None:
        """DS-06: a user cannot generate until the current agreement is accepted. A tenant that has published no
        agreement is not blocked here (the `terms.published` compliance check fails instead).  ``user_id`` is an
        account of ``tenant`` (issue 18 finding 13: another tenant's acceptance under the same id does not count)."""
        with self.units() as uow:
            t = uow.compliance.terms_version(tenant, kind)
            if t is None:
                return
            accepted = uow.compliance.acceptance(uow.compliance.user_key(tenant, user_id), t.id)
        if accepted is None:
            raise TermsNotAcceptedError("user {user!r} has not accepted {kind} version {version!r} (DS-06)",
                                        values={"user": user_id, "kind": kind, "version": t.version})

    def notice(self, *, tenant: str = "default") -> dict[str, Any]:
        """What a client shows on first use: the notice text, the current agreement and the filing display text."""
        st = self.settings()
        notice = self.current("first_use_notice", tenant=tenant)
        return {"service_name": st.service_name, "first_use_notice": notice,
                "service_agreement": self.current("service_agreement", tenant=tenant, with_text=False),
                "filing_display": filing_display(st)}


def filing_display(settings: Settings) -> str | None:
    """The text a client shows in its footer/about page (DS-22): filing number and the public-information link."""
    if not settings.filing_number:
        return None
    name = f"{settings.service_name} " if settings.service_name else ""
    link = f" {settings.filing_link}" if settings.filing_link else ""
    return f"{name}算法备案号 Algorithm filing No.: {settings.filing_number}{link}"
