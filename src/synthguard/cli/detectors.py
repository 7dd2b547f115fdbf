"""``synthguard detectors``: operator-supplied ML detectors (split from scan.py so ``synthguard scan`` does not load
the evaluation code: the root group loads this module only for ``detectors``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, _Console, emit
from synthguard.detection.evaluate import evaluate
from synthguard.i18n import _

detectors_app = typer.Typer(no_args_is_help=True, help="Operator-supplied ML detectors (bring your own weights).")
app.add_typer(detectors_app, name="detectors")
err = _Console(stderr=True)


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
    ev = evaluate(model, real, fake, target_fpr=target_fpr, write=not dry_run)
    data = ev.to_dict() | {"manifest": str(model), "written": not dry_run}
    emit(data, as_json, _("calibration of {detector}", detector=ev.detector))
    for w in ev.warnings:
        err.print(f"warning: {w}")
