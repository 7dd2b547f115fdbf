"""``synthguard scan``, ``synthguard detectors evaluate`` and ``synthguard batch scan``."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, _Console, console, core, emit, open_core
from synthguard.errors import InputError
from synthguard.i18n import _
from synthguard.media import write_atomic

detectors_app = typer.Typer(no_args_is_help=True, help="Operator-supplied ML detectors (bring your own weights).")
batch_app = typer.Typer(no_args_is_help=True, help="Scan many files: a local process pool or a Ray cluster.")
app.add_typer(detectors_app, name="detectors")
app.add_typer(batch_app, name="batch")
err = _Console(stderr=True)


def __getattr__(name: str) -> object:  # scan_many and VERDICT_KEYS: re-exported from their old home, lazily
    if name in ("scan_many", "VERDICT_KEYS"):
        import synthguard.batch

        if name == "scan_many":  # the old signature: cores opened from the settings, as the command does
            return partial(synthguard.batch.scan_many, opener=open_core)
        return getattr(synthguard.batch, name)
    raise AttributeError(name)


@app.command("scan")
def scan_cmd(
    file: Annotated[Path, typer.Argument(help="The uploaded image.")],
    declared_ai: Annotated[bool, typer.Option("--declared-ai", help="The uploader declared AI content (LM-14).")] = False,
    write_propagator: Annotated[Optional[Path], typer.Option("--write-propagator", help="Write the file with the platform's propagator fields here (LM-17).")] = None,
    propagator: Annotated[Optional[str], typer.Option(help="Platform code for ContentPropagator; default SYNTHGUARD_PRODUCER.")] = None,
    propagate_id: Annotated[Optional[str], typer.Option(help="The platform's content id (PropagateID); default: a new id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Scan an upload: labels, watermarks, hash banks, detectors -> is / may be / suspected AI-generated."""
    with core() as sg:
        code = (propagator or sg.settings.producer) if write_propagator else propagator
        result = sg.scan(file, declared_ai=declared_ai, propagator=code, propagate_id=propagate_id)
    data = result.to_dict()
    if write_propagator is not None:
        if result.output is not None:
            write_atomic(write_propagator, result.output.data)
            data["output"] = str(write_propagator)
        elif result.verdict == "none":
            err.print("nothing written: the verdict is 'none', so no propagator fields are due (LM-17)")
        else:
            act = next(a for a in result.actions if a["action"] == "write_propagator")
            raise InputError("propagator fields not written: {reason}",
                             hint="Pass --propagator CODE (or set SYNTHGUARD_PRODUCER) and a JPEG/PNG/WebP file.",
                             values={"reason": act.get("reason")})
    if as_json:
        emit(data, True)
        return
    emit({"file": result.file, "verdict": result.verdict, "label_value": result.label_value,
          "evidence": [f"{e['source']}:{e['kind']}" + (f" ({'; '.join(e['problems'])})" if e["problems"] else "")
                       for e in result.evidence],
          "matches": [f"{m['bank']}#{m['entry_id']} d={m['distance']}" for m in result.matches],
          "actions": [a["action"] + (f" [{a['status']}]" if "status" in a else "") for a in result.actions],
          "output": data.get("output")}, False, _("scan of {file}", file=file))
    notice = next((a for a in result.actions if a["action"] == "notice"), None)
    if notice:
        err.print(f"notice: {notice['text']['zh']} / {notice['text']['en']}")


@detectors_app.command("evaluate")
def evaluate_cmd(
    model: Annotated[Path, typer.Option("--model", help="The detector manifest (YAML/JSON) naming the ONNX weights.")],
    real: Annotated[Path, typer.Option("--real", help="Folder of real (human-made) images.")],
    fake: Annotated[Path, typer.Option("--fake", help="Folder of AI-generated images.")],
    target_fpr: Annotated[float, typer.Option("--target-fpr", help="Largest acceptable false-positive rate.")] = 0.01,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only; leave the manifest unchanged.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """ROC AUC, EER and the threshold for a target FPR; stores the calibrated threshold in the manifest."""
    from synthguard.detection.evaluate import evaluate

    ev = evaluate(model, real, fake, target_fpr=target_fpr, write=not dry_run)
    data = ev.to_dict() | {"manifest": str(model), "written": not dry_run}
    emit(data, as_json, _("calibration of {detector}", detector=ev.detector))
    for w in ev.warnings:
        err.print(f"warning: {w}")


# --- batch (the engine lives in synthguard.batch) ----------------------------------------------------
def batch_files(directory: Path) -> list[Path]:
    from synthguard.detection.evaluate import image_files

    return image_files(directory)


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

    from synthguard.batch import VERDICT_KEYS, run_batch

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
