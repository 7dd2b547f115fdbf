"""``synthguard assess INCIDENT.yaml``: a cited, explainable legal assessment (memo in zh/en, md/html/pdf).

``synthguard assess --coverage tests/law`` runs the YAML rule tests and lists the rules never reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard import i18n
from synthguard.cli import app
from synthguard.cli.common import JsonOpt, console, emit
from synthguard.errors import OutputError, ValidationError
from synthguard.i18n import N_
from synthguard.law import assess as run
from synthguard.law import library, load_incident
from synthguard.law.pdf import render_pdf
from synthguard.law.report import render_html, render_markdown
from synthguard.law.testing import run_directory


@app.command()
def assess(
    incident: Annotated[Optional[Path], typer.Argument(help="Incident file (YAML or JSON); see docs/incident-format.md.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Report format: md, html or pdf.")] = "md",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here (pdf needs -o).")] = None,
    params: Annotated[Optional[Path], typer.Option("--params", help="YAML {parameter: value} overriding thresholds "
                                                   "(e.g. a province's fraud threshold).")] = None,
    coverage: Annotated[Optional[Path], typer.Option("--coverage", help="Run the YAML rule tests in this folder and "
                                                     "report rule coverage instead.")] = None,
    lang: Annotated[Optional[str], typer.Option("--lang", help="Memo language: zh (zh_CN) or en; the global --lang, "
                                                "SYNTHGUARD_LANG or the locale otherwise.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Assess an incident against the rule packs (CN, HK, EU, US): findings, citations, what is missing."""
    lib = library(_overrides(params))
    if coverage is not None:
        _coverage(coverage, lib, as_json)
        return
    if incident is None:
        raise ValidationError("give an incident file, or --coverage DIR", hint="synthguard assess incident.yaml")
    if fmt not in ("md", "html", "pdf"):
        raise ValidationError("unsupported --format {fmt!r}", values={"fmt": fmt}, hint="Use --format md|html|pdf.")
    chosen = lang or i18n.current()  # main() takes --lang off the line before typer sees it; both paths land here
    result = run(load_incident(incident), lang="zh" if chosen.lower().startswith("zh") else "en", lib=lib)
    if as_json:
        if output:
            _write(output, __import__("json").dumps(result, ensure_ascii=False, indent=2, default=str).encode())
        emit(result if not output else {"written": str(output), **result["summary"]}, True)
        return
    if fmt == "pdf":
        if output is None:
            raise ValidationError("--format pdf needs --output FILE.pdf")
        _write(output, render_pdf(result))
    else:
        text = render_html(result) if fmt == "html" else render_markdown(result)
        if output is None:
            typer.echo(text)
            return
        _write(output, text.encode("utf-8"))
    counts = ", ".join(i18n._("{status}: {n}", status=i18n._(STATUS_TEXT.get(k, k)), n=v)
                       for k, v in result["summary"].items() if v)
    console.print(i18n._("wrote {path}: {counts}", path=output, counts=counts), highlight=False, markup=False)


# the finding statuses as people read them (engine.STATUS_ORDER codes), through the catalogs
STATUS_TEXT = {"met": N_("met"), "undetermined": N_("undetermined"), "defeated": N_("defeated"),
               "not_met": N_("not met"), "not_applicable": N_("not applicable"), "not_in_force": N_("not in force"),
               "proposed": N_("proposed")}


def _overrides(path: Path | None) -> dict[str, float] | None:
    if path is None:
        return None
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: impossible dates
        raise ValidationError("cannot read the parameter overrides: {error}", values={"error": exc}, path=path,
                              hint="Give a YAML mapping {parameter: number}.") from exc
    if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
        raise ValidationError("parameter overrides must map parameter names to numbers", path=path)
    return {str(k): float(v) for k, v in data.items()}


def _coverage(folder: Path, lib: object, as_json: bool) -> None:
    outcomes, cov = run_directory(folder, lib)  # type: ignore[arg-type]
    failures = [{"file": o.case.file, "case": o.case.name, "problems": o.problems} for o in outcomes if o.problems]
    emit({**cov, "failures": failures} if as_json else {
        "rules": cov["rules"], "cases": cov["cases"], "failed": cov["failed"],
        "reached": f"{cov['reached']} ({cov['percent_reached']} %)", "never reached": cov["never_reached"],
        "never met": cov["never_met"], "without unit test": cov["without_unit_test"]}, as_json, "rule coverage")
    for f in failures if not as_json else []:
        console.print(f"[red]FAIL[/red] {f['file']}: {f['case']}: {'; '.join(f['problems'])}", highlight=False)
    if failures:
        raise typer.Exit(1)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise OutputError("cannot write {path}: {exc}", path=path, values={"path": path, "exc": exc}) from exc
