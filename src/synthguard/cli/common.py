"""Shared CLI plumbing: open the core object, print JSON or a readable summary."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

import synthguard
from synthguard.cli.human import render
from synthguard.config import Settings
from synthguard.media import Media

if TYPE_CHECKING:
    from synthguard.core import SynthGuard

def actor_of(actor: str | None) -> str:
    """Who ran a command, for the ledger: ``--actor`` when given, else ``cli:`` and the login name."""
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (containers)
        return "cli"


JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class _Console:
    """rich's Console, made on first print: importing rich costs ~0.1 s that ``--help`` need not pay."""

    def __init__(self, **kwargs: Any):
        self._kwargs: dict[str, Any] = kwargs
        self._console: Any = None

    def get(self) -> Any:
        """The rich Console itself (for rich's Progress and Live, which use it as a context manager)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._kwargs)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


console: Any = _Console()


def open_core() -> SynthGuard:
    """The core object from the operator's settings: the CLI is a composition root (issue 23), and domain code that
    opens cores in other processes (batch workers) is given this function.  ``core`` loads here, when a command
    runs, not when the command module is imported: ~1 s that ``hash`` and ``--help`` need not pay (``synthguard``'s
    public names load on first use, synthguard.lazy)."""
    return synthguard.SynthGuard.open(Settings.load())


@contextmanager
def core() -> Iterator[SynthGuard]:
    sg = open_core()
    try:
        yield sg
    finally:
        sg.close()


def open_media(path: Any) -> Any:
    """A file under the operator's size limits, for commands that need no database (hash, watermark detect)."""
    st = Settings.load()
    return Media.open(path, max_bytes=st.max_bytes, max_pixels=st.max_pixels)


def run(call: Callable[[SynthGuard], Any], as_json: bool, title: str | None = None) -> None:
    """Open the core, make one call and print its result (:func:`emit`): the body of most commands."""
    with core() as sg:
        emit(call(sg), as_json, title)


def emit(data: Any, as_json: bool, title: str | None = None, labels: dict[str, str] | None = None) -> None:
    """``--json``: the stable machine contract; otherwise the 80-column human view of cli/human.py."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    typer.echo(render(data, title, labels))
