"""Run the profile's checks against the live deployment: probes measure, the YAML checks judge (issue 11)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from synthguard.compliance.common import parse_since
from synthguard.compliance.probes import PROBES, Context, Environment
from synthguard.compliance.rules import CheckResult, for_profile, judge
from synthguard.config import Settings
from synthguard.errors import ValidationError
from synthguard.i18n import N_
from synthguard.store.base import utcnow
from synthguard.times import iso

MAX_SAMPLE = 10_000


@dataclass
class Audit:
    profile: str
    since: str
    until: str
    tenant: str | None
    outputs: str | None
    service: dict[str, Any]
    results: list[CheckResult] = field(default_factory=list)
    ledger_index: int | None = None  # set when the audit was recorded in the ledger

    @property
    def summary(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in ("pass", "fail", "not_applicable")}

    @property
    def ok(self) -> bool:
        return not any(r.status == "fail" for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "since": self.since, "until": self.until, "tenant": self.tenant,
                "outputs": self.outputs, "service": self.service, "ok": self.ok, "summary": self.summary,
                "ledger_index": self.ledger_index, "checks": [r.to_dict() for r in self.results]}


def service_info(st: Settings, version: str) -> dict[str, Any]:
    return {"service_name": st.service_name, "producer": st.producer, "filing_number": st.filing_number,
            "filing_link": st.filing_link, "tool_description": st.tool_description,
            "tool_techniques": list(st.tool_techniques), "synthguard_version": version}


def run(env: Environment, *, profile: str | None = None, since: str | timedelta = "30d", tenant: str | None = None,
        outputs: str | Path | None = None, sample_size: int = 200, only: list[str] | None = None) -> Audit:
    """Audit the deployment (``env``: what the probes read) over the period ``since`` (e.g. ``30d``) ending now."""
    if not 1 <= sample_size <= MAX_SAMPLE:
        raise ValidationError("sample size {sample_size} is out of range",
                              hint=N_("Sample between 1 and {MAX_SAMPLE} outputs (the audit samples evenly)."),
                              values={"sample_size": sample_size, "MAX_SAMPLE": MAX_SAMPLE})
    settings = env.settings()
    profile = profile or settings.profile_defaults().compliance_profile
    chosen = for_profile(profile)
    if only:
        chosen = [c for c in chosen if c.id in only]
    until = utcnow()
    ctx = Context(env, settings, profile, until - parse_since(since), until, tenant,
                  Path(outputs) if outputs is not None else None, sample_size)
    audit = Audit(profile, iso(ctx.since) or "", iso(until) or "", tenant, str(outputs) if outputs else None,
                  service_info(settings, env.version()))
    facts_by_probe: dict[tuple[str, str], dict[str, Any]] = {}
    for check in chosen:
        key = (check.probe, repr(sorted(check.params.items())))
        if key not in facts_by_probe:
            facts_by_probe[key] = PROBES[check.probe](ctx, check.params)
        audit.results.append(judge(check, facts_by_probe[key]))
    return audit
