"""Moderation policy as data: ``policies/{cn,eu,us}.yaml`` -> which scan verdicts, bank matches and complaint
types lead to which actions, deadlines and escalation alerts (DS-10, DS-12, US-04, CC-10..12, DSA-06).

A policy is validated when loaded (unknown actions, reason codes or complaint types are errors naming the
file), so a typo cannot silently switch off a duty.  Its YAML test cases live beside it
(``policies/<j>.cases.yaml``) and run through :func:`run_cases`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from synthguard.errors import ValidationError
from synthguard.i18n import N_
from synthguard.limits import check_expansion
from synthguard.moderation.staydown import policy_banks

JURISDICTIONS = ("cn", "eu", "us")
CASE_ACTIONS = ("label", "notice", "refute", "restrict", "remove", "escalate", "dismiss")
SCAN_ACTIONS = ("block", "label", "restrict", "review")
FIELDS = ("name", "email", "signature", "good_faith", "location", "description", "identity")

if TYPE_CHECKING:
    from synthguard.config import Settings


@dataclass(frozen=True)
class ComplaintType:
    id: str
    title: str
    category: str
    takedown: bool
    required: tuple[str, ...]
    deadline_hours: float
    priority: int
    actions: tuple[str, ...]
    dsa: dict[str, str]
    cite: tuple[str, ...]
    roles: tuple[str, ...] = ()  # empty: anyone, without an account (DS-12, DSA-01)


@dataclass(frozen=True)
class ScanRule:
    id: str
    bank: tuple[str, ...]
    verdict: tuple[str, ...]
    actions: tuple[str, ...]
    case_kind: str | None
    reason: str | None
    cite: tuple[str, ...]

    def matches(self, verdict: str, banks: set[str]) -> bool:
        return bool((self.bank and banks & set(self.bank)) or (self.verdict and verdict in self.verdict))


# The EEA states the DSA Transparency Database accepts in territorial_scope (EU 27, Iceland, Liechtenstein, Norway).
EEA = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
       "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK")


@dataclass(frozen=True)
class Policy:
    jurisdiction: str
    version: str
    title: str
    timely_hours: float
    alerts: tuple[float, ...]
    counter_notice_days: float
    appeal_window_days: float
    reason_codes: dict[str, dict[str, Any]]
    complaint_types: dict[str, ComplaintType]
    scan: tuple[ScanRule, ...] = field(default_factory=tuple)
    territorial_scope: tuple[str, ...] = EEA  # where a measure applies: DSA Art. 17(3)(a), ISO 3166-1 alpha-2

    def complaint(self, kind: str) -> ComplaintType:
        if kind not in self.complaint_types:
            raise ValidationError("unknown complaint type {kind!r} in the {jurisdiction} policy",
                                  values={"kind": kind, "jurisdiction": self.jurisdiction,
                                          "complaint_types": ", ".join(self.complaint_types)},
                                  hint=N_("Use one of: {complaint_types}."))
        return self.complaint_types[kind]

    def deadline(self, kind: str, start: datetime) -> datetime:
        return start + timedelta(hours=self.complaint(kind).deadline_hours)

    def alert_times(self, kind: str, start: datetime) -> list[tuple[str, datetime]]:
        """Escalation alerts (id, when): e.g. 24 h and 36 h into a 48 h deadline (US-04)."""
        hours = self.complaint(kind).deadline_hours
        return [(f"alert-{int(f * 100)}", start + timedelta(hours=hours * f)) for f in self.alerts] + \
            [("overdue", start + timedelta(hours=hours))]

    def on_scan(self, verdict: str, banks: set[str]) -> list[ScanRule]:
        """Every scan rule a verdict and the matched (enabled) banks trigger, in policy order."""
        return [r for r in self.scan if r.matches(verdict, banks)]

    def check_reason(self, code: str) -> dict[str, Any]:
        if code not in self.reason_codes:
            raise ValidationError("unknown reason code {code!r}",
                                  values={"code": code, "reason_codes": ", ".join(self.reason_codes)},
                                  hint=N_("Every action needs one of: {reason_codes}."))
        return self.reason_codes[code]


def _tuple(v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    return tuple(v) if isinstance(v, list) else (v,)


def parse(doc: dict[str, Any], source: str = "<policy>") -> Policy:
    """Build and validate a policy from its YAML mapping; a wrong type anywhere is a ValidationError (fuzzed)."""
    check_expansion(doc, what=f"policy {source}")  # billion laughs: str() of the value was exponential
    try:
        return _parse(doc, source)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValidationError("{source}: malformed policy ({exc_type}: {exc})",
                              hint="Fix the moderation policy YAML (see docs/moderation.md).",
                              values={"source": source, "exc_type": type(exc).__name__, "exc": exc}) from exc


def _parse(doc: dict[str, Any], source: str) -> Policy:
    def bad(message: str, **values: Any) -> ValidationError:
        """``message`` is a template over ``source`` (the file) and ``values``."""
        return ValidationError(message, hint="Fix the moderation policy YAML (see docs/moderation.md).",
                               values={"source": source, **values})

    if not isinstance(doc, dict) or doc.get("jurisdiction") not in JURISDICTIONS:
        raise bad(N_("{source}: 'jurisdiction' must be one of {jurisdictions}"), jurisdictions=JURISDICTIONS)
    d = doc.get("defaults") or {}
    timely = float(d.get("timely_hours", 72))
    alerts = tuple(float(a) for a in d.get("alerts", [0.5, 0.75]))
    if not all(0 < a < 1 for a in alerts):
        raise bad(N_("{source}: alerts are fractions of the deadline between 0 and 1"))
    reasons = doc.get("reason_codes") or {}
    types: dict[str, ComplaintType] = {}
    for tid, t in (doc.get("complaint_types") or {}).items():
        hours = timely if t.get("deadline_hours") == "timely" else t.get("deadline_hours")
        if not isinstance(hours, (int, float)) or hours <= 0:
            raise bad(N_("{source}: complaint type {tid}: deadline_hours must be a positive number or 'timely'"),
                      tid=tid)
        actions = _tuple(t.get("actions"))
        unknown = [a for a in actions if a not in CASE_ACTIONS]
        req = _tuple(t.get("required"))
        if unknown or not actions:
            raise bad(N_("{source}: complaint type {tid}: unknown or missing actions {unknown}"), tid=tid,
                      unknown=unknown)
        if any(f not in FIELDS for f in req):
            raise bad(N_("{source}: complaint type {tid}: unknown required field in {req}"), tid=tid, req=req)
        if t.get("takedown") and not {"name", "email", "good_faith"} <= set(req):
            raise bad(N_("{source}: complaint type {tid}: a takedown needs identity and a good-faith statement "
                      "(CC-10, US-02)"), tid=tid)
        types[tid] = ComplaintType(tid, str(t.get("title", tid)), str(t["category"]), bool(t.get("takedown")), req,
                                   float(hours), int(t.get("priority", 0)), actions, dict(t.get("dsa") or {}),
                                   _tuple(t.get("cite")), _tuple(t.get("roles")))
    rules = []
    for r in doc.get("scan") or []:
        when = r.get("when") or {}
        acts = _tuple(r.get("actions"))
        if any(a not in SCAN_ACTIONS for a in acts):
            raise bad(N_("{source}: scan rule {rule}: actions must be among {actions}"), rule=r.get("id"),
                      actions=SCAN_ACTIONS)
        kind = (r.get("case") or {}).get("kind")
        if kind is not None and kind not in types:
            raise bad(N_("{source}: scan rule {rule}: case kind {kind!r} is not a complaint type"), rule=r.get("id"),
                      kind=kind)
        if r.get("reason") is not None and r["reason"] not in reasons:
            raise bad(N_("{source}: scan rule {rule}: unknown reason {reason!r}"), rule=r.get("id"), reason=r["reason"])
        rules.append(ScanRule(str(r["id"]), _tuple(when.get("bank")), _tuple(when.get("verdict")), acts, kind,
                              r.get("reason"), _tuple(r.get("cite"))))
    scope = _tuple(d.get("territorial_scope")) or EEA
    if any(c not in EEA for c in scope):
        raise bad(N_("{source}: territorial_scope must be EEA country codes ({eea}), got {scope}"), eea=", ".join(EEA),
                  scope=list(scope))
    for code, r in reasons.items():
        if not isinstance(r, dict) or not isinstance(r.get("text", ""), str) or not isinstance(r.get("law", ""), str):
            raise bad(N_("{source}: reason code {code}: text and law must be strings"), code=code)
    return Policy(doc["jurisdiction"], str(doc.get("version", "")), str(doc.get("title", "")), timely, alerts,
                  float(d.get("counter_notice_days", 15)), float(d.get("appeal_window_days", 183)), dict(reasons),
                  types, tuple(rules), scope)


@lru_cache(maxsize=8)
def load(jurisdiction: str) -> Policy:
    """The shipped policy for ``cn``, ``eu`` or ``us`` (the ``none`` profile falls back to ``cn``)."""
    j = "cn" if jurisdiction == "none" else jurisdiction
    if j not in JURISDICTIONS:
        raise ValidationError("no moderation policy for {jurisdiction!r}", hint=N_("Use one of {JURISDICTIONS}."),
                              values={"jurisdiction": jurisdiction, "JURISDICTIONS": JURISDICTIONS})
    text = files("synthguard").joinpath("policies", f"{j}.yaml").read_text(encoding="utf-8")
    return parse(yaml.safe_load(text), f"policies/{j}.yaml")


@lru_cache(maxsize=8)
def load_file(path: Path, mtime: float) -> Policy:
    """An operator's own policy file (``moderation_policy`` setting); reloaded when the file changes."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError("cannot read the moderation policy {path}: {exc}",
                              hint="Fix SYNTHGUARD_MODERATION_POLICY or the file it names.",
                              values={"path": path, "exc": exc}) from None
    return parse(doc, str(path))


