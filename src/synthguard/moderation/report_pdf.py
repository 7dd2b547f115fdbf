"""The monthly moderation report as PDF (fpdf2): summary, time-to-action histogram, actions by category,
disposals and refutations.  Text may be Chinese (refutation titles), so a CJK-capable font is picked with
:func:`synthguard.marking.fonts.find_font`, as for the legal memo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthguard.i18n import _, current, format_number, translate
from synthguard.marking.fonts import find_font
from synthguard.moderation import texts
from synthguard.moderation.reports import COUNT_TITLES


def render_pdf(rep: dict[str, Any], font_path: Path | None = None, *, lang: str | None = None) -> bytes:
    """The report as PDF with headings in ``lang`` (default: the current language)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    lang = lang or current()

    def num(v: Any) -> str:
        return "-" if v is None or v == "" else format_number(v, lang)

    title = _("Moderation report: {tenant}, {period}", lang, tenant=rep["tenant"], period=rep["period"])
    headings = {k: translate(v, lang) for k, v in COUNT_TITLES.items()} | {
        "hist": _("Time to action (hours)", lang), "cats": _("Actions by category", lang),
        "disposals": _("Disposals", lang), "refutations": _("Refutations", lang)}
    text = json.dumps(rep, ensure_ascii=False) + title + "".join(headings.values())
    cjk = "".join(sorted({c for c in text if ord(c) >= 0x2E80}))
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("synthguard moderation")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("body", "", str(find_font(cjk or "A", font_path)), collection_font_number=0)
    pdf.add_page()

    def line(s: str, size: float = 9, h: float = 5) -> None:
        pdf.set_font("body", size=size)
        pdf.multi_cell(0, h, s, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    t = rep["time_to_action_hours"]
    line(title, 15, 8)
    line(_("Policy {policy}. Cases opened: {opened}; decided: {decided}. Time to action p50 {p50} h, p90 {p90} h, "
           "p99 {p99} h; within deadline {within}, late {late}.", lang, policy=rep["policy"],
           opened=num(rep["cases_opened"]), decided=num(rep["cases_decided"]), p50=num(t["p50"]), p90=num(t["p90"]),
           p99=num(t["p99"]), within=num(t["within_deadline"]), late=num(t["late"])))
    for key in ("by_verdict", "by_category", "by_source", "by_action"):
        line(f"{headings[key]}: " + (", ".join(f"{k} {num(v)}" for k, v in rep[key].items()) or "-"))
    for heading, items, color in ((headings["hist"], [(b["label"], b["count"]) for b in rep["histogram"]],
                                   (70, 160, 110)),
                                  (headings["cats"], sorted(rep["actions_by_category"].items()), (70, 110, 170))):
        pdf.ln(3)
        line(heading, 11, 6)
        top = max([n for _k, n in items] or [1]) or 1
        for label, n in items:
            y = pdf.get_y()
            pdf.set_font("body", size=8)
            pdf.cell(55, 5, str(label))
            pdf.set_fill_color(*color)
            width = 100 * n / top
            if width:
                pdf.rect(pdf.l_margin + 56, y + 0.8, width, 3.4, style="F")
            pdf.set_xy(pdf.l_margin + 58 + width, y)
            pdf.cell(10, 5, num(n), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    line(headings["disposals"], 11, 6)
    for d in rep["disposals"] or [{"ticket": "-", "category": "", "action": "", "reason_code": "",
                                   "hours_to_action": "", "report_decision": ""}]:
        action = texts.label(texts.ACTIONS, d["action"], lang) if d["action"] else ""
        line(f"{d['ticket']}  {d['category']}  {action} ({d['reason_code']})  {num(d['hours_to_action'])} h  "
             f"{d['report_decision']}", 8, 4.5)
    pdf.ln(2)
    line(headings["refutations"], 11, 6)
    for r in rep["refutations"]:
        line(f"{r['slug']}  {r['ticket']}  {r['title']}  " + _("(items: {n})", lang, n=num(r["items"])), 8, 4.5)
    if not rep["refutations"]:
        line(_("none", lang), 8, 4.5)
    return bytes(pdf.output())


__all__ = ["render_pdf"]
