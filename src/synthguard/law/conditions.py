"""Three-valued conditions over the fact namespace, with a trace event for every comparison.

A condition is YAML data::

    {fact: dissemination.views, gte: {param: cn.crim.246.views_serious}}   # leaf; RHS may be {fact: ...}
    {all: [...]}  {any: [...]}  {not: {...}}  {at_least: 2, of: [...]}      # Kleene connectives
    {rule: CN.CC.1019.forgery}                                             # another rule's status

A leaf whose fact is absent is ``None`` (unknown) and reports the fact as missing.  ``all`` is False as soon
as one part is False, so facts that cannot change the outcome are never asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from synthguard.errors import ValidationError
from synthguard.i18n import N_

Tri = bool | None
Result = tuple[Tri, frozenset[str]]
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
    "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
    "contains": lambda a, b: b in a, "contains_any": lambda a, b: any(x in a for x in b),
}
COMBINATORS = {"all", "any", "not", "at_least", "rule"}


@dataclass(frozen=True)
class Event:
    """One comparison: which fact was read, against what (parameter and its citation), and the result."""

    rule: str
    fact: str | None
    op: str
    expected: Any
    actual: Any
    value: Tri
    param: str | None = None
    cite: dict[str, str] | None = None  # {en, zh}

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None or k in ("value", "actual")}


@dataclass
class Context:
    facts: dict[str, Any]
    param: Callable[[str], tuple[Any, Any]]                  # name -> (value on the incident date, {en, zh} citation)
    rule_status: Callable[[str], Result]                     # id -> (truth, missing facts)
    rule: str = ""
    events: list[Event] | None = None

    def emit(self, ev: Event) -> None:
        if self.events is not None:
            self.events.append(ev)


def evaluate(cond: Any, ctx: Context) -> Result:
    if not isinstance(cond, dict):
        raise ValidationError("rule {rule}: a condition must be a mapping, got {cond!r}",
                              values={"rule": ctx.rule, "cond": cond})
    if "all" in cond or "any" in cond:
        parts = [evaluate(c, ctx) for c in (cond["all"] if "all" in cond else cond["any"])]
        decisive = False if "all" in cond else True
        if any(v is decisive for v, _ in parts):
            return decisive, frozenset()
        unknown = [m for v, m in parts if v is None]
        return (None, frozenset().union(*unknown)) if unknown else (not decisive, frozenset())
    if "not" in cond:
        v, missing = evaluate(cond["not"], ctx)
        return (None if v is None else not v), missing
    if "at_least" in cond:
        parts = [evaluate(c, ctx) for c in cond["of"]]
        yes = sum(v is True for v, _ in parts)
        unknown = [m for v, m in parts if v is None]
        if yes >= cond["at_least"]:
            return True, frozenset()
        if yes + len(unknown) < cond["at_least"]:
            return False, frozenset()
        return None, frozenset().union(*unknown)
    if "rule" in cond:
        return ctx.rule_status(cond["rule"])
    return _leaf(cond, ctx)


def _rhs(spec: Any, ctx: Context) -> tuple[Any, str | None, Any]:
    """(value, parameter name, citation) of a right-hand side."""
    if isinstance(spec, dict) and "param" in spec:
        value, cite = ctx.param(spec["param"])
        if value is not None and "times" in spec:
            value = value * spec["times"]
        name = spec["param"] + (f" x {spec['times']}" if "times" in spec else "")
        return value, name, cite
    if isinstance(spec, dict) and "fact" in spec:
        return ctx.facts.get(spec["fact"]), None, None
    return spec, None, None


def _leaf(cond: dict[str, Any], ctx: Context) -> Result:
    fact = cond.get("fact")
    ops = [k for k in cond if k in OPS]
    if fact is None or len(ops) != 1 or set(cond) - {"fact", *ops}:
        raise ValidationError("rule {rule}: malformed condition {cond!r}",
                              values={"rule": ctx.rule, "cond": cond, "ops": ", ".join(OPS)},
                              hint=N_("Use {{fact: PATH, OP: VALUE}} with one of {ops}"))
    op = ops[0]
    actual = ctx.facts.get(fact)
    expected, param, cite = _rhs(cond[op], ctx)
    if actual is None or expected is None:
        ctx.emit(Event(ctx.rule, fact, op, expected, actual, None, param, cite))
        return None, frozenset({fact} if actual is None else set())
    try:
        value = bool(OPS[op](actual, expected))
    except TypeError as exc:
        raise ValidationError("rule {rule}: cannot compare {fact}={actual!r} {op} {expected!r}",
                              values={"rule": ctx.rule, "fact": fact, "actual": actual, "op": op,
                                      "expected": expected}) from exc
    ctx.emit(Event(ctx.rule, fact, op, expected, actual, value, param, cite))
    return value, frozenset()


def facts_read(cond: Any) -> set[str]:
    """Every fact path a condition can read (for linting packs against the fact model)."""
    if isinstance(cond, list):
        return set().union(*(facts_read(c) for c in cond)) if cond else set()
    if not isinstance(cond, dict):
        return set()
    out = {cond["fact"]} if isinstance(cond.get("fact"), str) else set()
    for k, v in cond.items():
        if k in ("all", "any", "of") or k == "not" or (k in OPS and isinstance(v, dict)):
            out |= facts_read(v)
    return out


def rules_read(cond: Any) -> set[str]:
    if isinstance(cond, list):
        return set().union(*(rules_read(c) for c in cond)) if cond else set()
    if not isinstance(cond, dict):
        return set()
    out = {cond["rule"]} if "rule" in cond else set()
    for k in ("all", "any", "of", "not"):
        if k in cond:
            out |= rules_read(cond[k])
    return out