def for_settings(settings: Settings) -> Policy:
    """The policy in force: the operator's file when ``moderation_policy`` is set, else the profile's."""
    path = settings.moderation_policy
    if path:
        p = Path(path)
        if not p.is_file():
            raise ValidationError("the moderation policy file {path} does not exist",
                                  hint="Fix SYNTHGUARD_MODERATION_POLICY (a YAML file like policies/cn.yaml).",
                                  values={"path": p})
        return load_file(p, p.stat().st_mtime)
    return load(settings.profile_defaults().moderation_jurisdiction)


def scan_actions(settings: Any, verdict: str, matches: list[dict[str, Any]], tenant: str | None = None
                 ) -> list[dict[str, Any]]:
    """The policy's blocking and restricting decisions for one scan (stay-down: CC-12, US-04, US-09).

    Labels and reviews are already in the scan's own actions; this adds what only the policy decides.
    ``settings`` may also be a profile name."""
    policy = load(settings) if isinstance(settings, str) else for_settings(settings)
    banks = policy_banks({str(m.get("bank")) for m in matches}, tenant)
    out = []
    for rule in policy.on_scan(verdict, banks):
        for act in rule.actions:
            if act in ("block", "restrict"):
                out.append({"action": act, "rule": rule.id, "policy": f"{policy.jurisdiction}@{policy.version}",
                            "reason": rule.reason, "banks": sorted(banks & set(rule.bank)),
                            "citations": [{"row": c} for c in rule.cite]})
    return out


