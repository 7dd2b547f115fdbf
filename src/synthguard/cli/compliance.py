"""``synthguard compliance``: audit the deployment, the Art. 15 assessment, emergency switches, registers, screening.

``check`` exits 1 when a check fails (so it can gate a deployment pipeline); ``screen-*`` exit 5 when the
decision is "block" (like a policy refusal).  See docs/compliance.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, actor_of, core, emit
from synthguard.cli.human import cells, width, wrap_paragraph
from synthguard.compliance.report import assessment_blocks, audit_blocks, write
from synthguard.errors import ValidationError
from synthguard.i18n import N_, _, translate

comp = typer.Typer(no_args_is_help=True, help="Provider compliance: audit, assessment, switches, registers, screening.")
app.add_typer(comp, name="compliance")
switch = typer.Typer(no_args_is_help=True, help="Emergency switches per feature (DS-05): off now, on again.")
policy = typer.Typer(no_args_is_help=True, help="Management-system register (DS Art. 7): versioned policy documents.")
library = typer.Typer(no_args_is_help=True, help="Prompt-screen feature library (DS-09): keywords and patterns.")
terms = typer.Typer(no_args_is_help=True, help="Service agreement and first-use notice (DS-06, LM-19).")
dataset = typer.Typer(no_args_is_help=True, help="Training-data register and model lineage (DS-14).")
for sub, name in ((switch, "switch"), (policy, "policy"), (library, "library"), (terms, "terms"),
                  (dataset, "dataset")):
    comp.add_typer(sub, name=name)

ActorOpt = Annotated[Optional[str], typer.Option(help="Who makes the change (default: the OS user).")]
TenantOpt = Annotated[str, typer.Option(help="Tenant whose register this is.")]
SinceOpt = Annotated[str, typer.Option("--since", help="Audit period ending now: 30d, 12h, 2w.")]
OutputsOpt = Annotated[Optional[Path], typer.Option(
    "--outputs", help="Folder where the service keeps its outputs: files are matched by SHA-256 and re-read.")]
FormatOpt = Annotated[Optional[str], typer.Option("--format", help="Write a report: html, pdf or json.")]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Report file (default: in the cwd).")]
BLOCK_EXIT = 5


def _report(blocks: list[Any], data: dict[str, Any], fmt: str, output: Path | None, stem: str, font: Any) -> Path:
    return write(blocks, fmt, data, output or Path(f"{stem}.{fmt}"), font_path=font)


@comp.command("check")
def check(profile: Annotated[Optional[str], typer.Option(help="cn, eu or us (default: the setting).")] = None,
          since: SinceOpt = "30d", tenant: Annotated[Optional[str], typer.Option(help="Only this tenant.")] = None,
          outputs: OutputsOpt = None, sample: Annotated[int, typer.Option(help="Outputs to sample (1..10000).")] = 200,
          fmt: FormatOpt = None, output: OutputOpt = None,
          record: Annotated[bool, typer.Option("--record", help="Append the outcome to the ledger.")] = False,
          as_json: JsonOpt = False) -> None:
    """Audit the live deployment: each check cites its requirement, says pass/fail/not applicable and what to fix."""
    with core() as sg:
        audit = sg.compliance.check(profile=profile, since=since, tenant=tenant, outputs=outputs, sample_size=sample,
                                    record=record)
        data = audit.to_dict()
        if fmt:
            path = _report(audit_blocks(data), data, fmt, output, f"compliance-{audit.profile}", sg.settings.font_path)
            data["report"] = str(path)
    if as_json:
        emit(data, True)
    else:
        typer.echo(audit_view(data))
    if not data["ok"]:
        raise typer.Exit(1)


STATUS = {"fail": N_("FAIL"), "pass": N_("pass"), "not_applicable": N_("n/a")}


def audit_view(data: dict[str, Any]) -> str:
    """One block per check, failures first: status, id and rows; the title; why; and for a failure the fix.
    Readable at 80 columns, where a table with a fix column is not (issue 22)."""
    out = [_("Compliance audit: profile {profile}, since {since}", profile=data["profile"], since=data["since"][:10]),
           ""]
    order = {"fail": 0, "pass": 1, "not_applicable": 2}
    for c in sorted(data["checks"], key=lambda c: order.get(c["status"], 3)):
        status = translate(STATUS.get(c["status"], c["status"]))
        head = f"{status}{' ' * max(1, 6 - cells(status))}{c['id']}"
        rows = " ".join(c["rows"])
        out.append(f"{head}  {rows}" if cells(head) + 2 + cells(rows) <= width() else f"{head}\n      {rows}")
        out.append(wrap_paragraph(c["title"], 6))
        why, fix = _("why:"), _("fix:")
        for reason in c["reasons"]:
            out.append(wrap_paragraph(f"{why} {reason}", 6, cells(why) + 1))
        if c["status"] == "fail" and c.get("fix"):
            out.append(wrap_paragraph(f"{fix} {c['fix']}", 6, cells(fix) + 1))
        out.append("")
    s = data["summary"]
    out.append(_("{passed} pass, {failed} fail, {na} not applicable", passed=s["pass"], failed=s["fail"],
                 na=s["not_applicable"]) + (f"; {_('report:')} {data['report']}" if "report" in data else ""))
    return "\n".join(out)


@comp.command("assessment")
def assessment(since: SinceOpt = "30d", tenant: Annotated[Optional[str], typer.Option()] = None,
               outputs: OutputsOpt = None, fmt: Annotated[str, typer.Option("--format", help="html, pdf or json.")]
               = "pdf", output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Write the DS Art. 15 security-assessment report of the face/voice tools, with the filing number (DS-22)."""
    with core() as sg:
        data = sg.compliance.assessment(since=since, tenant=tenant, outputs=outputs)
        path = _report(assessment_blocks(data), data, fmt, output, "security-assessment", sg.settings.font_path)
    emit({"report": str(path), "format": fmt, "residual_gaps": data["residual_gaps"], "summary": data["summary"],
          "filing_number": data["filing_number"]}, as_json, "security assessment")


