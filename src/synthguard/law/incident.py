"""Read and check an incident: YAML/JSON -> :class:`Incident`, or a ValidationError that names the field.

Checks, in order: the text parses (malformed YAML names the line); the structure matches the model (unknown
fields, wrong types, bad enum values); no date lies in the future; the facts do not contradict each other
(``packs/constraints.yaml``: data, each constraint citing why the two facts cannot both hold).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError as PydanticError

from synthguard.errors import ValidationError
from synthguard.law.conditions import Context, evaluate
from synthguard.law.facts import Incident, namespace
from synthguard.law.rules import PACKS
from synthguard.limits import check_expansion, check_nesting

HINT = "Fix the field named above; the format is in docs/incident-format.md and law/incident.schema.json."


def parse_text(text: str, path: str | None = None) -> dict[str, Any]:
    check_nesting(text, what="incident file", error=ValidationError)  # the parsers recurse once per level
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise ValidationError("the incident file nests too deeply", path=path, hint=HINT) from None
    except ValueError as exc:  # PyYAML's date constructor: ``date: 2026-13-01`` (found by fuzz/run.py)
        raise ValidationError("the incident file has an impossible date: {exc}", values={"exc": exc}, path=path,
                              hint="Write dates as YYYY-MM-DD with a real month and day.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValidationError("the incident file is not valid YAML{where}: {getattr}",
                              values={"where": where, "getattr": getattr(exc, 'problem', exc)},
                              path=path, hint="Check indentation and quoting near that line.") from exc
    check_expansion(data, what="incident file")  # billion laughs: validation walks the expanded tree
    if not isinstance(data, dict):
        raise ValidationError("the incident file must be a mapping of fields (id, date, jurisdictions, parties, ...), "
                              "got {type}", values={"type": type(data).__name__}, path=path, hint=HINT)
    return data


def load_incident(path: str | Path, *, today: date | None = None) -> Incident:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError("cannot read the incident file: {exc}", values={"exc": exc}, path=p) from exc
    return validate_incident(parse_text(text, str(p)), path=str(p), today=today)


def _loc(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """``parties.1.platform.notified`` -> ``parties[1].notified`` (drop pydantic's union tag)."""
    out: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            if out:
                out[-1] += f"[{part}]"
            else:  # an integer key at the top level (``1: x``); found by fuzz/run.py
                out.append(str(part))
        elif i > 0 and loc[i - 1] == "parties" or (i > 1 and isinstance(loc[i - 1], int) and loc[i - 2] == "parties"
                                                    and part in ("depicted", "deceived", "actor", "platform",
                                                                 "provider")):
            continue
        else:
            out.append(str(part))
    return ".".join(out) or "(top level)"


def validate_incident(data: dict[str, Any], *, path: str | None = None, today: date | None = None) -> Incident:
    today = today or datetime.now(UTC).date()
    try:
        inc = Incident.model_validate(data)
    except PydanticError as exc:
        msgs = []
        for e in exc.errors()[:8]:
            msg = e["msg"]
            if e["type"] == "extra_forbidden":
                msg = "unknown field (not part of the incident format)"
            msgs.append(f"{_loc(tuple(e['loc']), data)}: {msg}")
        if exc.error_count() > 8:
            raise ValidationError("invalid incident: {problems} (+{more} more)", path=path, hint=HINT,
                                  values={"problems": "; ".join(msgs), "more": exc.error_count() - 8}) from exc
        raise ValidationError("invalid incident: {problems}", values={"problems": "; ".join(msgs)}, path=path,
                              hint=HINT) from exc
    _check_dates(inc, today, path)
    _check_contradictions(inc, today, path)
    return inc


def _dates(inc: Incident) -> list[tuple[str, date]]:
    out = [(k, getattr(inc, k)) for k in ("date", "discovered", "assessed_on") if getattr(inc, k)]
    for i, p in enumerate(inc.parties):
        for k, v in p:
            if isinstance(v, date):
                out.append((f"parties[{i}].{k}", v))
    out += [(f"assessed.{k}.on", a.on) for k, a in inc.assessed.items() if a.on]
    return out


def _check_dates(inc: Incident, today: date, path: str | None) -> None:
    for name, value in _dates(inc):
        d = value.date() if isinstance(value, datetime) else value
        if d > today:
            raise ValidationError("{name}: {date} is in the future (today is {today})",
                                  values={"name": name, "date": d.isoformat(), "today": today.isoformat()},
                                  path=path, hint="Dates record what already happened; correct the date.")


@lru_cache(maxsize=1)
def constraints() -> list[dict[str, Any]]:
    return yaml.safe_load(PACKS.joinpath("constraints.yaml").read_text(encoding="utf-8"))["constraints"]


def _check_contradictions(inc: Incident, today: date, path: str | None) -> None:
    facts = namespace(inc, today)
    ctx = Context(facts, lambda name: (None, None), lambda rid: (None, frozenset()), "constraints")
    for c in constraints():
        value, _ = evaluate(c["when"], ctx)
        if value is True:  # only a definite contradiction is an error
            raise ValidationError("contradictory facts: {fields}: {message}",
                                  values={"fields": c['fields'], "message": c['message']}, path=path,
                                  hint="Correct one of the named fields (or leave it out if unknown).")


def incident_from_json(text: str | bytes) -> dict[str, Any]:
    check_nesting(text, what="incident", error=ValidationError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError("the incident is not valid JSON: {exc}", values={"exc": exc}) from exc
    if not isinstance(data, dict):
        raise ValidationError("the incident must be a JSON object")
    return data
