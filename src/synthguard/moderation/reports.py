"""Monthly moderation reports: counts, time-to-action, refutations and disposals, and DSA statements of reasons.

Formats: ``cac`` (regulator report: disposals and refutations, DS-10/DS-11 "report to CAC"), ``dsa-sor``
(DSA Transparency Database statements of reasons as POSTable batches, one per line: dsa.py; DSA-11),
``csv`` (one row per case), ``html`` (tables and two SVG charts: time-to-action histogram, actions by
category; US-06 time-to-removal distribution) and ``pdf`` (the same document: :mod:`synthguard.documents`).
Everything is computed from the case rows of one tenant.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from synthguard import documents
from synthguard.documents import Bar, BarChart, Block, Document, Heading, KeyValues, Paragraph, Table
from synthguard.errors import ValidationError
from synthguard.i18n import N_, _, current, format_number, translate
from synthguard.moderation import texts
from synthguard.moderation.dsa import VISIBILITY, automated_sors, ndjson, sor

if TYPE_CHECKING:
    from synthguard.moderation.policy import Policy
    from synthguard.store.moderation_tables import ModCase, ModContent
    from synthguard.store.protocols import Units

FORMATS = ("cac", "dsa-sor", "csv", "html", "json", "pdf")
BUCKETS = (1, 6, 12, 24, 36, 48, 72, 168)  # hours, for the histogram


def period_bounds(period: str) -> tuple[datetime, datetime]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", period or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValidationError("bad period {period!r}", values={"period": period}, hint=N_("Use YYYY-MM, e.g. 2026-10."))
    y, mo = int(m.group(1)), int(m.group(2))
    return datetime(y, mo, 1, tzinfo=UTC), datetime(y + mo // 12, mo % 12 + 1, 1, tzinfo=UTC)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return round(v[lo] + (v[hi] - v[lo]) * (k - lo), 2)


def _count(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return dict(sorted(out.items()))


def build(units: Units, policy: Policy, tenant: str, period: str, *, lang: str | None = None) -> dict[str, Any]:
    """The report data for one tenant and month (cases opened or decided in the month) under ``policy``; the
    service's :meth:`~synthguard.moderation.service.Moderation.report`.  ``lang`` (default: the current language,
    ``synthguard --lang``) is the language of the statements' human-readable text fields."""
    start, end = period_bounds(period)
    lang = lang or current()
    with units() as uow:
        store = uow.moderation
        rows = store.cases_opened_in(tenant, start, end)
        decided = store.cases_decided_in(tenant, start, end)
        refs = store.refutations_in(tenant, start, end)
        arrived = store.content_arrived_in(tenant, start, end)
        uploads = [x.verdict for x in arrived]
        tickets = store.tickets([r.case_id for r in refs])
    acted = [(c.actioned_at or c.opened_at, c) for c, _ in decided]  # decided rows all have actioned_at
    hours = [(at - (c.valid_at or c.opened_at)).total_seconds() / 3600 for at, c in acted]
    on_time = [c.deadline_at is None or at <= c.deadline_at for at, c in acted]
    disposals = [_disposal(c, x, h) for (c, x), h in zip(decided, hours, strict=True)]
    return {
        "tenant": tenant, "period": period, "from": start.isoformat(), "to": end.isoformat(),
        "policy": f"{policy.jurisdiction}@{policy.version}", "generated_at": datetime.now(UTC).isoformat(),
        "cases_opened": len(rows), "cases_decided": len(decided),
        "by_verdict": _count([x.verdict if x else "no_content" for _, x in rows]),
        "uploads_by_verdict": _count(uploads),
        "by_category": _count([c.category for c, _ in rows]), "by_source": _count([c.source for c, _ in rows]),
        "by_action": _count([c.action or "-" for c, _ in decided]),
        "actions_by_category": _count([f"{c.category}/{c.action}" for c, _ in decided]),
        "time_to_action_hours": {"p50": percentile(hours, .5), "p90": percentile(hours, .9),
                                 "p99": percentile(hours, .99), "max": round(max(hours), 2) if hours else None,
                                 "within_deadline": sum(on_time), "late": len(on_time) - sum(on_time)},
        "histogram": _histogram(hours),
        "disposals": disposals,
        "refutations": [{"slug": r.slug, "ticket": tickets.get(r.case_id), "title": r.title,
                         "published_at": r.created_at.isoformat(), "items": len(r.content_refs)} for r in refs],
        "lang": lang,
        "statements": [sor(policy, c, x, lang=lang) for c, x in decided if c.action in VISIBILITY]
        + [st for x in arrived for st in automated_sors(policy, x, lang=lang)],  # DSA-06: scans' own measures
    }


def _disposal(c: ModCase, x: ModContent | None, hours: float) -> dict[str, Any]:
    return {"ticket": c.ticket, "category": c.category, "source": c.source, "action": c.action,
            "reason_code": c.reason_code, "actioned_at": c.actioned_at.isoformat() if c.actioned_at else None,
            "hours_to_action": round(hours, 2), "report_decision": c.report_decision,
            "content_sha256": x.sha256 if x else None}


def _histogram(hours: list[float]) -> list[dict[str, Any]]:
    edges = (0, *BUCKETS)
    out = [{"label": f"{a}-{b} h", "count": sum(a <= h < b for h in hours)}
           for a, b in zip(edges[:-1], edges[1:], strict=True)]
    out.append({"label": f">= {BUCKETS[-1]} h", "count": sum(h >= BUCKETS[-1] for h in hours)})
    return out