# --- emergency switches ---------------------------------------------------------------------
def _flip(feature: str, enabled: bool, reason: str, tenant: str, actor: str | None, as_json: bool) -> None:
    with core() as sg:
        emit(sg.compliance.switches.set(feature, enabled=enabled, actor=actor_of(actor), reason=reason, tenant=tenant),
             as_json, "switch")


AllTenantsOpt = Annotated[str, typer.Option(help="Tenant, or '*' for every tenant.")]
ReasonOpt = Annotated[str, typer.Option(help="Why (kept in the register; its hash goes to the ledger).")]


@switch.command("off")
def switch_off(feature: str, reason: ReasonOpt, tenant: AllTenantsOpt = "*", actor: ActorOpt = None,
               as_json: JsonOpt = False) -> None:
    """Disable a feature now (label, label.audio, voice_clone, face_swap ...); the API refuses it at once."""
    _flip(feature, False, reason, tenant, actor, as_json)


@switch.command("on")
def switch_on(feature: str, reason: ReasonOpt, tenant: AllTenantsOpt = "*", actor: ActorOpt = None,
              as_json: JsonOpt = False) -> None:
    """Enable a feature again."""
    _flip(feature, True, reason, tenant, actor, as_json)


@switch.command("list")
def switch_list(as_json: JsonOpt = False) -> None:
    """Every switch ever flipped and its state (features never flipped are on)."""
    with core() as sg:
        emit(sg.compliance.switches.list(), as_json, N_("feature switches"))


