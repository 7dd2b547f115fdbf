"""Tests as data for the checks (OpenFisca style): run ``checks/cases.yaml`` and report coverage.

A case gives a check id, the facts a probe would report and the expected verdict; :func:`coverage` lists the
checks lacking a passing or a failing case, so a new check cannot ship untested.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml

from synthguard.compliance.rules import checks, judge


def cases() -> list[dict[str, Any]]:
    text = files("synthguard.compliance").joinpath("checks", "cases.yaml").read_text(encoding="utf-8")
    return list(yaml.safe_load(text)["cases"])


def run_cases() -> list[str]:
    """Problems: unknown check ids and verdicts that differ from the expectation (empty when all pass)."""
    by_id = {c.id: c for c in checks()}
    problems = []
    for case in cases():
        check = by_id.get(case["check"])
        if check is None:
            problems.append(f"{case['name']}: unknown check {case['check']!r}")
            continue
        got = judge(check, case["facts"])
        if got.status != case["expect"]:
            problems.append(f"{case['check']} / {case['name']}: expected {case['expect']}, got {got.status} "
                            f"({'; '.join(got.reasons)})")
    return problems


def coverage() -> dict[str, list[str]]:
    """Checks without a passing case and checks without a failing case."""
    seen: dict[str, set[str]] = {c.id: set() for c in checks()}
    for case in cases():
        seen.setdefault(case["check"], set()).add(case["expect"])
    return {"no_pass_case": sorted(k for k, v in seen.items() if "pass" not in v),
            "no_fail_case": sorted(k for k, v in seen.items() if "fail" not in v)}
