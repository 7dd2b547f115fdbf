"""The typer application every command module adds its commands to (``from synthguard.cli import app``), and the
lazy root group click runs it as.

:class:`LazyGroup` knows each command's module from ``synthguard.cli.COMMANDS`` and imports a module only when click
asks for one of its commands: ``synthguard inspect x.jpg`` loads label.py alone, the full help loads them all in the
table's order (issue 22: a subcommand starts ~0.2 s sooner; issue 23: the command modules themselves need no
function-level imports to stay out of each other's start-up).
"""

from __future__ import annotations

from difflib import get_close_matches
from importlib import import_module
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup
from typer.core import _click as click  # the click typer vendors (its exceptions are not click's)

from synthguard.cli import COMMANDS, MODULES, help_texts
from synthguard.cli.framework import localize
from synthguard.i18n import current, translate


class LazyGroup(TyperGroup):
    """The root group: commands of modules not yet imported are listed by name and built on first use."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # typer has just built everything registered so far; later registrations are the ones to build
        self._built = (len(app.registered_commands), len(app.registered_groups))

    def list_commands(self, ctx: Any) -> list[str]:
        """The table's order, which is the stored help's: commands first, then groups, by module."""
        return list(COMMANDS) + [name for name in self.commands if name not in COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.load(COMMANDS[cmd_name])
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """typer's "Did you mean" for an unknown word, from every command's name, loaded or not (importing every
        command module for a typo would cost ~1 s)."""
        suggest, self.suggest_commands = self.suggest_commands, False
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if suggest and args else []
            if matches:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(repr(m) for m in matches)}?"
            raise
        finally:
            self.suggest_commands = suggest

    def load_all(self) -> None:
        for module in MODULES:
            self.load(module)

    def load(self, module: str) -> None:
        """Import ``synthguard.cli.<module>`` (its decorators register on ``app``) and build what it added."""
        try:
            import_module(f"synthguard.cli.{module}")
        except ImportError:  # the server extra is optional: serve and tokens are then no commands
            if module != "serve":
                raise
        commands, groups = self._built
        built = [typer.main.get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                                  rich_markup_mode=app.rich_markup_mode)
                 for info in app.registered_commands[commands:]]
        built += [typer.main.get_group_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                                 rich_markup_mode=app.rich_markup_mode,
                                                 suggest_commands=app.suggest_commands)
                  for info in app.registered_groups[groups:]]
        self._built = (len(app.registered_commands), len(app.registered_groups))
        for cmd in built:
            _translate(cmd)
            if cmd.name is not None:  # typer names every command and group it builds
                self.commands.setdefault(cmd.name, cmd)


app = typer.Typer(cls=LazyGroup, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="SynthGuard: label, watermark, inspect and trace AI-generated media. "
                       "Global options: --lang en|zh_CN (or SYNTHGUARD_LANG), --version.")


@app.callback()
def _root() -> None:
    # A callback keeps the root a group even when only one command module is loaded: typer would otherwise make
    # a lone command (``assess``) the program itself, and ``synthguard assess x.yaml`` would fail.
    pass


def _translate(cmd: Any) -> None:
    if current() != "en":
        for obj, attr in help_texts(cmd):
            setattr(obj, attr, translate(getattr(obj, attr)))


def tree(everything: bool = False) -> LazyGroup:
    """The click command tree, help texts in the current language: lazy, or with ``everything`` loaded."""
    localize()
    cmd = typer.main.get_command(app)
    assert isinstance(cmd, LazyGroup)
    _translate(cmd)
    if everything:
        cmd.load_all()
    return cmd
