"""The DS Art. 15 security-assessment report for face/voice tools (DS-17; DS-23 before launch; PI-16 PIPIA).

Built from the deployment itself: the tool's description (settings), the risks (``checks/risks.yaml``, from the
REQUIREMENTS rows), the controls in place (the audit's check results), the residual gaps (controls that fail or
could not be shown), the emergency switches and the register, with the algorithm filing number (DS-22).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from synthguard.compliance.audit import Audit
from synthguard.compliance.register import ASSESSMENT
from synthguard.compliance.rules import checks
from synthguard.config import Settings


@lru_cache(maxsize=1)
def risks() -> list[dict[str, Any]]:
    text = files("synthguard.compliance").joinpath("checks", "risks.yaml").read_text(encoding="utf-8")
    data = list(yaml.safe_load(text)["risks"])
    known = {c.id for c in checks()}
    for r in data:
        unknown = set(r["controls"]) - known
        if unknown:
            raise ValueError(f"risk {r['id']} names unknown checks {sorted(unknown)}")
    return data


def build(audit: Audit, *, settings: Settings, documents: list[dict[str, Any]], switches: list[dict[str, Any]]
          ) -> dict[str, Any]:
    """The report from the ``cn`` audit, the register's current ``documents`` and the ``switches`` of its tenant."""
    results = {r.id: r for r in audit.results}
    out_risks = []
    for risk in risks():
        controls: list[dict[str, Any]] = []
        gaps: list[dict[str, Any]] = []
        for cid in risk["controls"]:
            r = results.get(cid)
            if r is None:
                continue
            item = {"check": cid, "title": r.title, "status": r.status, "rows": r.rows, "reasons": r.reasons}
            (controls if r.status == "pass" else gaps).append(item | ({"fix": r.fix} if r.fix else {}))
        out_risks.append({"id": risk["id"], "title": risk["title"], "rows": risk["rows"], "controls": controls,
                          "gaps": gaps})
    st = settings
    current = {d["kind"]: d for d in documents}
    return {
        "title": "Security assessment of face and voice generation tools (DS Art. 15)",
        "filing_number": st.filing_number, "filing_link": st.filing_link, "service_name": st.service_name,
        "producer": st.producer,
        "tool": {"description": st.tool_description or "(not configured: set SYNTHGUARD_TOOL_DESCRIPTION)",
                 "techniques": list(st.tool_techniques)},
        "period": {"since": audit.since, "until": audit.until}, "profile": audit.profile,
        "risks": out_risks,
        "switches": switches,
        "previous_assessment": current.get(ASSESSMENT),
        "summary": audit.summary,
        "residual_gaps": sum(len(r["gaps"]) for r in out_risks),
        "audit": audit.to_dict(),
    }
