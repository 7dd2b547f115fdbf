"""``synthguard evidence`` and ``synthguard evidence-verify``: bundles a victim can hand to police or a court."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, console, core, emit


@app.command()
def evidence(
    file: Annotated[Path, typer.Argument(help="The file found in the wild.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the bundle (.zip).")],
    include_file: Annotated[bool, typer.Option(
        "--include-file", help="Also put the file itself in the bundle (off by default: it may be intimate "
                               "imagery).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write an evidence bundle: evidence.json, report.html/.pdf, signed checkpoint, key, verify.py, manifest.

    Exits 0 whenever the bundle was written, also when no record was found (then it says found: false and
    explains which marks were looked for); see `synthguard trace` for an exit code that signals "not found".
    """
    from synthguard.evidence import build_bundle, write_bundle

    with core() as sg:
        bundle = build_bundle(sg, file, include_file=include_file)
    written = write_bundle(bundle, output)
    emit({"bundle": str(written), **bundle.summary()}, as_json, f"evidence for {file}")


@app.command("evidence-verify")
def evidence_verify(bundle: Annotated[Path, typer.Argument(help="A bundle written by `synthguard evidence`.")],
                    as_json: JsonOpt = False) -> None:
    """Re-check a bundle's manifest, inclusion proof and checkpoint signature; exit 7 if any check fails."""
    from rich.markup import escape

    from synthguard.evidence import verify_bundle

    result = verify_bundle(bundle)
    if as_json:
        emit(result, True)
    else:
        for c in result["checks"]:
            mark = "[green]ok[/green]  " if c["ok"] else "[red]FAIL[/red]"
            console.print(f"  {mark} {c['check']}: {escape(c['detail'])}", highlight=False)
        console.print(f"found: {str(result['found']).lower()}  content id: {result['content_id'] or '-'}  "
                      + ("[green]OK[/green]" if result["ok"] else "[red]FAILED[/red]"))
    if not result["ok"]:
        raise typer.Exit(7)
