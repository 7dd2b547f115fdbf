"""An OpenAI-compatible gateway that labels every output before the caller sees it (issue 26).

Providers already call an upstream image or chat API; pointing their client's ``base_url`` at this gateway is the
whole integration.  The gateway forwards ``/v1/images/generations``, ``/v1/images/edits`` and
``/v1/chat/completions`` to the upstream with the provider's own upstream key, labels each returned image or text
through the same journey as ``synthguard label`` (visible label, watermark, GB 45438 metadata, C2PA, ledger: DS-16..19,
LM-03..10) for the user the caller's gateway key belongs to (DS-07), runs the sources of an edit through the consent
gate (DS-15), and answers in the upstream's own response shapes:

- images: ``b64_json`` items come back as labeled ``b64_json``; ``url`` items are fetched, labeled and served from
  the gateway under an unguessable name;
- chat: a whole reply becomes the labeled text (notice first, ``AIGC:`` trailer last); a streamed reply keeps
  streaming: the notice is sent as the first delta, upstream deltas pass through as they arrive, and the trailer
  is the last delta of each choice, so the concatenated stream is exactly the labeled text;
- every labeled item carries a ``synthguard`` field (content id, marks) that OpenAI clients ignore;
- upstream errors pass through unchanged (status, body, content type); the gateway's own errors use OpenAI's
  ``{"error": {...}}`` shape with the status of the SynthGuard error.
"""

from __future__ import annotations

import base64
import json
import secrets
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from synthguard.errors import InputError, SynthGuardError, UpstreamError
from synthguard.integrations.keys import GatewayKeys
from synthguard.limits import json_document
from synthguard.media import Media

MAX_JSON_BODY = 1 << 20  # a generation request is a prompt and a few options
IMAGE_FORMATS = {"png": "png", "jpeg": "jpg", "jpg": "jpg", "webp": "webp"}
FILE_TTL_SECONDS = 3600  # served url items live as long as OpenAI's own (one hour)
_FILE_NAME = r"^[A-Za-z0-9_-]{16,64}\.(png|jpg|webp)$"


def _openai_error(exc: SynthGuardError) -> JSONResponse:
    return JSONResponse({"error": {"message": exc.message, "type": type(exc).__name__, "param": None,
                                   "code": exc.exit_code}}, status_code=exc.http_status)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else None


async def _json_body(request: Request) -> dict[str, Any]:
    doc = json_document(await request.body(), limit=MAX_JSON_BODY, what="request body")
    if not isinstance(doc, dict):
        raise InputError("the request body must be a JSON object")
    return doc


def _passthrough(r: httpx.Response) -> Response:
    """An upstream error, unchanged."""
    return Response(r.content, status_code=r.status_code, media_type=r.headers.get("content-type"))


def _normal_body(text: str) -> str:
    lines = [unicodedata.normalize("NFC", line.rstrip()) for line in text.replace("\r", "").split("\n")]
    return "\n".join(lines).strip("\n")


