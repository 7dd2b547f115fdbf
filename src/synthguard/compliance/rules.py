"""The checks as data: load and validate ``checks/checks.yaml``, and judge a probe's facts against a check.

Judging is pure (facts in, result out), so ``checks/cases.yaml`` tests every check without a deployment.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from synthguard.compliance.probes import PROBES
from synthguard.errors import ValidationError
from synthguard.i18n import N_

PROFILES = ("cn", "eu", "us")
ROW = re.compile(r"^[A-Z]{2,4}-\d{2}$")
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "empty": lambda a, _: len(a) == 0, "not_empty": lambda a, _: len(a) > 0,
}
STATUSES = ("pass", "fail", "not_applicable")
_KEYS = {"id", "title", "rows", "citation", "profiles", "probe", "params", "applies", "not_applicable", "pass",
         "evidence", "fix"}


@dataclass(frozen=True)
class Condition:
    fact: str
    op: str
    value: Any = None
    fact_ref: str | None = None

    def test(self, facts: dict[str, Any]) -> tuple[bool, str]:
        actual = facts.get(self.fact)
        want = facts.get(self.fact_ref) if self.fact_ref else self.value
        shown = self.fact_ref or _show(want)
        text = f"{self.fact} {self.op}" + ("" if self.op in ("empty", "not_empty") else f" {shown}")
        if actual is None or (self.fact_ref and want is None):
            return False, f"{text}: {self.fact} is unknown"
        try:
            ok = bool(OPS[self.op](actual, want))
        except TypeError:
            return False, f"{text}: cannot compare {_show(actual)}"
        versus = f" vs {_show(want)}" if self.fact_ref else ""
        return ok, f"{text} (actual {_show(actual)}{versus})"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    rows: tuple[str, ...]
    citation: str
    profiles: tuple[str, ...]
    probe: str
    params: dict[str, Any]
    applies: tuple[Condition, ...]
    not_applicable: str
    passes: tuple[Condition, ...]
    evidence: tuple[str, ...]
    fix: str


@dataclass
class CheckResult:
    id: str
    title: str
    status: str
    rows: list[str]
    citation: str
    evidence: dict[str, Any]
    reasons: list[str] = field(default_factory=list)
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _show(v: Any) -> str:
    """A fact as people read it: lists as "a, b" ("none" when empty), not Python reprs (issue 22)."""
    if isinstance(v, (list, tuple, set, frozenset)):
        return ", ".join(x if isinstance(x, str) else _show(x) for x in v) if v else "none"
    return "true" if v is True else "false" if v is False else repr(v) if isinstance(v, str) else str(v)


def _conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    if not isinstance(raw, list):
        raise ValidationError("{where} must be a list of conditions", values={"where": where})
    out = []
    for c in raw:
        if not isinstance(c, dict) or set(c) - {"fact", "op", "value", "fact_ref"} or "fact" not in c:
            raise ValidationError("{where}: malformed condition {condition!r}", hint="Write {fact, op, value}.",
                                  values={"where": where, "condition": c})
        if c.get("op") not in OPS:
            raise ValidationError("{where}: unknown operator {op!r}", hint=N_("Use one of: {ops}."),
                                  values={"where": where, "op": c.get("op"), "ops": ", ".join(OPS)})
        out.append(Condition(c["fact"], c["op"], c.get("value"), c.get("fact_ref")))
    return tuple(out)


def parse_checks(doc: Any, probes: set[str] | None = None) -> tuple[Check, ...]:
    """Validate the checks document; every error names the check and the field."""
    if not isinstance(doc, dict) or not isinstance(doc.get("checks"), list):
        raise ValidationError("the checks document needs a top-level 'checks' list")
    out: list[Check] = []
    for raw in doc["checks"]:
        cid = raw.get("id", "?") if isinstance(raw, dict) else "?"
        required = {"id", "title", "rows", "probe", "pass", "fix"}
        if not isinstance(raw, dict) or set(raw) - _KEYS or not required <= set(raw):
            raise ValidationError("check {cid}: unknown or missing fields",
                                  hint="Each check has id, title, rows, probe, pass and fix (see checks.yaml).",
                                  values={"cid": cid})
        rows = tuple(raw["rows"])
        if not rows or not all(isinstance(r, str) and ROW.match(r) for r in rows):
            raise ValidationError("check {cid}: rows must be REQUIREMENTS.md ids such as DS-15", values={"cid": cid})
        profiles = tuple(raw.get("profiles", PROFILES))
        if set(profiles) - set(PROFILES):
            raise ValidationError("check {cid}: unknown profile in {profiles}",
                                  values={"cid": cid, "profiles": profiles})
        if probes is not None and raw["probe"] not in probes:
            raise ValidationError("check {cid}: unknown probe {probe!r}",
                                  values={"cid": cid, "probe": raw["probe"]})
        applies = _conditions(raw.get("applies", []), f"check {cid} applies")
        if applies and not raw.get("not_applicable"):
            raise ValidationError("check {cid}: a check with 'applies' must say why it may not apply",
                                  values={"cid": cid})
        out.append(Check(cid, raw["title"], rows, raw.get("citation", ""), profiles, raw["probe"],
                         dict(raw.get("params") or {}), applies, raw.get("not_applicable", ""),
                         _conditions(raw["pass"], f"check {cid} pass"), tuple(raw.get("evidence", [])), raw["fix"]))
    ids = [c.id for c in out]
    if len(ids) != len(set(ids)):
        raise ValidationError("duplicate check ids: {duplicates}",
                              values={"duplicates": sorted({i for i in ids if ids.count(i) > 1})})
    return tuple(out)


@lru_cache(maxsize=1)
def checks() -> tuple[Check, ...]:
    text = files("synthguard.compliance").joinpath("checks", "checks.yaml").read_text(encoding="utf-8")
    return parse_checks(yaml.safe_load(text), set(PROBES))


def for_profile(profile: str) -> list[Check]:
    if profile not in PROFILES:
        raise ValidationError("unknown profile {profile!r}", hint=N_("Use one of: {profiles}."),
                              values={"profile": profile, "profiles": ", ".join(PROFILES)})
    return [c for c in checks() if profile in c.profiles]


def judge(check: Check, facts: dict[str, Any]) -> CheckResult:
    """pass / fail / not_applicable, with the facts named as evidence and the reasons for the verdict."""
    evidence = {k: facts.get(k) for k in check.evidence} if check.evidence else dict(facts)
    result = CheckResult(check.id, check.title, "pass", list(check.rows), check.citation, evidence)
    for cond in check.applies:
        ok, text = cond.test(facts)
        if not ok:
            result.status, result.reasons = "not_applicable", [check.not_applicable, text]
            return result
    tested = [cond.test(facts) for cond in check.passes]
    result.reasons = [text for _, text in tested]
    if not all(ok for ok, _ in tested):
        result.status = "fail"
        result.reasons = [text for ok, text in tested if not ok]
        result.fix = check.fix
    return result
