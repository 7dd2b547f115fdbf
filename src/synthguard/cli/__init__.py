"""The ``synthguard`` command line: typer app, one module per command group, ``--json`` everywhere.

Errors are mapped once, here: SynthGuardError -> its diagnostics on stderr (or a JSON error object
with ``--json``) and its ``exit_code``.
"""

from __future__ import annotations

import json
import sys

import typer

from synthguard.errors import SynthGuardError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="SynthGuard: label, watermark, inspect and trace AI-generated media.")


def _register() -> None:
    from synthguard.cli import assess, bank, evidence, keys, label, ledger, scan, users, watermark  # noqa: F401

    try:
        from synthguard.cli import serve  # noqa: F401
    except ImportError:  # the server extra is optional
        pass


def main(argv: list[str] | None = None) -> int:
    _register()
    args = sys.argv[1:] if argv is None else argv
    try:
        code = app(args=args, prog_name="synthguard", standalone_mode=False)
    except SynthGuardError as exc:
        if "--json" in args:
            print(json.dumps(exc.to_dict(), ensure_ascii=False), file=sys.stderr)
        else:
            print(f"error: {exc.diagnostics()}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # click's exceptions (typer vendors its own copy of click)
        name = type(exc).__name__
        if name == "Exit":
            return getattr(exc, "exit_code", 0)
        if name == "Abort":
            print("aborted", file=sys.stderr)
            return 1
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # usage errors: bad option, missing argument
            exc.show()
            return exc.exit_code
        raise
    return code if isinstance(code, int) else 0