# --- management-system register ---------------------------------------------------------------
@policy.command("add")
def policy_add(kind: str, version: Annotated[str, typer.Option()], owner: Annotated[str, typer.Option()],
               review_due: Annotated[str, typer.Option(help="Next review date, YYYY-MM-DD.")],
               title: Annotated[str, typer.Option()] = "",
               evidence: Annotated[str, typer.Option(help="Link or path to the document.")] = "",
               file: Annotated[Optional[Path], typer.Option(help="The document text (its SHA-256 is kept).")] = None,
               tenant: TenantOpt = "default", actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Register a new version of a policy document (or a security assessment)."""
    text = _read_text(file) if file else None
    with core() as sg:
        emit(sg.compliance.register.add(kind, version, owner=owner, review_due=review_due, actor=actor_of(actor),
                                        title=title, evidence=evidence or (str(file) if file else ""), text=text,
                                        tenant=tenant), as_json, "registered")


@policy.command("list")
def policy_list(all_versions: Annotated[bool, typer.Option("--all", help="Every version.")] = False,
                tenant: TenantOpt = "default", as_json: JsonOpt = False) -> None:
    """The register: the current version of each document."""
    with core() as sg:
        emit(sg.compliance.register.documents(tenant=tenant, current_only=not all_versions), as_json, N_("register"))


@policy.command("export")
def policy_export(tenant: TenantOpt = "default", as_json: JsonOpt = False) -> None:
    """The eight Art. 7 systems with their current versions (DS-05 export)."""
    with core() as sg:
        data = sg.compliance.register.export(tenant=tenant)
    emit(data if as_json else [{"kind": s["kind"], "version": (s["current"] or {}).get("version", "MISSING"),
                                "owner": (s["current"] or {}).get("owner", "-"),
                                "review_due": (s["current"] or {}).get("review_due", "-")} for s in data["systems"]],
         as_json, "management systems (DS Art. 7)")


# --- feature library and screening ------------------------------------------------------------
PatternOpt = Annotated[bool, typer.Option("--pattern", help="VALUE is a regular expression, not a keyword.")]


ListArg = Annotated[str, typer.Argument(metavar="LIST")]


def _library_change(change: str, list_name: str, value: str, reason: str, pattern: bool, tenant: str,
                    actor: str | None, as_json: bool) -> None:
    with core() as sg:
        emit(getattr(sg.compliance.screen, change)(list_name, value, kind="pattern" if pattern else "keyword",
                                                   reason=reason, actor=actor_of(actor), tenant=tenant),
             as_json, "library change")


@library.command("add")
def library_add(list_name: ListArg, value: str, reason: ReasonOpt, pattern: PatternOpt = False,
                tenant: TenantOpt = "default", actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Add a keyword or pattern to a list; the change log keeps who, when and why (DS-09)."""
    _library_change("add", list_name, value, reason, pattern, tenant, actor, as_json)


@library.command("remove")
def library_remove(list_name: ListArg, value: str, reason: ReasonOpt, pattern: PatternOpt = False,
                   tenant: TenantOpt = "default", actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Remove an entry (a new change; the history stays)."""
    _library_change("remove", list_name, value, reason, pattern, tenant, actor, as_json)


@library.command("list")
def library_list(changes: Annotated[bool, typer.Option("--changes", help="The change log instead.")] = False,
                 tenant: TenantOpt = "default", as_json: JsonOpt = False) -> None:
    """The current library (or its change log) and its version."""
    with core() as sg:
        scr = sg.compliance.screen
        rows = scr.changes(tenant=tenant) if changes else [
            {"change_id": e.change_id, "list": e.list_name, "kind": e.kind, "value": e.value}
            for e in scr.entries(tenant=tenant)]
        emit(rows if not as_json else {"version": scr.version(tenant=tenant), "entries": rows}, as_json,
             f"feature library v{scr.version(tenant=tenant)}")


def _screen(check: Any, as_json: bool) -> None:
    """Run ``check(screen)`` and print the decision; exit 5 when it blocks."""
    with core() as sg:
        d = check(sg.compliance.screen)
    emit(d.to_dict(), as_json, f"screen: {d.decision}")
    if d.decision == "block":
        raise typer.Exit(BLOCK_EXIT)


ContentOpt = Annotated[Optional[str], typer.Option(help="The content id the decision belongs to.")]


@comp.command("screen-prompt")
def screen_prompt(text: str, tenant: TenantOpt = "default", content_id: ContentOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Screen a prompt against the feature library (exit 5 when blocked); the decision is recorded."""
    _screen(lambda screen: screen.prompt(text, tenant=tenant, content_id=content_id), as_json)


@comp.command("screen-reference")
def screen_reference(file: Path, tenant: TenantOpt = "default", content_id: ContentOpt = None,
                     purpose: Annotated[Optional[str], typer.Option(help="e.g. face_swap: runs the consent gate.")]
                     = None, user: Annotated[Optional[str], typer.Option(help="The requesting user.")] = None,
                     as_json: JsonOpt = False) -> None:
    """Screen reference media (a face or voice to edit): hash banks and consent gate (exit 5 when blocked)."""
    _screen(lambda screen: screen.reference(file, tenant=tenant, content_id=content_id, purpose=purpose, user=user),
            as_json)


@comp.command("screen-output")
def screen_output(file: Path, tenant: TenantOpt = "default", content_id: ContentOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Screen an output before release: labels present, no hash-bank match (exit 5 when blocked)."""
    _screen(lambda screen: screen.output(file, tenant=tenant, content_id=content_id), as_json)


# --- terms and notices --------------------------------------------------------------------------
@terms.command("publish")
def terms_publish(kind: Annotated[str, typer.Argument(help="service_agreement or first_use_notice.")], version: str,
                  file: Annotated[Path, typer.Option(help="The text (UTF-8).")], tenant: TenantOpt = "default",
                  actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Publish a new version of the service agreement or the first-use notice."""
    text = _read_text(file)
    with core() as sg:
        emit(sg.compliance.terms.publish(kind, version, text, actor=actor_of(actor), tenant=tenant), as_json,
             "published")


@terms.command("accept")
def terms_accept(user: str, version: Annotated[Optional[str], typer.Option(help="Default: current.")] = None,
                 tenant: Annotated[Optional[str], typer.Option(help="The user's tenant (needed when several tenants "
                                                                    "use the id).")] = None,
                 as_json: JsonOpt = False) -> None:
    """Record a user's click-through acceptance of the service agreement."""
    with core() as sg:
        emit(sg.compliance.terms.accept(user, version=version, tenant=tenant), as_json, N_("accepted"))


@terms.command("notice")
def terms_notice(tenant: TenantOpt = "default", as_json: JsonOpt = False) -> None:
    """What a client shows on first use: notice, current agreement version, filing number display (DS-22)."""
    with core() as sg:
        emit(sg.compliance.terms.notice(tenant=tenant), as_json, N_("first-use notice"))


# --- training data --------------------------------------------------------------------------------
@dataset.command("add")
def dataset_add(name: str, source: Annotated[str, typer.Option()],
                legal_basis: Annotated[Optional[str], typer.Option(help="PIPL Art. 13 basis, licence ...")] = None,
                contains_pi: Annotated[bool, typer.Option("--contains-pi")] = False,
                sensitive_pi: Annotated[bool, typer.Option("--sensitive-pi")] = False,
                consent_ref: Annotated[Optional[list[str]], typer.Option(help="Consent reference (repeatable).")]
                = None, retention: Annotated[str, typer.Option()] = "", tenant: TenantOpt = "default",
                actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Register a training data set (DS-14)."""
    with core() as sg:
        emit(sg.compliance.training.add(name, source=source, legal_basis=legal_basis, contains_pi=contains_pi,
                                        sensitive_pi=sensitive_pi, consent_refs=consent_ref or [],
                                        retention=retention, actor=actor_of(actor), tenant=tenant), as_json, "data set")


@dataset.command("link")
def dataset_link(model: str, name: Annotated[str, typer.Argument(metavar="DATASET")], tenant: TenantOpt = "default",
                 actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Record that a model version was trained on a data set (lineage)."""
    with core() as sg:
        emit(sg.compliance.training.link(model, name, actor=actor_of(actor), tenant=tenant), as_json, N_("lineage"))


@dataset.command("list")
def dataset_list(tenant: TenantOpt = "default", as_json: JsonOpt = False) -> None:
    """The registered data sets."""
    with core() as sg:
        emit(sg.compliance.training.datasets(tenant=tenant), as_json, N_("training data"))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError("no such file: {path}", hint="Check the path.", values={"path": path}) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ValidationError("cannot read {path} as UTF-8 text: {exc}", hint="Save the document as UTF-8 text.",
                              path=path, values={"path": path, "exc": exc}) from None
