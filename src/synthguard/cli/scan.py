"""``synthguard scan``, ``synthguard detectors evaluate`` and ``synthguard batch scan``."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit
from synthguard.errors import InputError, SynthGuardError

detectors_app = typer.Typer(no_args_is_help=True, help="Operator-supplied ML detectors (bring your own weights).")
batch_app = typer.Typer(no_args_is_help=True, help="Scan many files with a local process pool.")
app.add_typer(detectors_app, name="detectors")
app.add_typer(batch_app, name="batch")
err = Console(stderr=True)


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
    from synthguard.media import write_atomic

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
            raise InputError(f"propagator fields not written: {act.get('reason')}",
                             hint="Pass --propagator CODE (or set SYNTHGUARD_PRODUCER) and a JPEG/PNG/WebP file.")
    if as_json:
        emit(data, True)
        return
    emit({"file": result.file, "verdict": result.verdict, "label_value": result.label_value,
          "evidence": [f"{e['source']}:{e['kind']}" + (f" ({'; '.join(e['problems'])})" if e["problems"] else "")
                       for e in result.evidence],
          "matches": [f"{m['bank']}#{m['entry_id']} d={m['distance']}" for m in result.matches],
          "actions": [a["action"] + (f" [{a['status']}]" if "status" in a else "") for a in result.actions],
          "output": data.get("output")}, False, f"scan of {file}")
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
    emit(data, as_json, f"calibration of {ev.detector}")
    for w in ev.warnings:
        err.print(f"warning: {w}")


# --- batch ---------------------------------------------------------------------------------------
_SG: Any = None


def _worker_init() -> None:
    global _SG
    from synthguard.config import Settings
    from synthguard.core import SynthGuard

    _SG = SynthGuard.open(Settings.load())


def _scan_one(args: tuple[str, bool]) -> dict[str, Any]:
    """One JSON line: the scan result, or the error (the batch goes on)."""
    from synthguard.scan import scan

    path, declared = args
    if _SG is None:
        _worker_init()
    try:
        return {"file": path, **scan(_SG, path, declared_ai=declared).to_dict()}
    except SynthGuardError as exc:
        return {"file": path, "verdict": None, "error": exc.to_dict()}
    except Exception as exc:  # a decoder bug on one file must not stop the batch; it is recorded
        return {"file": path, "verdict": None, "error": {"error": type(exc).__name__, "message": str(exc),
                                                         "path": path, "hint": "report this file as a bug"}}


def batch_files(directory: Path) -> list[Path]:
    from synthguard.detection.evaluate import image_files

    return image_files(directory)


def scan_many(paths: list[Path], *, workers: int, declared_ai: bool = False) -> Iterator[dict[str, Any]]:
    """Scan ``paths`` with a local process pool, yielding one result dict per file (input order)."""
    jobs = [(str(p), declared_ai) for p in paths]
    if workers <= 1:
        yield from map(_scan_one, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
        yield from pool.map(_scan_one, jobs, chunksize=max(1, min(16, len(jobs) // (workers * 4) or 1)))


@batch_app.command("scan")
def batch_scan_cmd(
    directory: Annotated[Path, typer.Argument(help="Folder of images (searched recursively).")],
    out: Annotated[Path, typer.Option("--out", help="JSON Lines output: one result or error per file.")],
    workers: Annotated[Optional[int], typer.Option(help="Worker processes; default: one per CPU.")] = None,
    declared_ai: Annotated[bool, typer.Option("--declared-ai", help="Treat every file as declared AI (LM-14).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Scan every image in a folder; failures become error lines and the batch goes on."""
    paths = batch_files(directory)
    n = workers or os.cpu_count() or 1
    counts: Counter[str] = Counter()
    columns = (TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with open(out, "w", encoding="utf-8") as fh, Progress(*columns, console=err, disable=as_json) as bar:
        task = bar.add_task("scan", total=len(paths))
        for row in scan_many(paths, workers=n, declared_ai=declared_ai):
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            counts["error" if "error" in row else row["verdict"]] += 1
            bar.advance(task)
    summary = {"files": len(paths), "workers": n, "out": str(out), **{k: counts.get(k, 0) for k in (
        "ai_generated", "possibly_ai", "suspected_ai", "none", "error")}}
    if as_json:
        emit(summary, True)
        return
    table = Table(title=f"batch scan of {directory}")
    table.add_column("verdict")
    table.add_column("files", justify="right")
    for k in ("ai_generated", "possibly_ai", "suspected_ai", "none", "error"):
        table.add_row(k, str(counts.get(k, 0)))
    Console().print(table)