CSV_COLUMNS = (N_("ticket"), N_("category"), N_("source"), N_("action"), N_("reason_code"), N_("actioned_at"),
               N_("hours_to_action"), N_("report_decision"), N_("content_sha256"))
COUNT_TITLES = {"by_verdict": N_("Cases by verdict"), "uploads_by_verdict": N_("Uploads by verdict"),
                "by_category": N_("Cases by category"), "by_source": N_("Cases by source"),
                "by_action": N_("Decisions by action")}


def render(rep: dict[str, Any], fmt: str, *, lang: str | None = None) -> tuple[str | bytes, str]:
    """(text, or bytes for PDF; media type) for one of FORMATS. Headings of the html, pdf and csv reports are in
    ``lang`` (default: the current language); JSON field names and enum values never change."""
    if fmt not in FORMATS:
        raise ValidationError("unknown report format {fmt!r}", hint=N_("Use one of: {formats}."),
                              values={"fmt": fmt, "formats": ", ".join(FORMATS)})
    lang = lang or current()
    if fmt == "pdf":
        return documents.render_pdf(document(rep, lang=lang)), "application/pdf"
    if fmt == "json":
        return json.dumps(rep, ensure_ascii=False, indent=2), "application/json"
    if fmt == "dsa-sor":  # one POSTable {"statements": [1..100]} per line, nothing when there is nothing to send
        return ndjson(rep["statements"]), "application/x-ndjson"
    if fmt == "cac":
        keep = ("tenant", "period", "from", "to", "policy", "generated_at", "cases_opened", "cases_decided",
                "by_category", "by_action", "by_verdict", "time_to_action_hours", "disposals", "refutations")
        return json.dumps({"report": _("regulator disposal and refutation report (DS-10, DS-11)", lang)} |
                          {k: rep[k] for k in keep}, ensure_ascii=False, indent=2), "application/json"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([translate(col, lang) for col in CSV_COLUMNS])  # English headers are the JSON keys
        w.writerows([[d.get(col) for col in CSV_COLUMNS] for d in rep["disposals"]])
        return buf.getvalue(), "text/csv"
    return html(rep, lang=lang), "text/html"


def document(rep: dict[str, Any], *, lang: str | None = None) -> Document:
    """The report with its headings in ``lang`` (default: the current language): the summary, the counts, the
    time-to-action histogram and actions by category (US-06), the disposals and the refutations (DS-10, DS-11)."""
    lang = lang or current()
    t = rep["time_to_action_hours"]

    def num(v: Any) -> str:
        return "-" if v is None or v == "" else format_number(v, lang)

    title = _("Moderation report: {tenant}, {period}", lang, tenant=rep["tenant"], period=rep["period"])
    summary = _("Policy {policy}. Cases opened: {opened}; decided: {decided}. Time to action p50 {p50} h, p90 {p90} h, "
                "p99 {p99} h; within deadline {within}, late {late}.", lang, policy=rep["policy"],
                opened=num(rep["cases_opened"]), decided=num(rep["cases_decided"]), p50=num(t["p50"]),
                p90=num(t["p90"]), p99=num(t["p99"]), within=num(t["within_deadline"]), late=num(t["late"]))
    counts = [(translate(title_, lang), ", ".join(f"{k} {num(v)}" for k, v in rep[key].items()) or "-")
              for key, title_ in COUNT_TITLES.items()]
    disposals = [(d["ticket"], d["category"], texts.label(texts.ACTIONS, d["action"], lang) if d["action"] else "",
                  str(d["reason_code"]), num(d["hours_to_action"]), str(d["report_decision"]))
                 for d in rep["disposals"]]
    refutations = [(r["slug"], str(r["ticket"]), r["title"], num(r["items"])) for r in rep["refutations"]]
    none = Paragraph(_("none", lang))
    blocks: list[Block] = [
        Heading(title), Paragraph(summary),
        Paragraph(_("Generated {at}.", lang, at=texts.when(rep.get("generated_at"), lang)), small=True),
        KeyValues(counts, table=True),
        BarChart(_("Time to action (hours)", lang), [Bar(b["label"], b["count"], num(b["count"]))
                                                     for b in rep["histogram"]], (70, 160, 110), id="histogram"),
        BarChart(_("Actions by category", lang), [Bar(k, n, num(n))
                                                  for k, n in sorted(rep["actions_by_category"].items())],
                 (70, 110, 170), id="by-category"),
        Heading(_("Disposals", lang), 2),
        Table([translate(h, lang) for h in (N_("Ticket"), N_("Category"), N_("Action"), N_("Reason"), N_("Hours"),
                                            N_("Report"))], disposals) if disposals else none,
        Heading(_("Refutations", lang), 2),
        Table([translate(h, lang) for h in (N_("Notice"), N_("Ticket"), N_("Title"), N_("Items"))], refutations)
        if refutations else none]
    return Document(title=title, blocks=blocks, lang=lang, theme="moderation", creator="synthguard moderation")


def html(rep: dict[str, Any], *, lang: str | None = None) -> str:
    return documents.render_html(document(rep, lang=lang))


__all__ = ["COUNT_TITLES", "CSV_COLUMNS", "FORMATS", "build", "document", "html", "percentile", "period_bounds",
           "render", "sor"]
