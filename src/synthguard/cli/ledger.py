"""``synthguard ledger``, ``synthguard trace`` and ``synthguard record``: the proof side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, console, core, emit
from synthguard.i18n import N_, _

ledger = typer.Typer(no_args_is_help=True, help="The tamper-evident generation ledger (DS-18, LM-20).")
app.add_typer(ledger, name="ledger")


@ledger.command("checkpoint")
def checkpoint(as_json: JsonOpt = False) -> None:
    """Sign and store the current tree head (size, root, time) with the ledger key."""
    with core() as sg:
        data = sg.checkpoint()
    emit(data if as_json else {k: data[k] for k in ("origin", "tree_size", "root", "timestamp", "log_id")},
         as_json, "checkpoint")


@ledger.command("vkey")
def verifier_key(as_json: JsonOpt = False) -> None:
    """Print the checkpoint verifier key (C2SP signed-note vkey) others pin: name+key ID+base64 key."""
    with core() as sg:
        data = {"origin": sg.ledger_origin(), "vkey": sg.ledger_vkey()}
    if as_json:
        emit(data, True)
    else:
        console.print(data["vkey"], soft_wrap=True)


@ledger.command("verify")
def verify(as_json: JsonOpt = False) -> None:
    """Recompute the tree from the stored entries and check every checkpoint; exit 7 on any problem."""
    with core() as sg:
        report = sg.verify_ledger()
    if as_json:
        emit(report, True)
    else:
        console.print(f"entries: {report.get('size')}  checkpoints: {report.get('checkpoints')}  "
                      f"{'OK' if report['ok'] else 'TAMPERED'}")
        for p in report.get("problems", []):
            console.print(f"  [red]{p['kind']}[/red] at {p.get('index')}: {p['detail']}")
    if not report["ok"]:
        raise typer.Exit(7)


@app.command()
def trace(file: Annotated[Path, typer.Argument(help="A file found in the wild.")], as_json: JsonOpt = False) -> None:
    """Trace a file to the record that made it, with an RFC 6962 inclusion proof; exit 4 when not found."""
    with core() as sg:
        data = sg.tracer.trace(file).to_dict()
    if as_json:
        emit(data, True)
    else:
        summary = {"found": data["found"], "via": data["via"], "producer": data["producer"],
                   "content_id": data["content_id"]}
        if data["record"]:
            summary |= {"user": data["record"]["user"], "created_at": data["record"]["created_at"]}
            if data["record"].get("tenant", "default") != "default":  # ids are per tenant (issue 18 finding 13)
                summary["tenant"] = data["record"]["tenant"]
        if data["proof"]:
            summary |= {"leaf_index": data["proof"]["leaf_index"], "tree_size": data["proof"]["tree_size"],
                        "proof_verified": data["proof"]["verified"],
                        "checkpoint": "signed" if data["checkpoint"] else "none yet"}
        if data.get("provider"):  # another provider's record, verified against the trust list (issue 19)
            prov = data["provider"]
            summary |= {"provider": prov.get("name") or prov.get("origin"), "key": prov.get("key_fingerprint"),
                        "key_source": prov.get("key_source"), "witnesses": ", ".join(prov.get("witnesses") or [])
                        or "-"}
        summary["problems"] = data["problems"]
        emit(summary, False, _("trace of {file}", file=file))
    if not data["found"]:
        raise typer.Exit(4)


@app.command()
def record(content_id: str, as_json: JsonOpt = False) -> None:
    """Look up a record by content id (GB 45438 ProduceID) with its inclusion proof."""
    with core() as sg:
        emit(sg.tracer.record(content_id), as_json, content_id)


@ledger.command("purge")
def purge(dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
          as_json: JsonOpt = False) -> None:
    """Delete personal data older than log_retention_days (>= 183); ledger entries are kept."""
    with core() as sg:
        emit(sg.purge(dry_run=dry_run), as_json, N_("purge"))
