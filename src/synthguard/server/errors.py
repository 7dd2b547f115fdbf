"""Errors are mapped to HTTP once, here: every error body is ``{"error", "message", "path", "hint"}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from synthguard.errors import AuthError, MediaTooLargeError, SynthGuardError
from synthguard.server.web import error_page, wants_html

log = logging.getLogger("synthguard.server")


def error_body(name: str, message: str, hint: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": name, "message": message, "path": None, "hint": hint} | extra


def _sg_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SynthGuardError)
    if exc.http_status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    body = exc.to_dict(lang=getattr(request.state, "lang", None))
    if body.get("path") == "<bytes>":  # an upload has no server-side path worth showing
        body["path"] = None
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 and isinstance(exc, AuthError) else None
    if getattr(exc, "retry_after", None):  # 429 from the per-token rate limit
        headers = {"Retry-After": str(exc.retry_after)}  # type: ignore[attr-defined]
    if wants_html(request):  # a browser gets a page in its language (issue 22)
        return error_page(request, exc.http_status, body, headers)
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]  # no echoed input
    first = details[0] if details else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return JSONResponse(jsonable_encoder(error_body(
        "RequestValidationError", f"{where}: {first['msg']}" if where else str(first["msg"]),
        "Check the request's fields against the API documentation at /docs.", details=details)), status_code=422)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 413:  # raised by uploads.BodyLimit while a body streams in
        body = MediaTooLargeError(str(exc.detail)).to_dict()
    else:
        body = error_body("HTTPError", str(exc.detail), None)
    if wants_html(request):
        return error_page(request, exc.status_code, body, getattr(exc, "headers", None))
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    app.add_exception_handler(SynthGuardError, _sg_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
