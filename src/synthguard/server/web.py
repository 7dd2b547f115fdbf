"""What a browser needs beyond the API: local assets, the API docs offline, HTML error pages (issue 22).

* ``/static/sg/``: the design system shipped in the package (server/static), no CDN.
* ``/docs`` and ``/redoc``: Swagger UI and ReDoc from the assets the ``fastapi-offline`` package ships, so the
  documentation works on a machine without internet access (DESIGN.md: offline at run time).
* :func:`wants_html` / :func:`error_page`: a browser that asked for a page gets an HTML error page in its
  language; API clients keep the JSON error body.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from synthguard.i18n import N_
from synthguard.server.i18n import templates

STATIC = Path(__file__).resolve().parent / "static"
TITLES = {400: N_("The request was not understood"), 401: N_("Please sign in"), 403: N_("Not allowed"),
          404: N_("Page not found"), 409: N_("This changed meanwhile"), 413: N_("The file is too large"),
          415: N_("This file type is not supported"), 422: N_("Some fields need attention"),
          429: N_("Too many requests"), 500: N_("Something went wrong on our side"),
          503: N_("The service is unavailable")}


def _docs_assets() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:
        return None
    path = Path(fastapi_offline.__file__).resolve().parent / "static"
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install(app: FastAPI) -> None:
    """Mount the assets and the offline docs; call with an app made with ``docs_url=None, redoc_url=None``."""
    app.mount("/static/sg", StaticFiles(directory=STATIC), name="sg-static")
    assets = _docs_assets()
    if assets is None:  # the server extra brings fastapi-offline; without it there are no docs pages
        return
    app.mount("/static/docs", StaticFiles(directory=assets), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
                                   swagger_js_url="/static/docs/swagger-ui-bundle.js",
                                   swagger_css_url="/static/docs/swagger-ui.css",
                                   swagger_favicon_url="/static/docs/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
                              redoc_js_url="/static/docs/redoc.standalone.js",
                              redoc_favicon_url="/static/docs/favicon.png", with_google_fonts=False)


def wants_html(request: Request) -> bool:
    """A browser navigating to a page: it accepts HTML before JSON and the path is not the JSON API."""
    if request.url.path.startswith(("/v1/", "/openapi.json", "/.well-known/")):
        return False
    accept = request.headers.get("accept", "")
    html, json_ = accept.find("text/html"), accept.find("application/json")
    return html >= 0 and (json_ < 0 or html < json_)


def error_page(request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
               ) -> HTMLResponse:
    """The error as a page: a title for the status, what happened, what to do, a way back."""
    title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    return templates.TemplateResponse(request, "error.html", {"status": status, "title": title, "error": body},
                                      status_code=status, headers=headers)
