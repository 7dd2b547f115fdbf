"""Probes: measure the live deployment and return facts (plain JSON values) that the YAML checks judge.

A probe is ``fn(ctx, params) -> dict``; what counts as compliant (thresholds, citations, fixes) lives in
``checks/checks.yaml``, so the same facts can be judged per profile and tested as data (``checks/cases.yaml``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from synthguard.compliance import adapters
from synthguard.compliance.outputs import aigc_problems, applicable, found_in_file, samples
from synthguard.compliance.terms import covers_labeling, filing_display
from synthguard.config import Settings
from synthguard.ledger.log import Ledger
from synthguard.store.base import utcnow
from synthguard.store.compliance_tables import PolicyDocument
from synthguard.store.protocols import Units

Facts = dict[str, Any]
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Environment:
    """What the probes read of the deployment, as narrow dependencies (issue 23): units of work, the settings, the
    package version, the ledger (its size), the inspector (files re-read) and the size of a tenant's screen
    library (DS-09)."""

    units: Units
    settings: Callable[[], Settings]
    version: Callable[[], str]
    ledger: Ledger
    inspect: Callable[[Any], dict[str, Any]]
    library_size: Callable[[str], int]


@dataclass
class Context:
    """One audit run: the deployment, its settings now, the profile, the period, whose records, where the outputs
    are."""

    env: Environment
    settings: Settings
    profile: str
    since: datetime
    until: datetime
    tenant: str | None = None
    outputs: Path | None = None
    sample_size: int = 200
    cache: dict[str, Any] = field(default_factory=dict)


def marks(ctx: Context, params: dict[str, Any]) -> Facts:
    kinds, mode = list(params["kinds"]), params.get("mode", "all")
    total, smp = samples(ctx)
    checked = missing = files_checked = files_missing = 0
    examples: list[str] = []
    for x in smp:
        want = applicable(x.modality, kinds)
        if not want:
            continue
        checked += 1
        have = [k for k in want if f"{x.modality}.{k}" in x.marks]
        bad = (len(have) < len(want)) if mode == "all" else not have
        if x.inspected is not None:
            files_checked += 1
            in_file = [k for k in want if found_in_file(x.inspected, k)]
            file_bad = (len(in_file) < len(want)) if mode == "all" else not in_file
            files_missing += file_bad
            bad = bad or file_bad
        missing += bad
        if bad and len(examples) < MAX_EXAMPLES:
            examples.append(x.content_id)
    return {"records_in_period": total, "sampled": checked, "missing": missing, "files_checked": files_checked,
            "files_missing": files_missing, "examples": examples, "basis": _basis(ctx, files_checked)}


def visible_size(ctx: Context, params: dict[str, Any]) -> Facts:
    minimum = float(params.get("min_ratio", 0.05))
    total, smp = samples(ctx)
    checked = too_small = unmeasured = 0
    examples: list[str] = []
    for x in smp:
        if f"{x.modality}.visible" not in x.marks:
            continue
        ratio = (x.layout or {}).get("ratio")
        if x.inspected is not None and (x.inspected.get("visible_label") or {}).get("ratio") is not None:
            ratio = min(ratio or 1.0, float(x.inspected["visible_label"]["ratio"]))
        if ratio is None:
            unmeasured += 1
            continue
        checked += 1
        if ratio < minimum:
            too_small += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(f"{x.content_id}: {ratio:.4f}")
    return {"records_in_period": total, "measured": checked, "too_small": too_small, "unmeasured": unmeasured,
            "min_ratio": minimum, "examples": examples}


def aigc(ctx: Context, params: dict[str, Any]) -> Facts:
    total, smp = samples(ctx)
    malformed = files_checked = 0
    examples: list[str] = []
    for x in smp:
        problems = aigc_problems(x)
        files_checked += x.inspected is not None
        if problems:
            malformed += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(f"{x.content_id}: {problems[0]}")
    return {"records_in_period": total, "sampled": len(smp), "malformed": malformed, "files_checked": files_checked,
            "examples": examples, "basis": _basis(ctx, files_checked)}


def logged(ctx: Context, params: dict[str, Any]) -> Facts:
    total, smp = samples(ctx)
    bad = [f"{x.content_id}: {x.ledger_problem}" for x in smp if x.ledger_problem]
    return {"records_in_period": total, "sampled": len(smp), "unlogged": len(bad), "examples": bad[:MAX_EXAMPLES]}


def _basis(ctx: Context, files_checked: int) -> str:
    if ctx.outputs is None:
        return "records only: the files were not re-read (pass --outputs DIR to re-inspect them)"
    return f"records and {files_checked} file(s) from {ctx.outputs} re-read with sg.inspect()"


def identity(ctx: Context, params: dict[str, Any]) -> Facts:
    with ctx.env.units() as uow:
        generations = uow.compliance.period_count(ctx.since, ctx.until, ctx.tenant)
        unverified = uow.compliance.period_unverified(ctx.since, ctx.until, ctx.tenant)
    return {"identity_required": ctx.settings.identity_required, "generations": generations,
            "unverified_generations": len(unverified), "examples": unverified[:MAX_EXAMPLES]}


def _biometric(ctx: Context, params: dict[str, Any]) -> tuple[list[str], list[str]]:
    techniques = set(params.get("techniques", []))
    offered = sorted(techniques & set(ctx.settings.tool_techniques))
    with ctx.env.units() as uow:
        used = sorted(techniques & set(uow.compliance.period_distinct("technique", ctx.since, ctx.until,
                                                                      ctx.tenant)))
    return offered, used


def consent(ctx: Context, params: dict[str, Any]) -> Facts:
    """DS-15: the gate is installed, denies by default, and every face/voice edit in the period passed it."""
    offered, used = _biometric(ctx, params)
    techniques = list(params.get("techniques", []))
    with ctx.env.units() as uow:
        edits = uow.compliance.period_rows(ctx.since, ctx.until, ctx.tenant, ("content_id", "input_sha256"),
                                           techniques=techniques)
    allowed = adapters.consented_inputs(ctx.env.units, since=ctx.since - timedelta(minutes=5)) if edits else set()
    ungated = [r.content_id for r in edits if r.input_sha256 not in allowed]
    return {"biometric": bool(offered or used), "offered": offered, "used_in_period": used,
            "gate_installed": adapters.consent_gate_available(),
            "consent_required": adapters.consent_required(ctx.settings),
            "biometric_generations": len(edits), "ungated_generations": len(ungated),
            "examples": ungated[:MAX_EXAMPLES]}


def retention(ctx: Context, params: dict[str, Any]) -> Facts:
    minimum = int(params.get("min_days", 183))
    with ctx.env.units() as uow:
        purges = [json.loads(d)["body"] for d in uow.compliance.ledger_data("purge")]
    short = [p for p in purges if int(p.get("retention_days", 0)) < minimum]
    return {"retention_days": ctx.settings.log_retention_days, "min_days": minimum, "purges": len(purges),
            "short_purges": len(short)}


def checkpoints(ctx: Context, params: dict[str, Any]) -> Facts:
    with ctx.env.units() as uow:
        size = ctx.env.ledger.size(uow.session)
        row = uow.compliance.latest_checkpoint()
    age = round((ctx.until - row.created_at).total_seconds() / 3600, 2) if row else None
    return {"ledger_size": size, "checkpointed_size": row.tree_size if row else 0,
            "unanchored_entries": size - (row.tree_size if row else 0), "checkpoint_age_hours": age}


def moderation(ctx: Context, params: dict[str, Any]) -> Facts:
    data = adapters.moderation_summary(ctx.env.units, since=ctx.since, until=ctx.until, tenant=ctx.tenant)
    if data is None:
        return {"moderation_available": False}
    return {"moderation_available": True} | data


def register(ctx: Context, params: dict[str, Any]) -> Facts:
    required = list(params["kinds"])
    now = utcnow()
    with ctx.env.units() as uow:  # the last of each kind is its current version
        current: dict[str, PolicyDocument] = {d.kind: d for d in uow.compliance.policies(ctx.tenant)}
    return {"required": required, "missing": [k for k in required if k not in current],
            "overdue": [k for k in required if k in current and current[k].review_due < now],
            "versions": {k: current[k].version for k in required if k in current}}


def assessment(ctx: Context, params: dict[str, Any]) -> Facts:
    facts = consent(ctx, params)
    doc = register(ctx, {"kinds": ["security_assessment"]})
    return {"biometric": facts["biometric"], "offered": facts["offered"], "used_in_period": facts["used_in_period"],
            "assessment_registered": not doc["missing"], "assessment_overdue": bool(doc["overdue"]),
            "assessment_version": doc["versions"].get("security_assessment")}


def screen_library(ctx: Context, params: dict[str, Any]) -> Facts:
    with ctx.env.units() as uow:
        version = uow.compliance.library_version(ctx.tenant)
        prompts = uow.compliance.decision_count("prompt", ctx.since, ctx.until, ctx.tenant)
        generations = uow.compliance.period_count(ctx.since, ctx.until, ctx.tenant)
        tenants = [ctx.tenant] if ctx.tenant is not None else uow.compliance.library_tenants()
    entries = sum(ctx.env.library_size(t) for t in tenants)
    return {"library_version": version, "library_entries": entries, "prompt_screens": prompts,
            "generations": generations}


def screen_outputs(ctx: Context, params: dict[str, Any]) -> Facts:
    total, smp = samples(ctx)
    with ctx.env.units() as uow:
        screened_hashes, screened_ids = uow.compliance.screened("output", hashes=[x.output_sha256 for x in smp],
                                                                content_ids=[x.content_id for x in smp])
    missing = [x.content_id for x in smp if x.output_sha256 not in screened_hashes and x.content_id not in screened_ids]
    return {"records_in_period": total, "sampled": len(smp), "unscreened": len(missing),
            "examples": missing[:MAX_EXAMPLES]}


def terms(ctx: Context, params: dict[str, Any]) -> Facts:
    with ctx.env.units() as uow:
        versions = uow.compliance.terms_versions(ctx.tenant)
        agreements = [t for t in versions if t.kind == "service_agreement"]
        accepted = uow.compliance.acceptances()
        recs = uow.compliance.period_rows(ctx.since, ctx.until, ctx.tenant,
                                          ("content_id", "user_id", "tenant", "created_at"))
    bad: list[str] = []
    for r in recs:
        in_force = [t for t in agreements if t.tenant == r.tenant and t.published_at <= r.created_at]
        when = accepted.get((r.user_id, in_force[-1].id)) if in_force else None
        if when is None or when > r.created_at:
            bad.append(r.content_id)
    current = agreements[-1] if agreements else None
    return {"agreement_version": current.version if current else None,
            "agreement_covers_labeling": bool(current and covers_labeling(current.text)),
            "notice_published": any(t.kind == "first_use_notice" for t in versions),
            "generations": len(recs), "generations_without_acceptance": len(bad), "examples": bad[:MAX_EXAMPLES]}


def filing(ctx: Context, params: dict[str, Any]) -> Facts:
    st = ctx.settings
    return {"filing_number": st.filing_number, "filing_link": st.filing_link,
            "filing_number_set": bool(st.filing_number), "filing_link_set": bool(st.filing_link),
            "display": filing_display(st)}


def training(ctx: Context, params: dict[str, Any]) -> Facts:
    with ctx.env.units() as uow:
        used = sorted(m for m in uow.compliance.period_distinct("model", ctx.since, ctx.until, ctx.tenant) if m)
        links = uow.compliance.lineage_links(ctx.tenant)
        datasets = uow.compliance.dataset_count(ctx.tenant)
    with_lineage = {m for m, _ in links}
    no_basis = sorted({f"{m} <- {d.name}" for m, d in links if not d.legal_basis})
    no_consent = sorted({d.name for _, d in links if d.contains_pi and d.legal_basis == "consent"
                         and not d.consent_refs})
    return {"models_used": used, "unregistered_models": [m for m in used if m not in with_lineage],
            "datasets": datasets, "linked_datasets_without_basis": no_basis, "pi_consent_without_refs": no_consent}


PROBES: dict[str, Callable[[Context, dict[str, Any]], Facts]] = {
    "outputs.marks": marks, "outputs.visible_size": visible_size, "outputs.aigc": aigc, "outputs.logged": logged,
    "identity": identity, "consent": consent, "retention": retention, "checkpoints": checkpoints,
    "moderation": moderation, "register": register, "assessment": assessment, "screen.library": screen_library,
    "screen.outputs": screen_outputs, "terms": terms, "filing": filing, "training": training,
}
