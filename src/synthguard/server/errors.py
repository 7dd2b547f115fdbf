"""Errors are mapped to HTTP once, here: every error body is ``{"error", "message", "path", "hint"}``.

``path`` names the file the client sent (its upload name), never a file on the server: a key, font or config
path is the operator's business, so it goes to the log and is cut to its file name in the message.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from synthguard.errors import AuthError, MediaTooLargeError, SynthGuardError
from synthguard.server.uploads import client_files
from synthguard.server.web import error_page, wants_html

log = logging.getLogger("synthguard.server")


def _server_roots(home: Path | None) -> list[str]:
    """Directories whose paths are the server's business: SynthGuard's home, the working and temporary
    directories, the user's home and the Python installation (the package's own files live under it)."""
    roots = {os.getcwd(), tempfile.gettempdir(), str(Path.home()), sys.prefix, sys.base_prefix,
             str(Path(__file__).resolve().parents[2])}
    if home is not None:
        roots |= {str(home), str(home.resolve())}
    return sorted((r.rstrip("/\\") for r in roots if len(r.rstrip("/\\")) > 1), key=len, reverse=True)


def _strip_paths(text: str | None, server_path: str | None, home: Path | None) -> str | None:
    """Cut server paths in ``text`` to their last component (``.../keys/watermark.key`` -> ``watermark.key``)."""
    if not text:
        return text
    if server_path:
        text = text.replace(server_path, re.split(r"[/\\]", server_path.rstrip("/\\"))[-1] or "<dir>")
    for root in _server_roots(home):
        if root in text:
            text = re.sub(re.escape(root) + r"(?:[/\\][^\s/\\'\",;)]*)*", _last, text)
    return text


def _last(m: re.Match[str]) -> str:
    return re.split(r"[/\\]", m.group(0))[-1] or "<dir>"


def client_view(body: dict[str, Any], home: Path | None = None) -> dict[str, Any]:
    """The error body as an API client may see it: ``path`` is one of the client's uploads (the one the error
    is about, else the only one sent) or None; server paths in the message and hint are cut to file names."""
    sent = client_files()
    path = body.get("path")
    server_path = None if path in sent else path
    body["path"] = path if path in sent else (sent[0] if len(sent) == 1 else None)
    body["message"] = _strip_paths(body.get("message"), server_path, home)
    body["hint"] = _strip_paths(body.get("hint"), server_path, home)
    return body


def stored_error_view(error: dict[str, Any] | None, home: Path | None) -> dict[str, Any] | None:
    """A stored error (a job's) as an API client may see it: server paths cut to their file name."""
    if not error:
        return error
    out = dict(error)
    for field in ("message", "hint", "path"):
        if isinstance(out.get(field), str):
            out[field] = _strip_paths(out[field], None, home)
    if isinstance(out.get("path"), str) and os.path.isabs(str(error.get("path"))):
        out["path"] = None  # absolute: a server file, whatever its root
    return out


def error_body(name: str, message: str, hint: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": name, "message": message, "path": None, "hint": hint} | extra


def _sg_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SynthGuardError)
    if exc.http_status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    if exc.path and exc.path not in client_files():
        log.warning("%s %s: %s (server file %s)", request.method, request.url.path, exc.message, exc.path)
    sg = getattr(request.app.state, "sg", None)
    body = client_view(exc.to_dict(lang=getattr(request.state, "lang", None)), sg.settings.home if sg else None)
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
