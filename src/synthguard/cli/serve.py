"""``synthguard serve`` (the HTTP service) and ``synthguard tokens`` (its API tokens)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from synthguard.auth import Role, create_token, list_tokens, revoke_token
from synthguard.cli import app
from synthguard.cli.common import JsonOpt, console, core, emit
from synthguard.config import Settings
from synthguard.i18n import N_
from synthguard.lazy import load_lazily

# The HTTP application loads when `serve` runs (synthguard.lazy), not with this module: FastAPI is the optional server
# extra, and the `tokens` commands need not pay the server's ~0.5 s.
_SERVER = {"create_app": "synthguard.server"}


# synthguard.auth.Role's values, the option's choices (tests/test_cli_speed.py keeps them equal)
class RoleName(StrEnum):
    provider = "provider"
    platform = "platform"
    reviewer = "reviewer"
    victim = "victim"
    regulator = "regulator"
    admin = "admin"

tokens = typer.Typer(no_args_is_help=True, help="API tokens for `synthguard serve` (one role and tenant each).")
app.add_typer(tokens, name="tokens")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; put a TLS proxy in front for others.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Run the HTTP service (FastAPI + uvicorn): label, inspect, trace and record lookup (LM-24)."""
    import uvicorn  # the optional server extra, like FastAPI: `serve` alone needs it

    create_app = load_lazily(globals(), _SERVER, "create_app")
    # Tokens travel only in the Authorization header, which uvicorn's access log never records.  Client IPs
    # (rate limits, complaint throttles) come from X-Forwarded-For only when the peer is a trusted proxy.
    settings = Settings.load()
    uvicorn.run(create_app(settings, serving=True), host=host, port=port, server_header=False, **proxy_options(settings))


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy settings: headers trusted only from ``trusted_proxies`` (never from anyone)."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(settings.trusted_proxies)}


@tokens.command("create")
def create(
    role: Annotated[RoleName, typer.Option(help="What the token may do.")],
    tenant: Annotated[str, typer.Option(help="The organisation the token acts for.")],
    name: Annotated[str, typer.Option(help="A label for people (who holds it).")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create a token and print its secret once; only its SHA-256 is stored."""
    with core() as sg:
        secret, info = create_token(sg.db, Role(role.value), tenant, name)
    emit(info | {"token": secret}, as_json, N_("token created"))
    if not as_json:
        console.print("[bold yellow]Store the token now: it cannot be shown again.[/]")


@tokens.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List tokens (id, name, role, tenant, revoked) - never their secrets."""
    with core() as sg:
        emit(list_tokens(sg.db), as_json, "API tokens")


@tokens.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(metavar="ID")], as_json: JsonOpt = False) -> None:
    """Revoke a token; requests with it get 401 from then on."""
    with core() as sg:
        emit(revoke_token(sg.db, token_id), as_json, N_("token revoked"))
