"""``assess(incident)``: the one entry point CLI, HTTP and the moderation case share.

Returns a JSON-ready dict: the incident header, every finding (provision, status, elements, band,
aggravators, remedies, fine, deadlines, citations, trace), the facts still to ask for (and which rules
ask), and the advisory severity profile, kept apart from the statutory findings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import yaml

from synthguard.law.conditions import Context, evaluate
from synthguard.law.derive import derive
from synthguard.law.evaluator import Evaluation, Finding
from synthguard.law.facts import Incident, namespace
from synthguard.law.incident import validate_incident
from synthguard.law.rules import PACKS, Library, library

FORMAT = "synthguard.assessment/1"
STATUS_ORDER = ["met", "undetermined", "defeated", "not_met", "not_applicable", "not_in_force", "proposed"]
DISCLAIMER = {
    "en": "Automated, advisory analysis of the facts as stated. It is not legal advice; a lawyer must check "
          "the facts, the current text of each provision and any local thresholds before relying on it.",
    "zh": "本报告系依据所述事实自动生成的参考性分析，不构成法律意见；使用前须由律师核实事实、现行条文及地方标准。"}


def evaluate_all(lib: Library, inc: Incident, today: date) -> tuple[Evaluation, dict[str, Any]]:
    facts = namespace(inc, today)
    facts["derived"] = derive(facts, lib, inc.date)
    ev = Evaluation(lib, facts, inc.date, list(inc.jurisdictions), inc.place)
    for rid in lib.rules:
        ev.finding(rid)
    return ev, facts


def assess(incident: Incident | dict[str, Any], *, lang: str = "en", lib: Library | None = None,
           today: date | None = None, trace: bool = True) -> dict[str, Any]:
    today = today or datetime.now(UTC).date()
    inc = incident if isinstance(incident, Incident) else validate_incident(incident, today=today)
    lib = lib or library()
    ev, facts = evaluate_all(lib, inc, today)
    shown = [f for f in ev.findings.values() if f.status != "out_of_scope"]
    shown.sort(key=lambda f: (f.comparative, STATUS_ORDER.index(f.status),
                              f.rule.instrument.jurisdiction, f.rule.id))  # type: ignore[union-attr]
    findings = [f.to_dict(lang) for f in shown if f.rule.kind == "provision"]
    if not trace:
        for f in findings:
            f.pop("trace")
    summary = {s: sum(f["status"] == s for f in findings) for s in STATUS_ORDER}
    derived = facts.pop("derived")
    return {
        "format": FORMAT,
        "lang": lang,
        "incident": {"id": inc.id, "title": inc.title, "summary": inc.summary, "date": inc.date.isoformat(),
                     "place": inc.place or inc.jurisdictions[0],
                     "assessed_on": (inc.assessed_on or today).isoformat(),
                     "jurisdictions": list(inc.jurisdictions), "sources": inc.sources},
        "parties": [p.model_dump(mode="json", exclude_none=True) for p in inc.parties],
        "facts": {k: _jsonable(v) for k, v in facts.items() if v not in (None, [])},
        "derived": {k: v.get(lang) or v["en"] for k, v in derived.items()},
        "assessed": {k: a.model_dump(mode="json", exclude_none=True) for k, a in inc.assessed.items()},
        "summary": summary,
        "findings": findings,
        "predicates": [{"rule": f.rule.id, "status": f.status, "missing_facts": f.missing}
                       for f in shown if f.rule.kind != "provision"],
        "missing_facts": missing_facts(shown),
        "severity": severity(facts, lang),
        "disclaimer": DISCLAIMER.get(lang, DISCLAIMER["en"]),
    }


def missing_facts(findings: list[Finding]) -> list[dict[str, Any]]:
    """The facts to ask for, the most decisive first.

    ``ask_first``: screening facts (one answer can close a whole rule) and facts several provisions wait on,
    ordered by how many findings they decide.  The rest are grouped under the one provision that needs them,
    so a video-call fraud first asks whether the content was sexual, not for every obscenity threshold.
    """
    asked: dict[str, set[str]] = {}
    screens: set[str] = set()
    for f in findings:
        if f.rule.kind == "provision" and f.status == "undetermined":
            for fact in f.missing:
                asked.setdefault(fact, set()).add(f.rule.id)
            if f.screening:
                screens |= set(f.missing)
        if f.status == "met":
            for fact in f.band_missing:
                asked.setdefault(fact, set()).add(f.rule.id)
    out = [{"fact": k, "rules": sorted(v), "screening": k in screens,
            "group": "ask_first" if k in screens or len(v) > 1 else sorted(v)[0]} for k, v in asked.items()]
    return sorted(out, key=lambda m: (m["group"] != "ask_first", -len(m["rules"]) if m["group"] == "ask_first" else 0,
                                      not m["screening"], m["group"], m["fact"]))


@lru_cache(maxsize=1)
def severity_spec() -> dict[str, Any]:
    return yaml.safe_load(PACKS.joinpath("severity.yaml").read_text(encoding="utf-8"))


def severity(facts: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Advisory profile (CC 998): realism, exploitation, harm, dissemination, vulnerability -> high/medium/low."""
    spec = severity_spec()
    ctx = Context(facts, lambda n: (None, None), lambda r: (None, frozenset()), "severity", None)
    out: dict[str, Any] = {"advisory": True, "cites": [c.get(lang) or c["en"] for c in spec["cites"]],
                           "factors": {}}
    for name, factor in spec["factors"].items():
        level, ask = "unknown", set[str]()
        for lv in factor["levels"]:
            v, missing = evaluate(lv["when"], ctx)
            if v is True:
                level, ask = lv["level"], set[str]()
                break
            ask |= missing
        out["factors"][name] = {"title": factor["title"].get(lang) or factor["title"]["en"], "level": level,
                                "missing_facts": sorted(ask)}
    return out


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v
