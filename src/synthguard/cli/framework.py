"""The command-line framework's own words (typer and the click it vendors) through our catalogs.

typer's help headings go through ``gettext.gettext`` under its own module name, click's "Usage:", "Show this
message and exit." and its usage errors are plain English f-strings.  :func:`localize` routes the first through
our translator and replaces the second; :func:`usage_error` rebuilds a usage error's text from the exception's
own fields, so ``--lang zh_CN`` shows no English the user did not type (issue 22).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from synthguard.i18n import N_, _, translate

# click's messages (typer/_click/exceptions.py, core.py), matched so that their values survive the translation
USAGE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^No such option: (?P<option>\S+?)(?: \(Possible options: (?P<hint>.+)\))?$"),
     N_("No such option: {option}")),
    (re.compile(r"^Missing argument '(?P<name>[^']+)'\.$"), N_("Missing argument {name}.")),
    (re.compile(r"^Missing option '(?P<name>[^']+)'\.$"), N_("Missing option {name}.")),
    (re.compile(r"^Got unexpected extra argument\(s\) \((?P<args>.*)\)$"), N_("Unexpected extra arguments: {args}")),
    (re.compile(r"^Invalid value for '?(?P<name>.+?)'?: (?:Value error, )?(?P<value>'.*') is not one of "
                r"(?P<choices>.+)\.$"), N_("Invalid value for {name}: {value} is not one of {choices}.")),
    (re.compile(r"^Invalid value for '?(?P<name>.+?)'?: (?P<detail>.*)$"), N_("Invalid value for {name}: {detail}")),
    (re.compile(r"^No such command '(?P<name>.+)'\.$"), N_("No such command {name!r}.")),
    (re.compile(r"^Option '(?P<name>[^']+)' requires an argument\.$"), N_("Option {name} needs a value.")),
    (re.compile(r"^Option '(?P<name>[^']+)' does not take a value\.$"), N_("Option {name} takes no value.")),
    (re.compile(r"^Missing command\.$"), N_("Missing command.")),
)
# typer's own gettext strings (typer/core.py), listed here so the catalog extractor sees them
TYPER_STRINGS = (N_("Arguments"), N_("Options"), N_("Commands"), N_("required"), N_("default: {default}"),
                 N_("env var: {var}"), N_("(dynamic)"), N_("Aborted!"), N_("No such command {name!r}."))
HELP_OPTION = N_("Show this message and exit.")
USAGE = N_("Usage:")


def _translate(message: str) -> str:
    return translate(message)


def localize() -> None:
    """Patch the framework (idempotent; English stays English, the catalog decides the rest)."""
    import typer.core
    from typer._click import decorators, formatting

    typer.core._ = _translate  # type: ignore[attr-defined]
    from typer._click import core as click_core

    click_core.Command.get_short_help_str = _first_paragraph  # type: ignore[method-assign]
    if not getattr(decorators.help_option, "_synthguard", False):
        original = decorators.help_option

        def help_option(*args: Any, **kwargs: Any) -> Any:
            apply = original(*args, **kwargs)

            def wrapped(command: Any) -> Any:
                out = apply(command)
                command.params[-1].help = translate(HELP_OPTION)
                return out

            return wrapped

        help_option._synthguard = True  # type: ignore[attr-defined]
        decorators.help_option = help_option
    if not getattr(formatting.HelpFormatter.write_usage, "_synthguard", False):
        write_usage = formatting.HelpFormatter.write_usage

        def localized_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
            write_usage(self, prog, args, translate(USAGE) + " " if prefix is None else prefix)

        localized_usage._synthguard = True  # type: ignore[attr-defined]
        formatting.HelpFormatter.write_usage = localized_usage  # type: ignore[method-assign]


def _first_paragraph(self: Any, limit: int = 45) -> str:
    """A command's summary in the command list: its whole first paragraph (wrapped by the formatter), never
    cut with '...' as click's default does at ``limit`` characters (issue 22)."""
    import inspect

    text = inspect.cleandoc(self.short_help or self.help or "")
    return text.split("\n\n")[0].replace("\n", " ").strip()


def usage_error(exc: Any) -> str:
    """The text of a click usage error in the current language: usage line, help hint, message."""
    message = exc.format_message()
    for pattern, template in USAGE_ERRORS:
        m = pattern.match(message)
        if m:
            values = {k: v for k, v in m.groupdict().items() if v is not None}
            if "choices" in values:  # values, not words: shown as code so no language reads them as prose
                values["choices"] = ", ".join(f"`{c.strip().strip(chr(39))}`" for c in values["choices"].split(","))
            message = translate(template, **values)
            if values.get("hint"):
                message += " " + _("Possible options: {hint}", hint=values["hint"])
            break
    lines = []
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        lines.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(_("Try '{command} {option}' for help.", command=ctx.command_path,
                           option=ctx.help_option_names[0]))
        lines.append("")
    lines.append(f"{_('error:')} {message}")
    return "\n".join(lines)


def show_usage_error(exc: Any) -> int:
    print(usage_error(exc), file=sys.stderr)
    return int(getattr(exc, "exit_code", 2))
