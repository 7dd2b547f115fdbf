"""Upload size limits: refuse an oversized body while it streams in, and read uploads into Media (413/415/422)."""

from __future__ import annotations

from contextvars import ContextVar

from fastapi import UploadFile
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from synthguard.errors import MediaTooLargeError
from synthguard.i18n import N_
from synthguard.media import Media

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small form fields beside the file
# the names of the files the client sent in this request; the error handler names them instead of server paths.
# BodyLimit sets a fresh list per request; sync routes run in a copied context that shares the same list.
CLIENT_FILES: ContextVar[list[str] | None] = ContextVar("synthguard_client_files", default=None)


def client_files() -> list[str]:
    """The upload names the current request carried (empty outside a request)."""
    return list(CLIENT_FILES.get() or ())


TOO_LARGE = N_("request body is over the limit of {limit:,} bytes")


def _too_large(limit: int) -> str:
    return TOO_LARGE.format(limit=limit)


MAX_OTHER_BODY = 1024 * 1024  # JSON and urlencoded forms: text, never media (issue 18 finding 16)


class BodyLimit:
    """Pure ASGI middleware: 413 when Content-Length, or the bytes actually received, exceed the limit.

    Only multipart uploads may be as large as a media file; any other body (JSON, urlencoded forms) is refused
    past :data:`MAX_OTHER_BODY` before it is read, not after."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.media_limit = max_bytes + FORM_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = CLIENT_FILES.set([])
        try:
            await self._limited(scope, receive, send)
        finally:
            CLIENT_FILES.reset(token)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.media_limit if multipart else MAX_OTHER_BODY
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            body = MediaTooLargeError(TOO_LARGE, values={"limit": limit}).to_dict()
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # chunked bodies without Content-Length
                    raise HTTPException(413, detail=_too_large(limit))
            return message

        await self.app(scope, limited, send)


def read_upload(file: UploadFile, *, max_bytes: int, max_pixels: int) -> Media:
    """The uploaded file as Media; never reads more than ``max_bytes + 1`` bytes into memory."""
    name = (file.filename or "upload")[-128:]
    names = CLIENT_FILES.get()
    if names is not None:  # before anything can fail: an error about this upload names it
        names.append(name)
    data = file.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise MediaTooLargeError("upload is over the limit of {max_bytes:,} bytes", values={"max_bytes": max_bytes})
    return Media.from_bytes(data, name, max_bytes=max_bytes, max_pixels=max_pixels)
