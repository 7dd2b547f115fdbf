"""Shared CLI plumbing: open the core object, print JSON or a readable summary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from synthguard.core import SynthGuard

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class _Console:
    """rich's Console, made on first print: importing rich costs ~0.1 s that ``--help`` need not pay."""

    def __init__(self, **kwargs: Any):
        self._kwargs, self._console = kwargs, None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._kwargs)
        return getattr(self._console, name)


console: Any = _Console()


@contextmanager
def core() -> Iterator[SynthGuard]:
    from synthguard.config import Settings
    from synthguard.core import SynthGuard

    sg = SynthGuard.open(Settings.load())
    try:
        yield sg
    finally:
        sg.close()


def open_media(path: Any) -> Any:
    """A file under the operator's size limits, for commands that need no database (hash, watermark detect)."""
    from synthguard.config import Settings
    from synthguard.media import Media

    st = Settings.load()
    return Media.open(path, max_bytes=st.max_bytes, max_pixels=st.max_pixels)


def emit(data: Any, as_json: bool, title: str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    from rich.table import Table

    if isinstance(data, list):
        if not data:
            console.print("(none)")
            return
        table = Table(title=title)
        keys = [k for k in data[0] if not isinstance(data[0][k], (dict, list))]
        for k in keys:
            table.add_column(k)
        for row in data:
            table.add_row(*(str(row.get(k, "")) for k in keys))
        console.print(table)
        return
    table = Table(title=title, show_header=False, box=None)
    table.add_column(style="bold cyan")
    table.add_column()
    for k, v in data.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items() if b not in (None, [], {}))
        elif isinstance(v, list):
            v = ", ".join(map(str, v)) or "-"
        table.add_row(str(k), "-" if v is None else str(v))
    console.print(table)
