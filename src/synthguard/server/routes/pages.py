"""Public web pages, rendered on the server (no JavaScript): the front page and an inspection form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse

from synthguard import i18n
from synthguard.errors import SynthGuardError
from synthguard.fields import KEY_LABELS, scalar
from synthguard.server.deps import SG, public_work
from synthguard.server.i18n import templates  # one i18n-aware environment for every page
from synthguard.server.verdict import verdict

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, sg: SG) -> HTMLResponse:
    """What the service does, who may call what, and a link to the API docs."""
    return templates.TemplateResponse(request, "index.html", {"version": sg.version})


@router.get("/inspect", response_class=HTMLResponse)
def inspect_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "inspect.html", {})


@router.post("/inspect", response_class=HTMLResponse)
def inspect_page(request: Request, sg: SG, file: Annotated[UploadFile, File()]) -> HTMLResponse:
    """Anyone may read an image's labels (see POST /v1/inspect); errors are shown on the page."""
    try:
        found = public_work(sg, request, file, "inspect")
    except SynthGuardError as exc:
        return templates.TemplateResponse(request, "inspect.html", {"error": exc.to_dict(lang=i18n.current())},
                                          status_code=exc.http_status)
    return templates.TemplateResponse(request, "inspect.html",
                                      {"result": found, "rows": _rows(found), "verdict": verdict(found)})


def _rows(found: dict[str, Any]) -> list[tuple[str, str]]:
    """Flatten the inspection into (field, value) rows in the page's language; AIGC fields get one row each."""
    def name(key: str) -> str:
        return i18n._(KEY_LABELS[key]) if key in KEY_LABELS else key

    rows: list[tuple[str, str]] = []
    for key, value in found.items():
        if key == "aigc" and isinstance(value, dict):
            rows += [(f"AIGC {k}", str(v)) for k, v in value.items()]
        elif isinstance(value, dict):
            rows += [(f"{name(key)}: {name(k)}", _text(v)) for k, v in value.items() if v not in (None, [], {})]
        else:
            rows.append((name(key), _text(value)))
    return rows


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(scalar, value)) or "-"
    return scalar(value)
