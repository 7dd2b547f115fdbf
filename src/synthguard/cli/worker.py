"""``synthguard worker`` (run N worker processes) and ``synthguard jobs`` (inspect, enqueue, requeue)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, _Console, core, emit
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import InputError
from synthguard.i18n import N_
from synthguard.jobs.worker import run_pool

jobs_app = typer.Typer(no_args_is_help=True, help="The job queue: scans and actions run by `synthguard worker`.")
app.add_typer(jobs_app, name="jobs")
err = _Console(stderr=True)


@app.command("worker")
def worker_cmd(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=256, help="Worker processes.")] = 1,
    burst: Annotated[bool, typer.Option("--burst", help="Exit when no job is queued or running.")] = False,
    nice: Annotated[int, typer.Option("--nice", min=0, max=19, help=(
        "Lower the CPU priority of the scans by this much, so the processes answering uploads win the cores: "
        "of the analysis processes when scan_processes and scan_cache are set (the workers keep theirs for their "
        "database writes), else of the workers."))] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Run worker processes on the job queue; a worker that dies is restarted; SIGTERM drains and stops."""
    import os

    # deep scans are background work: on a machine that also serves uploads they should not take its cores from
    # the request processes (issue 28).  With analysis processes, only they are lowered: a worker lowered itself
    # would hold the database's write lock while preempted, and the uploads' writes would wait on it
    settings = Settings.load()
    if nice and settings.scan_processes and settings.scan_cache:  # the analysis processes belong to the cache
        settings = settings.model_copy(update={"scan_process_nice": nice})
    else:
        os.nice(nice)
    priority = os.nice(0)
    with core() as sg:  # migrate once here, not in N racing children
        before = sg.jobs.queue.stats()

    def show(event: str, data: dict) -> None:
        if not as_json:
            err.print(f"worker {data['worker']}: {event} (pid {data['pid']}"
                      + (f", exit {data['exitcode']})" if "exitcode" in data else ")"))

    summary = run_pool(settings, concurrency, open_core=SynthGuard.open, burst=burst, on_event=show)
    with core() as sg:
        after = sg.jobs.queue.stats()
    emit(summary | {"nice": priority, "before": before, "after": after}, as_json, N_("workers"))


@jobs_app.command("status")
def status_cmd(as_json: JsonOpt = False) -> None:
    """Jobs per state (queued, running, done, dead)."""
    with core() as sg:
        emit(sg.jobs.queue.stats(), as_json, N_("jobs"))


@jobs_app.command("list")
def list_cmd(
    state: Annotated[Optional[str], typer.Option(help="queued, running, done or dead.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The most recent jobs, newest first."""
    with core() as sg:
        rows = sg.jobs.queue.recent(state=state, limit=limit)
    emit(rows if as_json else [{k: r[k] for k in ("id", "kind", "state", "attempts", "created_at")} for r in rows],
         as_json, "jobs")


@jobs_app.command("show")
def show_cmd(job_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """One job with its result or error."""
    with core() as sg:
        emit(sg.jobs.get(job_id), as_json, f"job {job_id}")


@jobs_app.command("scan")
def scan_cmd(
    file: Annotated[Path, typer.Argument(help="The upload to scan later.")],
    key: Annotated[Optional[str], typer.Option("--key", help="Idempotency key.")] = None,
    declared_ai: Annotated[bool, typer.Option("--declared-ai")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Enqueue a scan of FILE (run by `synthguard worker`, or right away in SQLite's inline mode)."""
    with core() as sg:
        job, created = sg.jobs.submit_scan(sg.media(file), key=key, declared_ai=declared_ai)
        if created and sg.jobs.inline:
            sg.jobs.work()
            job = sg.jobs.get(job["id"])
    emit(job | {"created": created} if as_json else {k: job[k] for k in ("id", "state", "attempts")}
         | {"verdict": (job["result"] or {}).get("verdict"), "created": created}, as_json, "job")


@jobs_app.command("requeue")
def requeue_cmd(job_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Give a dead job a fresh set of attempts (after fixing what killed it)."""
    with core() as sg:
        emit(sg.jobs.queue.requeue(job_id), as_json, f"job {job_id}")


@jobs_app.command("enqueue")
def enqueue_cmd(
    kind: Annotated[str, typer.Argument(help="checkpoint (scans: `synthguard jobs scan FILE`).")],
    payload: Annotated[str, typer.Option(help="JSON object.")] = "{}",
    key: Annotated[Optional[str], typer.Option("--key", help="Idempotency key.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enqueue an action job, e.g. a ledger checkpoint."""

    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise InputError("--payload is not JSON: {exc}", values={"exc": exc}, hint="Pass a JSON object, e.g. '{}'.") \
            from None
    if not isinstance(data, dict):
        raise InputError("--payload must be a JSON object", hint="Pass a JSON object, e.g. '{}'.")
    with core() as sg:
        job, created = sg.jobs.submit(kind, data, key=key)
    emit(job | {"created": created}, as_json, N_("job"))


@jobs_app.command("prune")
def prune_cmd(
    older_than_days: Annotated[float, typer.Option("--older-than-days", min=0, help="Age of the stored uploads.")] = 30,
    as_json: JsonOpt = False,
) -> None:
    """Delete stored uploads of finished scan jobs (results and ledger entries stay); pending and dead jobs keep theirs."""
    with core() as sg:
        emit({"deleted": sg.jobs.prune_blobs(older_than_days)}, as_json, N_("blobs"))


@jobs_app.command("audit")
def audit_cmd(as_json: JsonOpt = False) -> None:
    """Every scan job done exactly once with exactly one ledger entry, and the ledger verifies; exit 7 if not."""
    with core() as sg:
        report = sg.jobs.audit()
    emit(report, as_json, N_("job audit"))
    if not report["ok"]:
        raise typer.Exit(7)
