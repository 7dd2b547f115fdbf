"""Deadlines of a met rule: limitation periods, response times, prosecution limits (LAW.md §1.7).

A deadline runs ``period`` from a fact (``start``); ``period: null`` means the claim is not time-barred
(CC 995/196).  ``from_band`` takes the prosecution limit from the band's statutory maximum under CL 87,
using the dated parameters ``cn.cl87.*``.  Each deadline says whether it is running, expired or cannot be
computed yet (and which fact is missing), as of the incident's ``assessed_on`` date.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from synthguard.law.citation import render_ref

if TYPE_CHECKING:
    from synthguard.law.rules import Library, Rule


def add_period(start: date | datetime, period: dict[Any, float]) -> date | datetime:
    months = int(period.get("years", 0) * 12 + period.get("months", 0))
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    out = start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))
    return out + timedelta(days=period.get("days", 0), hours=period.get("hours", 0))


def prosecution_years(max_years: float | None, lib: Library, on: date) -> float | None:
    """CL 87: < 5 y -> 5; 5 to < 10 -> 10; >= 10 -> 15; life (max_years >= 99) -> 20."""
    if max_years is None:
        return None
    for limit, tier in ((99, "life"), (10, "ten_plus"), (5, "five_to_ten"), (0, "under_five")):
        if max_years >= limit:
            return lib.param(f"cn.cl87.{tier}", on)[0]
    return None


def compute_deadlines(rule: Rule, band: dict[str, Any] | None, facts: dict[str, Any], lib: Library,
                      on: date) -> list[dict[str, Any]]:
    as_of = facts.get("incident.assessed_on") or on
    out = []
    for d in rule.deadlines:
        item: dict[str, Any] = {"id": d.id, "title": d.title, "start_fact": d.start,
                                "cite": {lang: render_ref(d.cite, lang) for lang in ("en", "zh")}}
        period: dict[Any, float] | None = dict(d.period) if d.period else None
        if d.from_band:
            years = prosecution_years(band.get("max_years") if band else None, lib, on)
            if years is None:
                item.update(status="unknown", note="band undetermined")
                out.append(item)
                continue
            period = {"years": years}
        item["period"] = period
        if period is None:
            item["status"] = "no_limitation"
        else:
            start = facts.get(d.start) if d.start else None
            if start is None:
                item["status"] = "start_unknown"
                item["missing_fact"] = d.start
            else:
                due = add_period(start, period)
                item["start"] = start.isoformat()
                item["due"] = due.isoformat()
                cmp_due = due.date() if isinstance(due, datetime) else due
                item["status"] = "expired" if cmp_due < as_of else "running"
        out.append(item)
    return out
