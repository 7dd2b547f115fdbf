"""The checks are data (checks.yaml) and so are their tests (cases.yaml): validation, verdicts, coverage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from synthguard.compliance import rules
from synthguard.compliance.assessment import risks
from synthguard.compliance.common import parse_since
from synthguard.compliance.probes import PROBES
from synthguard.compliance.testing import cases, coverage, run_cases
from synthguard.errors import ValidationError

REQUIREMENTS = Path(__file__).resolve().parents[1] / "docs" / "REQUIREMENTS.md"


def test_every_yaml_case_gives_the_expected_verdict():
    assert run_cases() == []
    assert len(cases()) >= 2 * len(rules.checks())


def test_every_check_has_a_passing_and_a_failing_case():
    assert coverage() == {"no_pass_case": [], "no_fail_case": []}


def test_every_check_cites_rows_that_exist_in_the_requirements_matrix():
    if not REQUIREMENTS.exists():
        pytest.fail(f"missing {REQUIREMENTS}: docs/REQUIREMENTS.md is part of the repository")
    ids = set(re.findall(r"^\| ([A-Z]{2,4}-\d{2}) \|", REQUIREMENTS.read_text(encoding="utf-8"), re.M))
    for check in rules.checks():
        assert set(check.rows) <= ids, (check.id, set(check.rows) - ids)
        assert check.fix and check.title and check.probe in PROBES
    for risk in risks():
        assert set(risk["rows"]) <= ids, risk["id"]


def test_profiles_select_their_checks():
    cn = {c.id for c in rules.for_profile("cn")}
    eu = {c.id for c in rules.for_profile("eu")}
    assert {"labels.explicit", "identity.enforced", "filing.displayed", "retention.logs"} <= cn
    assert "labels.machine_readable" in eu and "filing.displayed" not in eu
    with pytest.raises(ValidationError, match="unknown profile"):
        rules.for_profile("xx")


def test_judge_explains_fail_and_not_applicable():
    check = next(c for c in rules.checks() if c.id == "retention.logs")
    r = rules.judge(check, {"retention_days": 30, "short_purges": 0, "purges": 0, "min_days": 183})
    assert r.status == "fail" and r.reasons == ["retention_days >= 183 (actual 30)"] and r.fix
    assert r.evidence == {"retention_days": 30, "min_days": 183, "purges": 0, "short_purges": 0}
    r = rules.judge(check, {"retention_days": None, "short_purges": 0})
    assert r.status == "fail" and "unknown" in r.reasons[0]  # a missing fact never passes
    na = next(c for c in rules.checks() if c.id == "labels.explicit")
    r = rules.judge(na, {"sampled": 0})
    assert r.status == "not_applicable" and r.fix is None


@pytest.mark.parametrize("doc, message", [
    ({}, "top-level 'checks'"),
    ({"checks": [{"id": "x", "title": "t", "rows": ["DS-1"], "probe": "identity", "pass": [], "fix": "f"}]},
     "REQUIREMENTS.md ids"),
    ({"checks": [{"id": "x", "title": "t", "rows": ["DS-07"], "probe": "nope", "pass": [], "fix": "f"}]},
     "unknown probe"),
    ({"checks": [{"id": "x", "title": "t", "rows": ["DS-07"], "probe": "identity", "fix": "f",
                  "pass": [{"fact": "a", "op": "~"}]}]}, "unknown operator"),
    ({"checks": [{"id": "x", "title": "t", "rows": ["DS-07"], "probe": "identity", "fix": "f", "pass": [],
                  "applies": [{"fact": "a", "op": "==", "value": 1}]}]}, "why it may not apply"),
    ({"checks": [{"id": "x", "title": "t", "rows": ["DS-07"], "probe": "identity", "fix": "f", "pass": [],
                  "profile": ["cn"]}]}, "unknown or missing"),
    ({"checks": [{"id": "x", "title": "t", "rows": ["DS-07"], "probe": "identity", "fix": "f", "pass": []}] * 2},
     "duplicate"),
])
def test_malformed_checks_are_rejected_with_the_check_named(doc, message):
    with pytest.raises(ValidationError, match=message):
        rules.parse_checks(doc, set(PROBES))


def test_shipped_yaml_round_trips():
    from importlib.resources import files

    doc = yaml.safe_load(files("synthguard.compliance").joinpath("checks", "checks.yaml").read_text("utf-8"))
    assert len(rules.parse_checks(doc, set(PROBES))) == len(doc["checks"]) >= 19


@pytest.mark.parametrize("value, days", [("30d", 30), ("12h", 0.5), ("2w", 14)])
def test_since_parses(value, days):
    assert parse_since(value).total_seconds() == days * 86400


@pytest.mark.parametrize("value", ["", "30", "0d", "30 days", "-3d", "3y"])
def test_bad_since_is_a_clear_error(value):
    with pytest.raises(ValidationError, match="period") as exc:
        parse_since(value)
    assert "30d" in exc.value.hint
