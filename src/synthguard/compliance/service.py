"""The compliance service object behind ``sg.compliance`` (CLI and HTTP share it), built from narrow dependencies.

Issue 23: the composition root (``SynthGuard.compliance``) hands it a :class:`ComplianceDeps` — units of work, the
ledger, the settings and a few callables — never the core itself, and it builds its parts from the subsets each
needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from synthguard.compliance.assessment import build
from synthguard.compliance.audit import Audit, run
from synthguard.compliance.common import UserRef
from synthguard.compliance.probes import Environment
from synthguard.compliance.register import Register
from synthguard.compliance.screen import ConsentCheck, Screen
from synthguard.compliance.switches import Switches
from synthguard.compliance.terms import Account, Terms
from synthguard.compliance.training import Training
from synthguard.config import Settings
from synthguard.fingerprint.banks import Banks
from synthguard.ledger.log import Ledger
from synthguard.media import Media
from synthguard.store.protocols import Units


@dataclass(frozen=True)
class ComplianceDeps:
    """What provider compliance needs of the deployment (issue 23).

    ``units`` opens a transaction (``uow.compliance``, ``uow.users``; ``uow.session`` only for the ledger);
    ``user_ref`` pseudonymises actors and users for the ledger; ``account`` finds a tenant's account (finding 13);
    ``media``, ``inspect``, ``banks`` and ``consent_check`` serve the screen of reference media and outputs
    (DS-08/09, DS-15); ``settings`` and ``version`` describe the service in the audit and the assessment."""

    units: Units
    ledger: Ledger
    settings: Callable[[], Settings]
    version: Callable[[], str]
    user_ref: UserRef
    account: Account
    media: Callable[[Any], Media]
    inspect: Callable[[Any], dict[str, Any]]
    banks: Callable[[], Banks]
    consent_check: ConsentCheck


class Compliance:
    """Audit, assessment and the registers (DS-05..09, DS-14, DS-17); each part gets only what it uses."""

    def __init__(self, deps: ComplianceDeps):
        units, ledger, user_ref = deps.units, deps.ledger, deps.user_ref
        self.units, self.ledger, self.settings = units, ledger, deps.settings
        self.switches = Switches(units, ledger, user_ref)
        self.register = Register(units, ledger, user_ref)
        self.training = Training(units, ledger, user_ref)
        self.terms = Terms(units, ledger, user_ref, settings=deps.settings, account=deps.account)
        self.screen = Screen(units, ledger, user_ref, media=deps.media, inspect=deps.inspect, banks=deps.banks,
                             consent_check=deps.consent_check)
        self.environment = Environment(units, deps.settings, deps.version, ledger, deps.inspect,
                                       library_size=lambda tenant: len(self.screen.entries(tenant=tenant)))

    def check(self, *, profile: str | None = None, since: str | timedelta = "30d", tenant: str | None = None,
              outputs: str | Path | None = None, sample_size: int = 200, record: bool = False) -> Audit:
        """Audit the deployment (see :mod:`synthguard.compliance.audit`).

        ``record=True`` appends the outcome to the ledger (kind ``feature``, event ``compliance_audit``): dated,
        tamper-evident proof that the provider audited itself (PI-21: absence of fault must be provable)."""
        audit = run(self.environment, profile=profile, since=since, tenant=tenant, outputs=outputs,
                    sample_size=sample_size)
        if record:
            with self.units() as uow:
                entry = self.ledger.append(uow.session, "feature", {
                    "event": "compliance_audit", "profile": audit.profile, "since": audit.since,
                    "until": audit.until, "tenant": audit.tenant, "summary": audit.summary,
                    "failed": [r.id for r in audit.results if r.status == "fail"],
                    "files_reinspected": audit.outputs is not None})
            audit.ledger_index = entry.index
        return audit

    def assessment(self, *, since: str | timedelta = "30d", tenant: str | None = None,
                   outputs: str | Path | None = None) -> dict[str, Any]:
        """The DS Art. 15 security assessment of the face/voice tools (see :mod:`.assessment`)."""
        audit = self.check(profile="cn", since=since, tenant=tenant, outputs=outputs)
        return build(audit, settings=self.settings(), documents=self.register.documents(tenant=audit.tenant),
                     switches=self.switches.list(tenant=audit.tenant))
