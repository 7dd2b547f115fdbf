"""The compliance service object behind ``sg.compliance`` (CLI and HTTP share it)."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from synthguard.compliance.assessment import build
from synthguard.compliance.audit import Audit, run
from synthguard.compliance.register import Register
from synthguard.compliance.screen import Screen
from synthguard.compliance.switches import Switches
from synthguard.compliance.terms import Terms
from synthguard.compliance.training import Training


class Compliance:
    def __init__(self, sg: Any):
        self.sg = sg

    @cached_property
    def switches(self) -> Switches:
        return Switches(self.sg)

    @cached_property
    def register(self) -> Register:
        return Register(self.sg)

    @cached_property
    def screen(self) -> Screen:
        return Screen(self.sg)

    @cached_property
    def terms(self) -> Terms:
        return Terms(self.sg)

    @cached_property
    def training(self) -> Training:
        return Training(self.sg)

    def check(self, *, profile: str | None = None, since: str | timedelta = "30d", tenant: str | None = None,
              outputs: str | Path | None = None, sample_size: int = 200, record: bool = False) -> Audit:
        """Audit the deployment (see :mod:`synthguard.compliance.audit`).

        ``record=True`` appends the outcome to the ledger (kind ``feature``, event ``compliance_audit``): dated,
        tamper-evident proof that the provider audited itself (PI-21: absence of fault must be provable)."""
        audit = run(self.sg, profile=profile, since=since, tenant=tenant, outputs=outputs, sample_size=sample_size)
        if record:
            with self.sg.db.session() as s:
                entry = self.sg.ledger.append(s, "feature", {
                    "event": "compliance_audit", "profile": audit.profile, "since": audit.since,
                    "until": audit.until, "tenant": audit.tenant, "summary": audit.summary,
                    "failed": [r.id for r in audit.results if r.status == "fail"],
                    "files_reinspected": audit.outputs is not None})
            audit.ledger_index = entry.index
        return audit

    def assessment(self, *, since: str | timedelta = "30d", tenant: str | None = None,
                   outputs: str | Path | None = None) -> dict[str, Any]:
        """The DS Art. 15 security assessment of the face/voice tools (see :mod:`.assessment`)."""
        return build(self.sg, self.check(profile="cn", since=since, tenant=tenant, outputs=outputs))