class Gateway:
    """Labels upstream outputs; one instance per app (it owns the upstream client)."""

    def __init__(self, sg: Any, *, upstream: str, upstream_key: str | None, keys: GatewayKeys,
                 producer: str | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 120.0):
        self.sg, self.keys, self.upstream, self.producer = sg, keys, upstream.rstrip("/"), producer
        headers = {"authorization": f"Bearer {upstream_key}"} if upstream_key else {}
        self.client = httpx.AsyncClient(headers=headers, timeout=timeout, transport=transport)
        self.files = Path(sg.settings.home) / "gateway" / "files"

    # --- labeling (blocking: run in the thread pool) --------------------------------------------------
    def _label(self, data: bytes, name: str, user: str, *, model: str | None, technique: str | None = None,
               sources: list[Media] | None = None, purpose: str | None = None) -> tuple[bytes, dict[str, Any]]:
        st = self.sg.settings
        media = Media.from_bytes(data, name, max_bytes=st.max_bytes, max_pixels=st.max_pixels)
        with tempfile.TemporaryDirectory(prefix="sg-gw-") as tmp:
            out = Path(tmp) / Path(name).name
            result = self.sg.label(media, user=user, producer=self.producer, model=model, output=out,
                                   technique=technique, sources=sources or None, purpose=purpose,
                                   tenant=getattr(user, "tenant", None))  # the key's tenant (finding 13)
            labeled = out.read_bytes()
        return labeled, {"content_id": result.content_id, "marks": list(result.marks),
                         "ledger_index": result.ledger_index}

    def label_text(self, text: str, user: str, model: str | None) -> tuple[str, dict[str, Any]]:
        labeled, info = self._label(text.encode("utf-8"), "reply.txt", user, model=model)
        return labeled.decode("utf-8"), info

    def notice_prefix(self) -> str:
        """What a labeled plain text starts with (the explicit notice and a blank line), known before the reply."""
        marker = self.sg.marker("text.notice")
        return f"{marker.notice}\n\n" if getattr(marker, "position", "start") in ("start", "both") else ""

    # --- images ---------------------------------------------------------------------------------------
    async def _item_bytes(self, item: dict[str, Any]) -> bytes:
        if isinstance(item.get("b64_json"), str):
            try:
                return base64.b64decode(item["b64_json"], validate=True)
            except ValueError as exc:
                raise UpstreamError("the upstream returned an image that is not base64") from exc
        if isinstance(item.get("url"), str):
            limit = self.sg.settings.max_bytes
            async with self.client.stream("GET", item["url"]) as r:
                if r.status_code >= 400:
                    raise UpstreamError("the upstream image URL answered {status}", values={"status": r.status_code})
                chunks, size = [], 0
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise UpstreamError("the upstream image is over {limit:,} bytes", values={"limit": limit})
                    chunks.append(chunk)
            return b"".join(chunks)
        raise UpstreamError("the upstream returned an image item with neither b64_json nor url")

    def _serve(self, data: bytes, ext: str) -> str:
        self.files.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - FILE_TTL_SECONDS
        for old in self.files.iterdir():  # expired outputs go; the ledger keeps their hashes
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        name = f"{secrets.token_urlsafe(24)}.{ext}"
        path = self.files / name
        path.write_bytes(data)
        path.chmod(0o600)
        return name

    async def label_images(self, request: Request, doc: dict[str, Any], user: str, *, model: str | None,
                           fmt: str, sources: list[Media] | None = None, purpose: str | None = None) -> dict[str, Any]:
        ext = IMAGE_FORMATS.get(str(fmt).lower(), "png")
        items = doc.get("data")
        if not isinstance(items, list):
            raise UpstreamError("the upstream answer has no data list")
        out = []
        for item in items:
            if not isinstance(item, dict):
                raise UpstreamError("the upstream answer has an item that is not an object")
            raw = await self._item_bytes(item)
            labeled, info = await run_in_threadpool(
                self._label, raw, f"output.{ext}", user, model=model, technique=purpose,
                sources=sources, purpose=purpose)
            new = {k: v for k, v in item.items() if k not in ("b64_json", "url")} | {"synthguard": info}
            if "url" in item and "b64_json" not in item:
                new["url"] = str(request.url_for("gateway_file", name=self._serve(labeled, ext)))
            else:
                new["b64_json"] = base64.b64encode(labeled).decode()
            out.append(new)
        return doc | {"data": out}

    # --- chat -----------------------------------------------------------------------------------------
    def label_choices(self, doc: dict[str, Any], user: str, model: str | None) -> dict[str, Any]:
        for choice in doc.get("choices") or []:
            message = choice.get("message") if isinstance(choice, dict) else None
            if isinstance(message, dict) and isinstance(message.get("content"), str) and message["content"].strip():
                message["content"], choice["synthguard"] = self.label_text(message["content"], user, model)
        return doc

    async def stream_chat(self, r: httpx.Response, user: str, model: str | None,
                          n: int) -> AsyncIterator[bytes]:
        """Server-sent events: upstream deltas as they come, with the notice first and the trailer last."""
        prefix = self.notice_prefix()
        bodies: dict[int, list[str]] = {}
        started = False
        try:
            async for line in r.aiter_lines():
                if not line.startswith("data:"):
                    yield (line + "\n").encode()
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    yield b"data: [DONE]\n\n"
                    continue
                try:
                    chunk = json.loads(data)
                except ValueError:
                    yield (line + "\n").encode()
                    continue
                held = []
                for choice in chunk.get("choices") or []:
                    i = int(choice.get("index", 0))
                    delta = choice.get("delta") or {}
                    if isinstance(delta.get("content"), str):
                        bodies.setdefault(i, []).append(delta["content"])
                    if choice.get("finish_reason") is not None:
                        held.append(i)
                if not started and prefix:
                    started = True
                    yield _event(chunk, [{"index": i, "delta": {"content": prefix}, "finish_reason": None}
                                         for i in range(max(1, n))])
                for i in held:  # the trailer goes before the choice's finishing chunk
                    suffix, info = await run_in_threadpool(self._trailer, "".join(bodies.get(i, [])), user, model)
                    yield _event(chunk, [{"index": i, "delta": {"content": suffix}, "finish_reason": None,
                                          "synthguard": info}])
                yield f"data: {data}\n\n".encode()
        finally:
            await r.aclose()

    def _trailer(self, body: str, user: str, model: str | None) -> tuple[str, dict[str, Any]]:
        labeled, info = self.label_text(body, user, model)
        norm = _normal_body(body)
        at = labeled.find(norm) if norm else -1
        return (labeled[at + len(norm):] if at >= 0 else ""), info