def run_cases(doc: dict[str, Any]) -> list[str]:
    """Run a YAML case file (``policies/<j>.cases.yaml``); returns the failures (empty when all pass).

    A case is either ``scan: {verdict, banks}`` expecting ``actions`` and ``case_kind``, or
    ``complaint: TYPE`` expecting ``deadline_hours``, ``alerts_hours``, ``takedown``, ``required``, ``actions``."""
    policy = load(doc["policy"])
    failures: list[str] = []
    start = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    for i, case in enumerate(doc.get("cases") or []):
        name = case.get("name", f"case {i}")
        exp = case["expect"]
        got: dict[str, Any] = {}
        if "scan" in case:
            rules = policy.on_scan(case["scan"].get("verdict", "none"), set(case["scan"].get("banks", [])))
            got = {"actions": sorted({a for r in rules for a in r.actions}),
                   "case_kind": next((r.case_kind for r in rules if r.case_kind), None),
                   "rules": [r.id for r in rules]}
        else:
            t = policy.complaint(case["complaint"])
            got = {"deadline_hours": t.deadline_hours, "takedown": t.takedown, "required": sorted(t.required),
                   "actions": sorted(t.actions), "category": t.category,
                   "alerts_hours": [round((w - start).total_seconds() / 3600, 2)
                                    for _, w in policy.alert_times(t.id, start)],
                   "dsa_category": t.dsa.get("category")}
        for key, want in exp.items():
            have = got.get(key)
            if isinstance(want, list) and key != "alerts_hours":
                want = sorted(want)
            if have != want:
                failures.append(f"{doc['policy']}: {name}: {key} = {have!r}, expected {want!r}")
    return failures


__all__ = ["CASE_ACTIONS", "ComplaintType", "JURISDICTIONS", "Policy", "SCAN_ACTIONS", "ScanRule", "for_settings",
           "load", "load_file", "parse", "run_cases", "scan_actions"]
