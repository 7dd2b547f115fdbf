"""``synthguard scan`` (``detectors evaluate`` is in detectors.py, ``batch scan`` in batch.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, _Console, core, emit
from synthguard.errors import InputError
from synthguard.i18n import _
from synthguard.media import write_atomic

err = _Console(stderr=True)


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
