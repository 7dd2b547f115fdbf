"""``synthguard batch scan`` (the engine lives in synthguard.batch; split from scan.py, loaded only for ``batch``)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard import batch
from synthguard.batch import VERDICT_KEYS, run_batch
from synthguard.cli import app
from synthguard.cli.common import JsonOpt, _Console, console, emit, open_core
from synthguard.i18n import _

batch_app = typer.Typer(no_args_is_help=True, help="Scan many files: a local process pool or a Ray cluster.")
app.add_typer(batch_app, name="batch")
err = _Console(stderr=True)
scan_many = partial(batch.scan_many, opener=open_core)  # the library's, with cores opened as the commands open them


@batch_app.command("scan")
def batch_scan_cmd(
    source: Annotated[str, typer.Argument(help="A folder (recursive), a manifest (one path per line) or a bucket URL (s3://bucket/prefix).")],
    out: Annotated[Path, typer.Option("--out", help="JSON Lines output: one result or error per file; also the checkpoint.")],
    engine: Annotated[str, typer.Option("--engine", help="local (process pool) or ray (Ray Data).")] = "local",
    workers: Annotated[Optional[int], typer.Option(help="Worker processes / Ray actors; default: one per CPU.")] = None,
    declared_ai: Annotated[bool, typer.Option("--declared-ai", help="Treat every file as declared AI (LM-14).")] = False,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Skip files already in --out (default), or start over.")] = True,
    address: Annotated[Optional[str], typer.Option("--address", help="Ray cluster address (ray engine); default: a local Ray.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Scan many files (images, audio, video, text); failures become error lines and the batch goes on; a rerun
    resumes where it stopped; files of other types are listed as not scanned, with the reason."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    columns = (TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err.get(), disable=as_json) as bar:
        task = bar.add_task("scan", total=None)
        summary = run_batch(source, out, opener=open_core, engine=engine, workers=workers, declared_ai=declared_ai,
                            resume=resume, address=address,
                            on_start=lambda todo, _skipped: bar.update(task, total=todo),
                            on_row=lambda _row: bar.advance(task))
    if as_json:
        emit(summary, True)
        return
    table = Table(title=f"batch scan of {source} ({summary['engine']}, {summary['skipped']} already done)")
    table.add_column("verdict")
    table.add_column("files", justify="right")
    for k in VERDICT_KEYS:
        table.add_row(k, str(summary[k]))
    console.print(table)
    for item in summary["not_scanned_files"]:  # never silently: say which files were left out and why
        err.print(_("not scanned: {file}: {reason}", file=item["file"], reason=item["reason"]), soft_wrap=True,
                  markup=False, highlight=False)
    if summary["not_scanned"] > len(summary["not_scanned_files"]):
        err.print(_("... and {n} more not scanned", n=summary["not_scanned"] - len(summary["not_scanned_files"])))
