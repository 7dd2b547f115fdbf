"""``synthguard keys``: development keys under $SYNTHGUARD_HOME/keys."""

from __future__ import annotations

from typing import Annotated

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, emit
from synthguard.config import Settings
from synthguard.i18n import N_
from synthguard.keys import init_keys

keys = typer.Typer(no_args_is_help=True, help="Signing and secret keys.")
app.add_typer(keys, name="keys")


@keys.command("init")
def init(force: Annotated[bool, typer.Option("--force", help="Replace existing keys.")] = False,
         as_json: JsonOpt = False) -> None:
    """Create missing development keys: C2PA root CA + signing cert, ledger key, secrets."""
    settings = Settings.load()
    written = [str(p) for p in init_keys(settings, force=force)]
    emit({"keys_dir": str(settings.keys_dir), "written": written}, as_json, N_("keys"))
