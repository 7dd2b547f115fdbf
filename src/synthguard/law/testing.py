"""Tests as data (OpenFisca style): YAML cases per rule, scenario files, and the rule-coverage report.

A case file (``tests/law/*.yaml``)::

    base: cn_portrait                  # a named incident from bases.yaml (per file or per case)
    cases:
      - rule: CN.CC.1019.forgery
        name: face swap without consent
        set: {content.technique: [face_swap], parties.depicted.consent: none}
        unset: [content.realism]
        expect: met                    # status; optional: band, aggravators, mitigators, missing, deadlines,
                                       # comparative (true when another system's law is primary)
      - scenario: zao_2019.yaml        # a shipped example (law/examples), checked rule by rule
        expect: {CN.PIPL.29.separate_consent: not_in_force}
        reported: MIIT summoned the operator   # optional: the publicly reported outcome
        agrees: "yes: CSL 41 is met"            # optional: whether the engine agrees, and why

A rule is *reached* when some case evaluated its elements (met, not_met, undetermined or defeated); the
coverage report lists the rules never reached and the rules never met.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from synthguard.errors import ValidationError
from synthguard.law.engine import evaluate_all
from synthguard.law.incident import validate_incident
from synthguard.law.rules import Library, library

REACHED = {"met", "not_met", "undetermined", "defeated"}
EXTRA = ("band", "aggravators", "mitigators", "missing", "fine", "deadlines", "comparative")
EXAMPLES = files("synthguard.law").joinpath("examples")
TODAY = date(2026, 11, 1)  # fixed "today" so the tests do not age


@dataclass
class Case:
    file: str
    name: str
    incident: dict[str, Any]
    expect: dict[str, Any]          # rule id -> status or {status, band, aggravators, missing}
    today: date = TODAY
    reported: str | None = None     # scenario: the outcome courts, prosecutors or police reported
    agrees: str | None = None       # scenario: yes / partial / no, and why


@dataclass
class Outcome:
    case: Case
    problems: list[str]
    statuses: dict[str, str] = field(default_factory=dict)


def set_path(doc: dict[str, Any], path: str, value: Any, *, delete: bool = False) -> None:
    """Dotted path; ``parties.ROLE.field`` addresses the first party with that role (created if absent)."""
    parts = path.split(".")
    node: Any = doc
    if parts[0] == "parties" and len(parts) >= 2 and not parts[1].isdigit():
        parties = doc.setdefault("parties", [])
        match = [p for p in parties if p.get("role") == parts[1]]
        if not match:
            if delete:
                return
            parties.append({"id": parts[1], "role": parts[1]})
            match = parties[-1:]
        node, parts = match[0], parts[2:]
        if not parts:  # delete the whole party
            if delete:
                parties.remove(node)
            return
    for key in parts[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if delete:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def load_cases(directory: str | Path) -> list[Case]:
    root = Path(directory)
    bases = yaml.safe_load((root / "bases.yaml").read_text(encoding="utf-8")) if (root / "bases.yaml").exists() else {}
    out = []
    for f in sorted(root.glob("*.yaml")):
        if f.name == "bases.yaml":
            continue
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for i, c in enumerate(doc.get("cases", [])):
            out.append(_case(f.name, i, c, doc.get("base"), bases))
    return out


def _case(fname: str, i: int, c: dict[str, Any], file_base: str | None, bases: dict[str, Any]) -> Case:
    if "scenario" in c:
        incident = yaml.safe_load(EXAMPLES.joinpath(c["scenario"]).read_text(encoding="utf-8"))
        return Case(fname, c.get("name", c["scenario"]), incident, c["expect"], reported=c.get("reported"),
                    agrees=c.get("agrees"))
    base = c.get("base", file_base)
    if base not in bases:
        raise ValidationError("{fname} case {i}: unknown base {base!r}", values={"fname": fname, "i": i, "base": base})
    incident = copy.deepcopy(bases[base])
    for k, v in (c.get("set") or {}).items():
        set_path(incident, k, v)
    for k in c.get("unset") or []:
        set_path(incident, k, None, delete=True)
    expect = c["expect"] if isinstance(c["expect"], dict) and "rule" not in c else {c["rule"]: c["expect"]}
    if "rule" in c and any(k in c for k in EXTRA):
        expect = {c["rule"]: {"status": c["expect"], **{k: c[k] for k in EXTRA if k in c}}}
    return Case(fname, c.get("name", f"{c.get('rule', '')} #{i}"), incident, expect,
                c.get("today", TODAY))


def run_case(case: Case, lib: Library | None = None) -> Outcome:
    lib = lib or library()
    try:
        inc = validate_incident(case.incident, today=case.today)
    except ValidationError as exc:
        return Outcome(case, [f"invalid test incident: {exc.message}"])
    ev, _ = evaluate_all(lib, inc, case.today)
    problems = []
    for rid, want in case.expect.items():
        if rid not in lib.rules:
            problems.append(f"unknown rule {rid}")
            continue
        f = ev.finding(rid)
        want = want if isinstance(want, dict) else {"status": want}
        if f.status != want["status"]:
            problems.append(f"{rid}: status {f.status}, expected {want['status']} (missing {f.missing})")
        if "band" in want and (f.band or {}).get("name") != want["band"]:
            problems.append(f"{rid}: band {(f.band or {}).get('name')}, expected {want['band']}")
        if "aggravators" in want and sorted(a["id"] for a in f.aggravators) != sorted(want["aggravators"]):
            problems.append(f"{rid}: aggravators {[a['id'] for a in f.aggravators]}, expected {want['aggravators']}")
        if "mitigators" in want and sorted(a["id"] for a in f.mitigators) != sorted(want["mitigators"]):
            problems.append(f"{rid}: mitigators {[a['id'] for a in f.mitigators]}, expected {want['mitigators']}")
        if "deadlines" in want and sorted(d["id"] for d in f.deadlines) != sorted(want["deadlines"]):
            problems.append(f"{rid}: deadlines {[d['id'] for d in f.deadlines]}, expected {want['deadlines']}")
        if "comparative" in want and f.comparative != want["comparative"]:
            problems.append(f"{rid}: comparative {f.comparative}, expected {want['comparative']}")
        if "missing" in want and not set(want["missing"]) <= set(f.missing):
            problems.append(f"{rid}: missing facts {f.missing}, expected to include {want['missing']}")
    return Outcome(case, problems, {rid: f.status for rid, f in ev.findings.items()})


def coverage(outcomes: list[Outcome], lib: Library | None = None) -> dict[str, Any]:
    lib = lib or library()
    reached = {rid for o in outcomes for rid, s in o.statuses.items() if s in REACHED}
    met = {rid for o in outcomes for rid, s in o.statuses.items() if s == "met"}
    tested = {rid for o in outcomes for rid in o.case.expect}
    ids = sorted(lib.rules)
    return {
        "rules": len(ids), "cases": len(outcomes), "failed": sum(bool(o.problems) for o in outcomes),
        "reached": len(reached & set(ids)), "met": len(met & set(ids)),
        "percent_reached": round(100 * len(reached & set(ids)) / max(len(ids), 1), 1),
        "never_reached": [r for r in ids if r not in reached],
        "never_met": [r for r in ids if r not in met],
        "without_unit_test": [r for r in ids if r not in tested],
        "per_pack": _per_pack(lib),
    }


def _per_pack(lib: Library) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in lib.rules.values():
        assert r.instrument is not None
        key = f"{r.instrument.jurisdiction.lower()}/{r.instrument.id}"
        out[key] = out.get(key, 0) + 1
    return out


def run_directory(directory: str | Path, lib: Library | None = None) -> tuple[list[Outcome], dict[str, Any]]:
    lib = lib or library()
    outcomes = [run_case(c, lib) for c in load_cases(directory)]
    return outcomes, coverage(outcomes, lib)
