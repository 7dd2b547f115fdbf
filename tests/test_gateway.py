"""Issue 26: the OpenAI-compatible gateway, driven by the official ``openai`` client against a stub upstream.

Both servers run for real on loopback ports (uvicorn in threads); the caller is ``openai.OpenAI`` pointed at the
gateway.  Every labeled output is read back with ``inspect``: the GB 45438 label must name the content id the
gateway reported, and the ledger must hold that record for the key's user (DS-07, DS-16..19, LM-03..10).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from PIL import Image

from synthguard.integrations.gateway import create_gateway
from synthguard.integrations.keys import GatewayKeys
from synthguard.media import Media
from tests.conftest import live_server

openai = pytest.importorskip("openai")
uvicorn = pytest.importorskip("uvicorn")

UPSTREAM_KEY = "sk-upstream-secret"
REPLY = "The sky over Shanghai is clear today.\nA light breeze comes from the east."


def _png(seed: int, size: int = 320) -> bytes:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, size)[None, :, None] * np.ones((size, 1, 3))
    img = np.clip(base + rng.normal(0, 20, (size, size, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


def stub_upstream(seen: list[dict]) -> FastAPI:
    """An upstream that answers like the OpenAI API (shapes from its API reference)."""
    app = FastAPI()

    def check(request: Request) -> JSONResponse | None:
        seen.append({"path": request.url.path, "auth": request.headers.get("authorization")})
        if request.headers.get("authorization") != f"Bearer {UPSTREAM_KEY}":
            return JSONResponse({"error": {"message": "bad upstream key", "type": "auth"}}, status_code=401)
        return None

    @app.post("/v1/images/generations")
    async def gen(request: Request):
        if (bad := check(request)) is not None:
            return bad
        doc = await request.json()
        if doc.get("model") == "nope":
            return JSONResponse({"error": {"message": "The model `nope` does not exist", "type":
                                           "invalid_request_error", "param": None, "code": "model_not_found"}},
                                status_code=404)
        n = int(doc.get("n") or 1)
        if doc.get("response_format") == "url":
            data = [{"url": f"{request.base_url}files/{i}.png"} for i in range(n)]
        else:
            data = [{"b64_json": base64.b64encode(_png(i)).decode(), "revised_prompt": doc["prompt"]}
                    for i in range(n)]
        return {"created": 1700000000, "data": data}

    @app.get("/files/{i}.png")
    async def file(i: int):
        return Response(_png(100 + i), media_type="image/png")

    @app.post("/v1/images/edits")
    async def edit(request: Request):
        if (bad := check(request)) is not None:
            return bad
        form = await request.form()
        img = Image.open(io.BytesIO(await form["image"].read())).convert("RGB")
        buf = io.BytesIO()
        Image.fromarray(255 - np.asarray(img)).save(buf, "PNG")
        return {"created": 1700000000, "data": [{"b64_json": base64.b64encode(buf.getvalue()).decode()}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        if (bad := check(request)) is not None:
            return bad
        doc = await request.json()
        base = {"id": "chatcmpl-1", "created": 1700000000, "model": doc["model"]}
        if not doc.get("stream"):
            return base | {"object": "chat.completion", "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": REPLY}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 20, "total_tokens": 25}}

        def events() -> Iterator[str]:
            chunk = base | {"object": "chat.completion.chunk"}
            yield "data: " + json.dumps(chunk | {"choices": [{"index": 0, "delta": {"role": "assistant",
                                                                                   "content": ""}}]}) + "\n\n"
            for word in REPLY.split(" "):
                piece = word if word == REPLY.split(" ")[0] else " " + word
                yield "data: " + json.dumps(chunk | {"choices": [{"index": 0, "delta": {"content": piece},
                                                                  "finish_reason": None}]}) + "\n\n"
            yield "data: " + json.dumps(chunk | {"choices": [{"index": 0, "delta": {},
                                                              "finish_reason": "stop"}]}) + "\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture
def env(sg, verified_user, settings):
    seen: list[dict] = []
    keys = GatewayKeys(settings.home / "gateway-keys.json")
    secret, _ = keys.add(verified_user, "test app")
    with live_server(stub_upstream(seen)) as up_url, \
            live_server(create_gateway(sg, upstream=up_url + "/v1", upstream_key=UPSTREAM_KEY, keys=keys,
                                       producer="ACME")) as gw_url:
        client = openai.OpenAI(base_url=gw_url + "/v1", api_key=secret, max_retries=0)
        yield {"client": client, "sg": sg, "user": verified_user, "seen": seen, "keys": keys, "url": gw_url}


def _label_of(sg, data: bytes, name: str) -> dict:
    return sg.inspect(Media.from_bytes(data, name))


def test_generated_images_come_back_labeled_in_b64_form(env):
    res = env["client"].images.generate(model="img-1", prompt="a cat", n=2, response_format="b64_json")
    assert len(res.data) == 2
    ids = set()
    for item in res.data:
        data = base64.b64decode(item.b64_json)
        assert data != _png(0) and data != _png(1)
        extra = item.model_extra["synthguard"]
        report = _label_of(env["sg"], data, "out.png")
        assert json.dumps(report).count(extra["content_id"]) >= 1
        rec = env["sg"].record(extra["content_id"])
        assert rec["record"]["user"] == env["user"] and rec["record"]["model"] == "img-1"
        assert item.revised_prompt == "a cat"
        ids.add(extra["content_id"])
    assert len(ids) == 2
    assert all(s["auth"] == f"Bearer {UPSTREAM_KEY}" for s in env["seen"])  # never the caller's key


def test_url_items_are_fetched_labeled_and_served_by_the_gateway(env):
    res = env["client"].images.generate(model="img-1", prompt="a dog", response_format="url")
    url = res.data[0].url
    assert url.startswith(env["url"] + "/v1/files/")
    data = httpx.get(url).content
    assert data != _png(100)
    assert res.data[0].model_extra["synthguard"]["content_id"] in json.dumps(_label_of(env["sg"], data, "o.png"))
    assert httpx.get(env["url"] + "/v1/files/..%2Fgateway-keys.json").status_code == 404


def test_edits_are_forwarded_as_multipart_and_labeled(env):
    res = env["client"].images.edit(model="img-1", image=("in.png", _png(7), "image/png"), prompt="invert")
    data = base64.b64decode(res.data[0].b64_json)
    inverted = 255 - np.asarray(Image.open(io.BytesIO(_png(7))).convert("RGB")).astype(int)
    got = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    assert np.abs(got - inverted).mean() < 12  # the upstream's edit, plus the label and the watermark
    assert res.data[0].model_extra["synthguard"]["content_id"] in json.dumps(_label_of(env["sg"], data, "o.png"))


def test_chat_reply_is_the_labeled_text(env):
    res = env["client"].chat.completions.create(model="chat-1", messages=[{"role": "user", "content": "weather?"}])
    text = res.choices[0].message.content
    assert text.startswith("【AI生成") and REPLY in text and "AIGC:" in text.splitlines()[-1]
    report = _label_of(env["sg"], text.encode(), "reply.txt")
    assert res.choices[0].model_extra["synthguard"]["content_id"] in json.dumps(report)
    assert "invalid" not in json.dumps(report.get("aigc_integrity", ""))
    assert res.usage.total_tokens == 25


def test_streamed_chat_keeps_streaming_and_concatenates_to_the_labeled_text(env):
    stream = env["client"].chat.completions.create(model="chat-1", stream=True,
                                                   messages=[{"role": "user", "content": "weather?"}])
    chunks = list(stream)
    assert len(chunks) >= len(REPLY.split(" ")) + 3  # the upstream's deltas are passed one by one
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("【AI生成") and REPLY in text and text.rstrip().splitlines()[-1].startswith("AIGC:")
    assert chunks[-1].choices[0].finish_reason == "stop"  # the trailer comes before the finishing chunk
    info = next(c.choices[0].model_extra["synthguard"] for c in chunks if c.choices and
                (c.choices[0].model_extra or {}).get("synthguard"))
    report = _label_of(env["sg"], text.encode(), "reply.txt")
    assert info["content_id"] in json.dumps(report)
    assert "invalid" not in json.dumps(report.get("aigc_integrity", ""))


def test_upstream_errors_pass_through_unchanged(env):
    with pytest.raises(openai.NotFoundError) as err:
        env["client"].images.generate(model="nope", prompt="x")
    assert err.value.status_code == 404 and err.value.code == "model_not_found"
    assert "does not exist" in err.value.message


def test_unknown_and_revoked_keys_are_refused(env):
    bad = openai.OpenAI(base_url=env["url"] + "/v1", api_key="sgk_nothing", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.images.generate(model="img-1", prompt="x")
    assert env["seen"] == []  # refused before anything reached the upstream
    for k in env["keys"].list():
        env["keys"].revoke(k.id)
    with pytest.raises(openai.AuthenticationError):
        env["client"].chat.completions.create(model="chat-1", messages=[{"role": "user", "content": "x"}])


def test_a_key_of_an_unverified_user_is_refused_with_403(env, settings):
    env["sg"].add_user("u-unverified")
    secret, _ = env["keys"].add("u-unverified")
    client = openai.OpenAI(base_url=env["url"] + "/v1", api_key=secret, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as err:
        client.images.generate(model="img-1", prompt="x", response_format="b64_json")
    assert "DS-07" in err.value.message


def test_key_file_keeps_only_hashes_and_is_private(settings):
    keys = GatewayKeys(settings.home / "gk.json")
    secret, rec = keys.add("u-1")
    raw = (settings.home / "gk.json").read_text()
    assert secret not in raw and rec.sha256 in raw
    assert (settings.home / "gk.json").stat().st_mode & 0o777 == 0o600
    assert keys.user_for(secret) == "u-1"
