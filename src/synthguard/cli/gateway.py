"""``synthguard gateway``: the OpenAI-compatible labeling gateway (issue 26) and its API keys."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit
from synthguard.config import Settings
from synthguard.integrations.keys import GatewayKeys
from synthguard.lazy import load_lazily

# The gateway's HTTP application loads when `gateway serve` runs (synthguard.lazy), not with this module: FastAPI is
# the optional server extra, and the key commands work without it.
_SERVER = {"create_gateway": "synthguard.integrations.gateway"}

gateway = typer.Typer(no_args_is_help=True,
                      help="An OpenAI-compatible gateway that labels every generated image and reply.")
key = typer.Typer(no_args_is_help=True, help="Gateway API keys: each maps a caller to a verified user (DS-07).")
gateway.add_typer(key, name="key")
app.add_typer(gateway, name="gateway")


def _keys():  # type: ignore[no-untyped-def]
    return GatewayKeys(Path(Settings.load().home) / "gateway-keys.json")


@gateway.command("serve")
def serve(
    upstream: Annotated[str, typer.Option(help="The upstream API's base URL, e.g. https://api.example.com/v1.")],
    host: Annotated[str, typer.Option(help="Interface to bind; put a TLS proxy in front for others.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    producer: Annotated[str | None, typer.Option(help="GB 45438 provider code (default: SYNTHGUARD_PRODUCER).")] = None,
) -> None:
    """Forward image and chat requests to UPSTREAM and label every output (key: SYNTHGUARD_UPSTREAM_KEY)."""
    import uvicorn  # the optional server extra, like FastAPI

    create_gateway = load_lazily(globals(), _SERVER, "create_gateway")
    with core() as sg:
        uvicorn.run(create_gateway(sg, upstream=upstream, upstream_key=os.environ.get("SYNTHGUARD_UPSTREAM_KEY"),
                                   producer=producer),
                    host=host, port=port, server_header=False, proxy_headers=False)


@key.command("add")
def add(
    user: Annotated[str, typer.Argument(help="The SynthGuard user whose outputs this key's requests are.")],
    name: Annotated[str, typer.Option(help="A label for people (which app holds it).")] = "",
    tenant: Annotated[Optional[str], typer.Option(help="The user's tenant (needed when several tenants use the "
                                                       "id).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key for USER and print its secret once; only its SHA-256 is stored."""
    with core() as sg:
        account = sg.user(user, tenant=tenant)  # refuses an unknown user now rather than at the first request
    secret, record = _keys().add(user, name, tenant=account["tenant"])
    emit({"secret": secret, **asdict(record)}, as_json, title="gateway key (the secret is shown only now)")


@key.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List keys (ids, users, names; never the secrets)."""
    emit([asdict(k) for k in _keys().list()], as_json, title="gateway keys")


@key.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (gk_...).")], as_json: JsonOpt = False) -> None:
    """Revoke a key at once."""
    emit(asdict(_keys().revoke(key_id)), as_json, title="revoked")
