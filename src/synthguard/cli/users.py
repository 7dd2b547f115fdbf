"""``synthguard users``: service users and their real-identity records (DS-07)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit
from synthguard.i18n import N_
from synthguard.identity import Method

# ids are per tenant (issue 18 finding 13): name the tenant when several tenants use the id
TenantOpt = Annotated[Optional[str], typer.Option(help="The user's tenant (needed when several tenants use the id).")]

users = typer.Typer(no_args_is_help=True, help="Service users and real-identity verification (DS-07).")
app.add_typer(users, name="users")


@users.command("add")
def add(user: str, tenant: Annotated[str, typer.Option()] = "default", as_json: JsonOpt = False) -> None:
    """Register a service user by the service's pseudonymous account id."""
    with core() as sg:
        emit(sg.add_user(user, tenant=tenant), as_json, N_("user added"))


@users.command("verify")
def verify(
    user: str,
    method: Annotated[Method, typer.Option(help="How the identity was verified.")],
    identifier: Annotated[Optional[str], typer.Option(help="The phone/ID/credit code; stored only as a salted hash.")] = None,
    reference: Annotated[Optional[str], typer.Option(help="The verifying service's transaction reference.")] = None,
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an operator-attested real-identity verification."""
    with core() as sg:
        emit(sg.verify_user(user, method.value, identifier=identifier, reference=reference, tenant=tenant), as_json,
             N_("verified"))


@users.command("list")
def list_(tenant: Annotated[Optional[str], typer.Option(help="Only this tenant's users.")] = None,
          as_json: JsonOpt = False) -> None:
    """List users and whether each is verified."""
    with core() as sg:
        emit(sg.users(tenant=tenant), as_json, N_("users"))


@users.command("erase")
def erase(user: str, reason: Annotated[str, typer.Option(help="Why (request, withdrawal, ...).")] = "request",
          tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """Erase a user's personal data by destroying its key (PIPL Art. 47); the ledger still verifies."""
    with core() as sg:
        emit(sg.erase_user(user, reason=reason, tenant=tenant), as_json, N_("erased"))
