"""The monthly moderation report as PDF (fpdf2): summary, time-to-action histogram, actions by category,
disposals and refutations.  Text may be Chinese (refutation titles), so a CJK-capable font is picked with
:func:`synthguard.marking.fonts.find_font`, as for the legal memo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthguard.marking.fonts import find_font


def render_pdf(rep: dict[str, Any], font_path: Path | None = None) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    text = json.dumps(rep, ensure_ascii=False)
    cjk = "".join(sorted({c for c in text if ord(c) >= 0x2E80}))
    pdf = FPDF(format="A4")
    pdf.set_title(f"Moderation report {rep['tenant']} {rep['period']}")
    pdf.set_creator("synthguard moderation")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("body", "", str(find_font(cjk or "A", font_path)), collection_font_number=0)
    pdf.add_page()

    def line(s: str, size: float = 9, h: float = 5) -> None:
        pdf.set_font("body", size=size)
        pdf.multi_cell(0, h, s, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    t = rep["time_to_action_hours"]
    line(f"Moderation report: {rep['tenant']}, {rep['period']}", 15, 8)
    line(f"Policy {rep['policy']}. Cases opened {rep['cases_opened']}, decided {rep['cases_decided']}. "
         f"Time to action p50 {t['p50']} h, p90 {t['p90']} h, p99 {t['p99']} h; within deadline "
         f"{t['within_deadline']}, late {t['late']}.")
    for key in ("by_verdict", "by_category", "by_source", "by_action"):
        line(f"{key.replace('_', ' ')}: " + (", ".join(f"{k} {v}" for k, v in rep[key].items()) or "-"))
    for title, items, color in (("Time to action (hours)", [(b["label"], b["count"]) for b in rep["histogram"]],
                                 (70, 160, 110)),
                                ("Actions by category", sorted(rep["actions_by_category"].items()), (70, 110, 170))):
        pdf.ln(3)
        line(title, 11, 6)
        top = max([n for _, n in items] or [1]) or 1
        for label, n in items:
            y = pdf.get_y()
            pdf.set_font("body", size=8)
            pdf.cell(55, 5, str(label))
            pdf.set_fill_color(*color)
            width = 100 * n / top
            if width:
                pdf.rect(pdf.l_margin + 56, y + 0.8, width, 3.4, style="F")
            pdf.set_xy(pdf.l_margin + 58 + width, y)
            pdf.cell(10, 5, str(n), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    line("Disposals", 11, 6)
    for d in rep["disposals"] or [{"ticket": "-", "category": "", "action": "", "reason_code": "",
                                   "hours_to_action": "", "report_decision": ""}]:
        line(f"{d['ticket']}  {d['category']}  {d['action']} ({d['reason_code']})  {d['hours_to_action']} h  "
             f"{d['report_decision']}", 8, 4.5)
    pdf.ln(2)
    line("Refutations", 11, 6)
    for r in rep["refutations"] or [{"slug": "-", "ticket": "", "title": "none", "items": ""}]:
        line(f"{r['slug']}  {r['ticket']}  {r['title']}  ({r['items']} items)", 8, 4.5)
    return bytes(pdf.output())


__all__ = ["render_pdf"]
