"""``POST /v1/assess``: the legal assessment engine over HTTP (reviewers, regulators, victims, admins).

The JSON body is an incident (docs/incident-format.md); unknown fields, wrong types, future dates and
contradictory facts come back as 400 ValidationError naming the field.  ``lang`` picks zh/en texts,
``format=md|html`` returns the rendered memo instead of JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from synthguard import i18n
from synthguard.auth import Principal, Role
from synthguard.law import assess as run
from synthguard.law.report import render_html, render_markdown
from synthguard.server.deps import CurrentPrincipal

router = APIRouter(prefix="/v1", tags=["law"])
ASSESSORS = (Role.REVIEWER, Role.REGULATOR, Role.VICTIM, Role.ADMIN)


def _assessor(p: CurrentPrincipal) -> Principal:
    return p.require(*ASSESSORS)


Assessor = Annotated[Principal, Depends(_assessor)]


@router.post("/assess", response_model=None)
def assess(p: Assessor, incident: Annotated[dict[str, Any], Body(description="An incident (synthguard.incident/1).")],
           lang: Annotated[str | None, Query(pattern="^(zh|en|zh_CN|zh-CN)$",
                                             description="Memo language; default: the request's language.")] = None,
           format: Annotated[str, Query(pattern="^(json|md|html)$")] = "json",
           trace: bool = True) -> dict[str, Any] | Response:
    """Findings with citations, elements, bands, remedies, deadlines, missing facts and a severity profile."""
    lang = "zh" if (i18n.normalize(lang) if lang else i18n.current()) == "zh_CN" else "en"
    result = run(incident, lang=lang, trace=trace or format != "json")
    if format == "json":
        return result
    if format == "html":
        return HTMLResponse(render_html(result))
    return PlainTextResponse(render_markdown(result), media_type="text/markdown; charset=utf-8")
