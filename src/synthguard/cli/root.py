"""The typer application every command module adds its commands to (``from synthguard.cli import app``)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="SynthGuard: label, watermark, inspect and trace AI-generated media. "
                       "Global options: --lang en|zh_CN (or SYNTHGUARD_LANG), --version.")


@app.callback()
def _root() -> None:
    # A callback keeps the root a group even when only one command module is loaded: typer would otherwise make
    # a lone command (``assess``) the program itself, and ``synthguard assess x.yaml`` would fail.
    pass
