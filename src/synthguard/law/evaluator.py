"""The evaluator: facts + rule packs -> findings with elements, bands, aggravators, remedies, deadlines, trace.

1. Rules of the incident's jurisdictions only; a rule not in force on the incident date is ``not_in_force``
   (an incident in 2019 is never judged under the 2023 Deep Synthesis Provisions).
2. ``scope`` screens: False -> ``not_applicable`` (so irrelevant rules do not ask questions); unknown ->
   ``undetermined`` asking only for the screening facts (ask first what decides whether the rule is engaged).
3. Elements are combined with Kleene AND: ``met`` / ``not_met`` / ``undetermined`` + the facts to ask for.
4. Exceptions (``exception_to``) defeat their targets; an undetermined exception makes a met target undetermined.
5. Bands: first match, most severe first; aggravators: every match.  Thresholds come from dated parameters.
The advisory severity profile (severity.py) is computed apart and never changes a status or band.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from synthguard.errors import ValidationError
from synthguard.law.citation import render_ref
from synthguard.law.conditions import Context, Event, Result, evaluate
from synthguard.law.deadlines import compute_deadlines
from synthguard.law.rules import Library, Rule, text

TRUTH = {"met": True, "undetermined": None}  # every other status counts as False


@dataclass
class Finding:
    rule: Rule
    status: str
    elements: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    band: dict[str, Any] | None = None
    band_missing: list[str] = field(default_factory=list)
    aggravators: list[dict[str, Any]] = field(default_factory=list)
    mitigators: list[dict[str, Any]] = field(default_factory=list)
    screening: bool = False  # undetermined only because the scope is unknown
    comparative: bool = False
    on: date | None = None   # the incident date: selects the article versions cited
    fine: dict[str, Any] | None = None
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    defeated_by: list[str] = field(default_factory=list)
    trace: list[Event] = field(default_factory=list)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        r = self.rule
        assert r.instrument is not None
        return {
            "rule": r.id, "title": text(r.title, lang), "kind": r.kind, "domain": r.domain,
            "jurisdiction": r.instrument.jurisdiction, "comparative": self.comparative,
            "instrument": r.instrument.id, "citation": r.citation(lang, self.on), "issue": text(r.issue, lang) or None,
            "cites": [c.model_dump(mode="json", exclude_none=True) for c in r.cites_on(self.on)],
            "confidence": r.confidence_on(self.on),
            "requirements": r.requirements, "status": self.status, "elements": self.elements,
            "missing_facts": self.missing, "band": self.band, "band_missing_facts": self.band_missing,
            "aggravators": self.aggravators, "mitigators": self.mitigators, "screening": self.screening,
            "remedies": r.remedies if self.status == "met" else [],
            "fine": self.fine, "deadlines": self.deadlines, "defeated_by": self.defeated_by,
            "note": text(r.note, lang) or None,
            "trace": [e.to_dict() for e in self.trace],
        }


class Evaluation:
    """One incident evaluated against a library; findings are computed lazily and memoised per rule."""

    def __init__(self, lib: Library, facts: dict[str, Any], on: date, jurisdictions: list[str],
                 place: str | None = None):
        self.lib, self.facts, self.on, self.jurisdictions = lib, facts, on, set(jurisdictions)
        self.place = place or jurisdictions[0]
        self.findings: dict[str, Finding] = {}
        self._busy: set[str] = set()

    def param(self, name: str) -> tuple[Any, dict[str, str]]:
        return self.lib.param(name, self.on)

    def ctx(self, rule: Rule, events: list[Event] | None) -> Context:
        def rule_status(rid: str) -> Result:
            f = self.finding(rid)
            value = TRUTH.get(f.status, False)
            if events is not None:
                events.append(Event(rule.id, None, "rule", rid, f.status, value))
            return value, frozenset(f.missing if value is None else ())

        return Context(self.facts, self.param, rule_status, rule.id, events)

    def finding(self, rule_id: str) -> Finding:
        if rule_id in self.findings:
            return self.findings[rule_id]
        rule = self.lib.rules.get(rule_id)
        if rule is None:
            raise ValidationError("a rule refers to unknown rule {rule_id}", values={"rule_id": rule_id})
        if rule_id in self._busy:
            raise ValidationError("rule {rule_id} depends on itself",
                                  values={"rule_id": rule_id}, hint="Break the cycle in the rule packs.")
        self._busy.add(rule_id)
        try:
            f = self._evaluate(rule)
        finally:
            self._busy.discard(rule_id)
        f.comparative = rule.instrument is not None and rule.instrument.jurisdiction != self.place
        f.on = self.on
        self.findings[rule_id] = f
        return f

    def _evaluate(self, rule: Rule) -> Finding:
        assert rule.instrument is not None
        if rule.instrument.jurisdiction not in self.jurisdictions:
            return Finding(rule, "out_of_scope")
        if not rule.in_force(self.on):
            return Finding(rule, "proposed" if rule.instrument.status == "proposed" else "not_in_force")
        events: list[Event] = []
        ctx = self.ctx(rule, events)
        if rule.scope is not None:
            v, missing = evaluate(rule.scope, ctx)
            if v is False:
                return Finding(rule, "not_applicable", trace=events)
            if v is None:  # ask the screening question before the elements
                return Finding(rule, "undetermined", missing=sorted(missing), screening=True, trace=events)
        parts: list[Result] = []
        elements = {}
        for name, cond in rule.elements.items():
            v, missing = evaluate(cond, ctx)
            elements[name] = {"status": _status(v), "missing_facts": sorted(missing)}
            parts.append((v, missing))
        value, missing = _and(parts)
        f = Finding(rule, _status(value), elements, sorted(missing), trace=events)
        self._exceptions(f)
        if f.status == "met":
            self._consequences(f, ctx)
        return f

    def _exceptions(self, f: Finding) -> None:
        for exc in self.lib.exceptions_to(f.rule.id):
            e = self.finding(exc.id)
            f.trace.append(Event(f.rule.id, None, "exception", exc.id, e.status, TRUTH.get(e.status, False)))
            if e.status == "met" and f.status in ("met", "undetermined"):
                f.status, f.missing = "defeated", []
                f.defeated_by.append(exc.id)
            elif e.status == "undetermined" and f.status == "met":
                f.status, f.missing = "undetermined", sorted(set(f.missing) | set(e.missing))

    def _consequences(self, f: Finding, ctx: Context) -> None:
        rule = f.rule
        band_missing: set[str] = set()
        for band in rule.bands:
            v, missing = evaluate(band.when, ctx)
            if v is True:
                f.band = {"name": band.name, "title": band.title, "max_years": band.max_years,
                          "penalty": band.penalty, "fine": self._fine(band.fine)}
                break
            band_missing |= missing
        f.band_missing = sorted(band_missing)
        for group, out in ((rule.aggravators, f.aggravators), (rule.mitigators, f.mitigators)):
            for agg in group:
                if evaluate(agg.when, ctx)[0] is True:
                    cite = {lang: render_ref(agg.cite, lang) for lang in ("en", "zh")} if agg.cite else None
                    out.append({"id": agg.id, "title": agg.title, "advisory": agg.advisory, "cite": cite})
        f.fine = self._fine(rule.fine)
        shown = [d.id for d in rule.deadlines if d.when is None or evaluate(d.when, ctx)[0] is not False]
        f.deadlines = [d for d in compute_deadlines(rule, f.band, self.facts, self.lib, self.on) if d["id"] in shown]

    def _fine(self, spec: dict[str, Any] | None) -> dict[str, Any] | None:
        if not spec:
            return None
        out: dict[str, Any] = {}
        for k, v in spec.items():
            if isinstance(v, dict) and "param" in v:
                value, cite = self.param(v["param"])
                out[k] = value
                out.setdefault("cites", []).append(cite)
            else:
                out[k] = v
        return out


def _status(v: bool | None) -> str:
    return {True: "met", False: "not_met", None: "undetermined"}[v]


def _and(parts: list[Result]) -> Result:
    if any(v is False for v, _ in parts):
        return False, frozenset()
    unknown = [m for v, m in parts if v is None]
    return (None, frozenset().union(*unknown)) if unknown else (True, frozenset())