def _event(like: dict[str, Any], choices: list[dict[str, Any]]) -> bytes:
    base = {k: like[k] for k in ("id", "object", "created", "model", "system_fingerprint") if k in like}
    return f"data: {json.dumps(base | {'choices': choices}, ensure_ascii=False)}\n\n".encode()


def create_gateway(sg: Any, *, upstream: str, upstream_key: str | None = None, keys: GatewayKeys | None = None,
                   producer: str | None = None, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The gateway app; ``upstream`` is the API's base URL as an OpenAI client takes it (``http://host/v1``);
    ``producer`` the GB 45438 provider code (default: the ``producer`` setting)."""
    gw = Gateway(sg, upstream=upstream, upstream_key=upstream_key, producer=producer, transport=transport,
                 keys=keys or GatewayKeys(Path(sg.settings.home) / "gateway-keys.json"))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await gw.client.aclose()

    app = FastAPI(title="SynthGuard labeling gateway", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.gateway = gw

    @app.exception_handler(SynthGuardError)
    async def _errors(_: Request, exc: SynthGuardError) -> JSONResponse:
        return _openai_error(exc)

    @app.post("/v1/images/generations")
    async def generations(request: Request) -> Response:
        user = gw.keys.user_for(_bearer(request))
        doc = await _json_body(request)
        r = await _forward(gw, "POST", "/images/generations", json=doc)
        if r.status_code >= 400:
            return _passthrough(r)
        answer = await gw.label_images(request, _upstream_json(r), user, model=doc.get("model"),
                                       fmt=doc.get("output_format", "png"))
        return JSONResponse(answer)

    @app.post("/v1/images/edits")
    async def edits(request: Request) -> Response:
        user = gw.keys.user_for(_bearer(request))
        form = await request.form(max_files=16, max_fields=64)
        fields, files, sources = {}, [], []
        st = sg.settings
        for key, value in form.multi_items():
            if isinstance(value, StarletteUpload):
                data = await value.read()
                files.append((key, (value.filename or "image.png", data, value.content_type or "image/png")))
                if key.startswith("image"):  # the edited picture(s): faces in them go through the gate (DS-15)
                    sources.append(Media.from_bytes(data, value.filename or "image.png", max_bytes=st.max_bytes,
                                                    max_pixels=st.max_pixels))
            else:
                fields[key] = value
        r = await _forward(gw, "POST", "/images/edits", data=fields, files=files)
        if r.status_code >= 400:
            return _passthrough(r)
        answer = await gw.label_images(request, _upstream_json(r), user, model=fields.get("model"),
                                       fmt=fields.get("output_format", "png"), sources=sources,
                                       purpose=fields.get("purpose") or "face_edit")
        return JSONResponse(answer)

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        user = gw.keys.user_for(_bearer(request))
        doc = await _json_body(request)
        model = doc.get("model")
        if doc.get("stream"):
            req = gw.client.build_request("POST", f"{gw.upstream}/chat/completions", json=doc)
            try:
                r = await gw.client.send(req, stream=True)
            except httpx.HTTPError as exc:
                raise UpstreamError("the upstream is unreachable: {reason}", values={"reason": str(exc)}) from exc
            if r.status_code >= 400:
                await r.aread()
                await r.aclose()
                return _passthrough(r)
            return StreamingResponse(gw.stream_chat(r, user, model, int(doc.get("n") or 1)),
                                     media_type="text/event-stream")
        r = await _forward(gw, "POST", "/chat/completions", json=doc)
        if r.status_code >= 400:
            return _passthrough(r)
        return JSONResponse(await run_in_threadpool(gw.label_choices, _upstream_json(r), user, model))

    @app.get("/v1/files/{name}", name="gateway_file")
    async def gateway_file(name: str) -> Response:
        import re

        path = gw.files / name
        if not re.match(_FILE_NAME, name) or not path.is_file():
            return JSONResponse({"error": {"message": "no such file", "type": "NotFoundError", "param": None,
                                           "code": None}}, status_code=404)
        return FileResponse(path)

    return app


async def _forward(gw: Gateway, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        return await gw.client.request(method, gw.upstream + path, **kwargs)
    except httpx.HTTPError as exc:
        raise UpstreamError("the upstream is unreachable: {reason}", values={"reason": str(exc)}) from exc


def _upstream_json(r: httpx.Response) -> dict[str, Any]:
    try:
        doc = r.json()
    except ValueError as exc:
        raise UpstreamError("the upstream answered with something that is not JSON") from exc
    if not isinstance(doc, dict):
        raise UpstreamError("the upstream answered with JSON that is not an object")
    return doc
