"""The ``synthguard`` command line: typer app, one module per command group, ``--json`` everywhere.

Errors are mapped once, here: SynthGuardError -> its diagnostics on stderr (or a JSON error object
with ``--json``) and its ``exit_code``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import typer

from synthguard.errors import SynthGuardError
from synthguard.i18n import N_, translate

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="SynthGuard: label, watermark, inspect and trace AI-generated media. "
                       "Global option: --lang en|zh_CN (or SYNTHGUARD_LANG).")


def _register() -> None:
    from synthguard.cli import (  # noqa: F401
        assess,
        bank,
        compliance,
        consent,
        evidence,
        gateway,
        keys,
        label,
        ledger,
        moderation,
        scan,
        trust,
        users,
        watermark,
        witness,
        worker,
    )

    try:
        from synthguard.cli import serve  # noqa: F401
    except ImportError:  # the server extra is optional
        pass


def _take_lang(args: list[str]) -> tuple[str | None, list[str]]:
    """``--lang zh_CN`` / ``--lang=en`` anywhere on the line (a global option, read before the commands load so
    their help texts come out in that language)."""
    out, lang, i = [], None, 0
    while i < len(args):
        a = args[i]
        if a == "--lang" and i + 1 < len(args):
            lang, i = args[i + 1], i + 2
            continue
        if a.startswith("--lang="):
            lang = a.split("=", 1)[1]
        else:
            out.append(a)
        i += 1
    return lang, out


def main(argv: list[str] | None = None) -> int:
    from synthguard import i18n

    explicit, args = _take_lang(list(sys.argv[1:] if argv is None else argv))
    try:
        token = i18n.use(i18n.resolve(explicit))
    except SynthGuardError as exc:
        print(f"error: {exc.diagnostics('en')}", file=sys.stderr)
        return exc.exit_code
    try:
        return _run(args)
    finally:
        i18n.reset(token)


def help_texts(command: Any) -> Iterator[tuple[Any, str]]:
    """(object, attribute) for every help text in the click tree typer builds: commands, groups, options."""
    for attr in ("help", "short_help"):
        if getattr(command, attr, None):
            yield command, attr
    for param in getattr(command, "params", []):
        if getattr(param, "help", None):
            yield param, "help"
    for sub in getattr(command, "commands", {}).values():
        yield from help_texts(sub)


def command() -> Any:
    """The click command tree, with help texts (docstrings, ``help=``) in the current language."""
    import typer.main

    from synthguard.i18n import current

    _register()
    cmd = typer.main.get_command(app)
    if current() != "en":
        for obj, attr in help_texts(cmd):
            setattr(obj, attr, translate(getattr(obj, attr)))
        import typer.rich_utils as panels  # the help screen's panel titles

        for name, text in PANEL_TITLES.items():
            setattr(panels, name, translate(text))
    return cmd


PANEL_TITLES = {"ARGUMENTS_PANEL_TITLE": N_("Arguments"), "COMMANDS_PANEL_TITLE": N_("Commands"),
                "OPTIONS_PANEL_TITLE": N_("Options"), "ERRORS_PANEL_TITLE": N_("Error"),
                "ABORTED_TEXT": N_("Aborted.")}


def _run(args: list[str]) -> int:
    from synthguard.i18n import _

    try:
        code = command().main(args=args, prog_name="synthguard", standalone_mode=False)
    except SynthGuardError as exc:
        if "--json" in args:
            print(json.dumps(exc.to_dict(), ensure_ascii=False), file=sys.stderr)  # the stable English contract
        else:
            print(_("error:"), exc.diagnostics(), file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # click's exceptions (typer vendors its own copy of click)
        name = type(exc).__name__
        if name == "Exit":
            return getattr(exc, "exit_code", 0)
        if name == "Abort":
            print(_("aborted"), file=sys.stderr)
            return 1
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # usage errors: bad option, missing argument
            exc.show()
            return exc.exit_code
        raise
    return code if isinstance(code, int) else 0

