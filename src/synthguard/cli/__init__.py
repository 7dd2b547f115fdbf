"""The ``synthguard`` command line: typer app, one module per command group, ``--json`` everywhere.

Errors are mapped once, here: SynthGuardError -> its diagnostics on stderr (or a JSON error object
with ``--json``) and its ``exit_code``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from synthguard import i18n
from synthguard.cli.framework import show_usage_error
from synthguard.errors import ConfigError, SynthGuardError
from synthguard.i18n import N_, _
from synthguard.lazy import load_lazily

# The typer side, :mod:`synthguard.cli.root` (typer, click and the lazy root group), loads on first use
# (synthguard.lazy): ``app`` when a command module registers on it, ``tree`` when a command runs or its help is built;
# ``--version`` and the stored ``--help`` answer without it.
_TYPER_SIDE = {"app": "synthguard.cli.root", "tree": "synthguard.cli.root"}


def __getattr__(name: str) -> Any:
    return load_lazily(globals(), _TYPER_SIDE, name)


# Which module defines each top-level command, in the order the top-level help lists them (commands, then groups):
# the root group (cli/root.py LazyGroup) imports a module only when click asks for one of its commands, so
# ``synthguard inspect x.jpg`` imports label.py alone (issue 22: a subcommand starts ~0.2 s sooner;
# tests/test_cli_speed.py checks this table against the commands the modules register).
COMMANDS = {
    "label": "label", "inspect": "label", "scan": "scan", "trace": "ledger", "record": "ledger",
    "evidence": "evidence", "evidence-verify": "evidence", "assess": "assess", "report": "moderation",
    "worker": "worker", "serve": "serve", "hash": "bank", "monitor": "witness", "detectors": "detectors",
    "batch": "batch",
    "ledger": "ledger", "moderation": "moderation", "jobs": "worker", "tokens": "serve", "bank": "bank",
    "compliance": "compliance", "consent": "consent", "keys": "keys", "users": "users", "watermark": "watermark",
    "gateway": "gateway", "trust": "trust", "witness": "witness", "provider": "witness",
}
MODULES = ("label", "scan", "detectors", "batch", "ledger", "evidence", "assess", "moderation", "worker", "serve",
           "bank", "compliance", "consent", "keys", "users", "watermark", "gateway", "trust", "witness")


def stored_help(lang: str, path: Sequence[str] = ()) -> str | None:
    """The ``--help`` text of the top level (``cli/help/<lang>.txt``) or of the command ``path`` (``consent grant``:
    ``cli/help/<lang>.commands.json``) stored in the package, written by ``python -m synthguard.cli.help_index`` from
    the real command tree; tests/test_cli_speed.py fails when it is stale.  Building the tree means importing every
    command module and typer reading ~200 signatures: ~0.5 s; one command's help still imports its module, typer
    and the domain modules the command module imports: ~0.2 s, ~0.05 s stored."""
    from importlib.resources import files  # the standard library's, loaded on use like importlib.metadata

    if not path:
        text = files("synthguard.cli").joinpath("help", f"{lang}.txt")
        return text.read_text(encoding="utf-8") if text.is_file() else None
    table = files("synthguard.cli").joinpath("help", f"{lang}.commands.json")
    return json.loads(table.read_text(encoding="utf-8")).get(" ".join(path)) if table.is_file() else None


def _stored_command_help(args: list[str]) -> str | None:
    """``synthguard <command> [<subcommand>] --help``, answered from the stored texts when they print the same:
    words only before ``--help`` (no option, whose value could change the output) and a terminal of at least 80
    columns (click wraps help at ``min(columns, 80) - 2``: the stored texts are wrapped at 80)."""
    import shutil

    words = args[:-1]
    if not words or args[-1] != "--help" or any(w.startswith("-") for w in words):
        return None
    if shutil.get_terminal_size().columns < 80:
        return None
    return stored_help(i18n.current(), words)


def _no_command(overview: str) -> str:
    """What ``synthguard`` alone prints (the root's no_args_is_help, a usage error: framework.usage_error) from the
    stored overview, so an empty line does not import every command module either."""
    usage = overview.split("\n", 1)[0]
    return "\n".join([usage, _("Try '{command} {option}' for help.", command="synthguard", option="--help"), "",
                      f"{_('error:')} {overview}"])


def render_help(lang: str) -> str:
    """The top-level help as the full command tree prints it, at 80 columns."""
    return render_helps(lang, top_only=True)[""]


def render_helps(lang: str, top_only: bool = False) -> dict[str, str]:
    """Every help screen as the full command tree prints it, at 80 columns, by command path ("" the top level,
    "consent grant" a subcommand)."""
    token = i18n.use(lang)
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        out = {"": _captured(["--help"])}
        if not top_only:
            tree = command()
            for path in _paths(tree):
                out[" ".join(path)] = _captured([*path, "--help"], tree)
    finally:
        i18n.reset(token)
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return out


def _captured(args: list[str], tree: Any = None) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        _run(args, tree)
    return buf.getvalue()


def _paths(cmd: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The command paths below ``cmd``: ("label",), ("consent",), ("consent", "grant"), ..."""
    for name, sub in getattr(cmd, "commands", {}).items():
        yield (*prefix, name)
        yield from _paths(sub, (*prefix, name))


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


def version() -> str:
    from importlib.metadata import PackageNotFoundError  # the standard library's, ~10 ms that --help need not pay
    from importlib.metadata import version as dist_version

    try:
        return dist_version("synthguard")
    except PackageNotFoundError:  # a source tree on PYTHONPATH, not installed
        return "0+unknown"


# Math libraries' thread pools: one thread unless the operator sets the variable.  A command works on one file
# with small matrix products, and OpenBLAS's pool spins at numpy's import: on 2 cores it took 60 ms of CPU from
# every command (issue 22); the server's workers are one process per core anyway (docs/operations.md).
MATH_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the console command (not a test calling main in a process that has numpy already)
        for var in MATH_THREAD_VARS:
            os.environ.setdefault(var, "1")
    explicit, args = _take_lang(list(sys.argv[1:] if argv is None else argv))
    if args[:1] in (["--version"], ["-V"]):  # before typer loads: answers in the time Python starts
        print(f"synthguard {version()}")
        return 0
    try:
        token = i18n.use(i18n.resolve(explicit))
    except i18n.UnsupportedLanguage as bad:
        exc = ConfigError("unsupported language {value!r} ({where})", values={"value": bad.value, "where": bad.where},
                          hint=N_("Use one of the supported languages: en, zh_CN."))
        print(f"error: {exc.diagnostics('en')}", file=sys.stderr)
        return exc.exit_code
    try:
        if args in (["--help"], ["-h"]) and (stored := stored_help(i18n.current())) is not None:
            print(stored, end="")  # the overview, as `synthguard help-index` stored it: no command module loads
            return 0
        if not args and (stored := stored_help(i18n.current())) is not None:
            print(_no_command(stored), end="", file=sys.stderr)  # click's usage error for an empty line, stored
            return 2
        if (stored := _stored_command_help(args)) is not None:
            print(stored, end="")  # one command's help, stored the same way: its module does not load either
            return 0
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


def command(args: list[str] | None = None) -> Any:
    """The click command tree, help texts in the current language: every command loaded when no ``args`` are
    given; for a command line, the lazy root that loads the module of the command click resolves."""
    return load_lazily(globals(), _TYPER_SIDE, "tree")(everything=args is None)


def _run(args: list[str], tree: Any = None) -> int:
    try:
        code = (tree or command(args)).main(args=args, prog_name="synthguard", standalone_mode=False)
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
            return show_usage_error(exc)
        raise
    return code if isinstance(code, int) else 0

