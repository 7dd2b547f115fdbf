"""Adapters to modules built alongside this one: the consent gate (DS-15) and the moderation service (issue 7).

Both are read through these two functions only, so pointing the audit at their final APIs is a change here:

* consent: the package ``synthguard.consent`` (its gate runs inside ``SynthGuard.label`` when ``sources`` are
  given and logs a ``consent`` ledger entry per decision), and its policy for faces/voices of nobody enrolled
  (``consent.policy.unknown_rule``: "deny" means the gate is enforced, SYNTHGUARD_CONSENT_UNKNOWN_POLICY).
* moderation: ``synthguard.moderation.compliance_summary(units, *, since, until, tenant) -> dict`` with the keys of
  :data:`MODERATION_KEYS` when the moderation module provides it; otherwise its tables are read directly
  (``mod_cases``: complaints by deadline and action time; ``mod_refutations``: refutations by the case's
  ``report_decision``).  When the module or its tables are absent, :func:`moderation_summary` returns ``None`` and
  the complaint/refutation checks are not applicable with "no moderation data" — never a pass.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from datetime import datetime

from synthguard.config import Settings
from synthguard.consent.policy import unknown_rule
from synthguard.store.protocols import Units

MODERATION_KEYS = ("complaints", "complaints_late", "complaints_overdue_open", "refutation_cases",
                   "refutations_unreported")


def consent_gate_available() -> bool:
    try:
        return importlib.util.find_spec("synthguard.consent") is not None
    except (ImportError, ValueError):
        return False


def consent_required(settings: Settings) -> bool:
    """Whether the gate denies faces/voices without a grant (its unknown rule is "deny"); False without the gate."""
    if not consent_gate_available():
        return False
    return unknown_rule(settings) == "deny"


def consented_inputs(units: Units, *, since: datetime) -> set[str]:
    """SHA-256 of the media the consent gate allowed since ``since`` (its ``consent`` ledger entries)."""
    with units() as uow:
        bodies = [json.loads(d)["body"] for d in uow.compliance.ledger_data("consent", since=since)]
    return {b["output_input_sha256"] for b in bodies
            if b.get("event") == "check" and b.get("decision") == "allow" and b.get("output_input_sha256")}


def moderation_summary(units: Units, *, since: datetime, until: datetime, tenant: str | None
                       ) -> dict[str, int] | None:
    """Complaint-SLA and refutation figures for the period, or ``None`` when there is no moderation data."""
    if importlib.util.find_spec("synthguard.moderation") is None:
        return None
    summary = getattr(importlib.import_module("synthguard.moderation"), "compliance_summary", None)
    if summary is not None:
        data = summary(units, since=since, until=until, tenant=tenant)
        return {k: int(data.get(k, 0)) for k in MODERATION_KEYS}
    return _from_tables(units, since, until, tenant)


COMPLAINT_SOURCES = ("complaint", "victim_notice")


def _from_tables(units: Units, since: datetime, until: datetime, tenant: str | None) -> dict[str, int] | None:
    """DS-12: complaints opened in the period, late (actioned after the deadline) or overdue and still open;
    DS-11: refutations published in the period whose case was not reported to the regulator.  ``None`` when the
    moderation tables are absent."""
    with units() as uow:
        if not {"mod_cases", "mod_refutations"} <= uow.compliance.table_names():
            return None
        complaints, case_ids, decisions = uow.compliance.moderation_period(since, until, tenant, COMPLAINT_SOURCES)
    late = [c for c in complaints if c.deadline_at and c.actioned_at and c.actioned_at > c.deadline_at]
    overdue = [c for c in complaints if c.deadline_at and c.actioned_at is None and c.deadline_at < until]
    return {"complaints": len(complaints), "complaints_late": len(late), "complaints_overdue_open": len(overdue),
            "refutation_cases": len(case_ids), "refutations_unreported": sum(d != "report" for d in decisions)}
