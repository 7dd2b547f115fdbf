"""``synthguard moderation`` (queue, sweep, send notifications) and ``synthguard report`` (DS-10, DS-11, DSA-11)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit
from synthguard.errors import ConfigError, ValidationError
from synthguard.i18n import N_
from synthguard.media import write_atomic
from synthguard.moderation.dsa import Submitter
from synthguard.moderation.reports import render

moderation = typer.Typer(no_args_is_help=True, help="Moderation cases: queue, SLA sweep, notification outbox.")
app.add_typer(moderation, name="moderation")
TenantOpt = Annotated[str, typer.Option(help="Tenant (platform) whose cases to use.")]


@moderation.command("queue")
def queue(tenant: TenantOpt = "default", as_json: JsonOpt = False) -> None:
    """Waiting and in-review cases, most urgent deadline first."""
    with core() as sg:
        rows = sg.moderation.queue(tenant)
        emit(rows if as_json else [{k: r[k] for k in ("ticket", "kind", "source", "state", "deadline_at", "priority")}
                                   for r in rows], as_json, "queue")


@moderation.command("sweep")
def sweep(tenant: Annotated[Optional[str], typer.Option(help="Only this tenant (default: all).")] = None,
          as_json: JsonOpt = False) -> None:
    """Fire due SLA alerts (e.g. 24 h and 36 h of a 48 h deadline) and CC-11 restorations; run it from cron."""
    with core() as sg:
        out = sg.moderation.sweep(tenant)
        emit(out if as_json else {"at": out["at"], "alerts": len(out["alerts"]), "restored": len(out["restored"])},
             as_json, "sweep")


@moderation.command("send")
def send(as_json: JsonOpt = False) -> None:
    """Deliver pending notifications over SMTP (SYNTHGUARD_SMTP_URL)."""
    with core() as sg:
        emit(sg.moderation.send_notifications(), as_json, N_("outbox"))


@app.command("report")
def report(period: Annotated[str, typer.Option(help="Month, YYYY-MM.")],
           format: Annotated[str, typer.Option("--format", help="cac | dsa-sor | csv | html | pdf | json")] = "cac",
           tenant: TenantOpt = "default",
           output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write to this file.")] = None,
           submit: Annotated[bool, typer.Option("--submit", help="POST the DSA statements to SYNTHGUARD_DSA_ENDPOINT "
                                                "in batches of up to 100, with retries (DSA-11).")] = False,
           as_json: JsonOpt = False) -> None:
    """Moderation report for a month: counts by verdict, action and category, time-to-action percentiles,
    disposals and refutations (regulator report), DSA statements of reasons, CSV, or HTML with charts."""
    with core() as sg:
        rep = sg.moderation.report(tenant, period)
        settings = sg.settings
    if submit:
        if not settings.dsa_endpoint or not settings.dsa_token:
            raise ConfigError("--submit needs the Transparency Database endpoint and token",
                              hint="Set SYNTHGUARD_DSA_ENDPOINT and SYNTHGUARD_DSA_TOKEN.")
        sent = Submitter(settings.dsa_endpoint, settings.dsa_token).submit(rep["statements"])
        emit({"batches": len(sent), "statements": sum(b.statements for b in sent),
              "status": [b.status for b in sent], "attempts": [b.attempts for b in sent]}, as_json, "dsa submission")
        return
    text, _ = render(rep, "json" if as_json and format not in ("cac", "dsa-sor", "pdf") else format)
    if isinstance(text, bytes) and output is None:
        raise ValidationError("a PDF report needs an output file", hint="Add -o report.pdf.")
    if output is not None:
        write_atomic(output, text if isinstance(text, bytes) else text.encode("utf-8"))
        emit({"output": str(output), "format": format, "cases_decided": rep["cases_decided"]}, as_json, N_("report"))
    else:
        typer.echo(text, nl=format != "dsa-sor")  # dsa-sor lines end in newlines; no batch, no output
