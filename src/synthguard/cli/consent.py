"""``synthguard consent``: likeness registry, grants of separate consent, the consent gate (DS-15, PI-06/07, PI-11/13)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit, run
from synthguard.consent import likeness
from synthguard.consent.evidence import generate_key, sign_statement, write_statement
from synthguard.consent.gate import ConsentDeniedError
from synthguard.consent.ownership import sign_request as sign
from synthguard.consent.policy import purpose_modalities
from synthguard.consent.registry import parse_expiry
from synthguard.errors import ValidationError
from synthguard.i18n import N_
from synthguard.media import Media, Modality, write_atomic

consent = typer.Typer(no_args_is_help=True, help="Consent for face and voice edits: enrol, grant, revoke, check, "
                                                 "export, erase; protected persons.")
app.add_typer(consent, name="consent")

FacesOpt = Annotated[Optional[list[Path]], typer.Option("--face", help="Reference photo with one face (repeatable).")]
VoicesOpt = Annotated[Optional[list[Path]], typer.Option("--voice", help="Voice sample, >= 1 s of speech (repeatable).")]
EmbOpt = Annotated[Optional[list[Path]], typer.Option("--embedding", help="JSON from `synthguard consent embed` "
                                                                          "(computed on the subject's device).")]
ToOpt = Annotated[str, typer.Option("--to", help="Grantee: the user id, or tenant:<tenant> for the whole provider.")]
PurposeOpt = Annotated[str, typer.Option(help="face_swap, face_reenactment, face_edit, avatar, lip_sync, voice_clone, "
                                              "voice_conversion.")]
# ids are per tenant (issue 18 finding 13): a new subject goes to --tenant (default: default); a lookup names the
# tenant when several tenants use the id
NewTenantOpt = Annotated[str, typer.Option("--tenant", help="The tenant the subject is registered with.")]
TenantOpt = Annotated[Optional[str], typer.Option("--tenant", help="The subject's tenant (needed when several "
                                                                   "tenants use the id).")]
ModalityOpt = Annotated[Optional[list[str]], typer.Option("--modality", help="Narrow the grant to face or voice.")]


def _embeddings(paths: list[Path] | None) -> list[dict[str, Any]]:
    out = []
    for p in paths or []:
        try:
            data = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationError("cannot read the embedding file: {exc}", path=p, values={"exc": exc}) from None
        out += data if isinstance(data, list) else [data]
    return out


@consent.command("enroll")
def enroll(subject: str, face: FacesOpt = None, voice: VoicesOpt = None, embedding: EmbOpt = None,
           signing_key: Annotated[Optional[Path], typer.Option("--signing-key", help="The subject's Ed25519 public key "
                                                                                     "(PEM) for signed statements.")] = None,
           keep_media: Annotated[bool, typer.Option("--keep-media", help="The subject opts in to keeping the reference "
                                                                         "media (encrypted); default: embeddings only.")] = False,
           tenant: NewTenantOpt = "default", as_json: JsonOpt = False) -> None:
    """Enrol a subject: only face/voice embeddings are stored, encrypted under the subject's own key."""
    with core() as sg:
        key = Path(signing_key).read_text() if signing_key else None
        emit(sg.consent.enroll(subject, faces=[sg.media(f) for f in face or []],
                               voices=[sg.media(v) for v in voice or []], embeddings=_embeddings(embedding),
                               keep_media=keep_media, signing_key=key, tenant=tenant), as_json, "enrolled")


@consent.command("protect")
def protect(subject: str, face: FacesOpt = None, voice: VoicesOpt = None, embedding: EmbOpt = None,
            tenant: NewTenantOpt = "default", as_json: JsonOpt = False) -> None:
    """Register a protected person: AI uploads depicting them without their consent go to review or removal."""
    with core() as sg:
        emit(sg.consent.enroll(subject, faces=[sg.media(f) for f in face or []],
                               voices=[sg.media(v) for v in voice or []], embeddings=_embeddings(embedding),
                               protected=True, tenant=tenant), as_json, "protected")


@consent.command("embed")
def embed(file: Path, modality: Annotated[Optional[str], typer.Option(help="face or voice (default: by file type).")] = None,
          output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write the JSON here.")] = None,
          as_json: JsonOpt = True) -> None:
    """Compute a face/voice template locally (nothing is stored or sent); pass it to `enroll/protect --embedding`."""
    media = Media.open(file)
    mod = modality or ("face" if media.modality is Modality.IMAGE else "voice")
    emb, where = likeness.enrolment_embedding(media, mod)
    card = likeness.cards()[mod]
    doc = {"modality": mod, "model": card.name, "model_sha256": likeness.model_sha256(mod),
           "embedding": [round(float(x), 7) for x in emb]}
    text = json.dumps(doc)
    if output:
        write_atomic(output, text.encode() + b"\n")
    typer.echo(text)


@consent.command("keygen")
def keygen(keyfile: Path, as_json: JsonOpt = False) -> None:
    """Make the subject's own Ed25519 signing key (keep it on their device); writes KEYFILE and KEYFILE.pub."""
    pub = generate_key(keyfile)
    pub_path = Path(f"{keyfile}.pub")
    write_atomic(pub_path, pub.encode())
    emit({"private_key": str(keyfile), "public_key": str(pub_path)}, as_json, N_("key pair written"))


@consent.command("sign-request")
def sign_request(subject: str,
                 key: Annotated[Path, typer.Option(help="The person's private key (from keygen).")],
                 action: Annotated[str, typer.Option(help="export | erase | enrol")],
                 tenant: Annotated[str, typer.Option(help="The tenant the person is registered with.")] = "default",
                 as_json: JsonOpt = False) -> None:
    """Sign a request as the protected person (valid 5 minutes): the headers for export, erasure or enrolment."""
    emit(sign(key, action=action, subject=subject, tenant=tenant), as_json, "request headers")


@consent.command("statement")
def statement(subject: str, to: ToOpt, purpose: PurposeOpt,
              key: Annotated[Path, typer.Option(help="The subject's private key (from keygen).")],
              output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the signed statement.")],
              expires: Annotated[Optional[str], typer.Option(help="YYYY-MM-DD")] = None,
              scope: Annotated[str, typer.Option(help="What exactly is allowed, in the subject's words.")] = "",
              modality: ModalityOpt = None, as_json: JsonOpt = False) -> None:
    """The subject signs a statement of separate consent on their own device (evidence for `grant`)."""
    exp = parse_expiry(expires)
    doc = sign_statement(key, subject=subject, grantee=to, purpose=purpose,
                         modalities=modality or purpose_modalities(purpose), scope=scope,
                         expires=exp.date().isoformat() if exp else None)
    write_statement(output, doc)
    emit({"statement": str(output), "nonce": doc["nonce"]}, as_json, N_("signed"))


@consent.command("challenge")
def challenge(subject: str, to: ToOpt, purpose: PurposeOpt, tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """Issue a random phrase for the subject to speak (spoken consent evidence)."""
    with core() as sg:
        emit(sg.consent.challenge(subject, grantee=to, purpose=purpose, tenant=tenant), as_json, N_("challenge"))


@consent.command("grant")
def grant(subject: str, to: ToOpt, purpose: PurposeOpt,
          evidence: Annotated[Path, typer.Option(help="Signed statement (JSON) or recording of the spoken challenge.")],
          expires: Annotated[Optional[str], typer.Option(help="YYYY-MM-DD (valid through that day, UTC).")] = None,
          challenge_id: Annotated[Optional[str], typer.Option("--challenge", help="With a recording: its challenge id.")] = None,
          scope: Annotated[str, typer.Option(help="Scope notes (stored encrypted).")] = "",
          modality: ModalityOpt = None, tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """Record the subject's separate consent after verifying the evidence; prints the grant id."""
    with core() as sg:
        g = sg.consent.grant(subject, grantee=to, purpose=purpose, evidence=sg.media(evidence),
                             expires=parse_expiry(expires), modalities=modality, scope=scope, challenge=challenge_id,
                             tenant=tenant)
    if as_json:
        emit(g, True)
    else:
        typer.echo(g["grant_id"])


@consent.command("revoke")
def revoke(grant_id: str, reason: Annotated[str, typer.Option(help="Short reason code.")] = "withdrawn",
           as_json: JsonOpt = False) -> None:
    """Withdraw a grant; every later check denies at once (PI-03)."""
    run(lambda sg: sg.consent.revoke(grant_id, reason=reason), as_json, N_("revoked"))


@consent.command("grants")
def grants(subject: Annotated[Optional[str], typer.Option(help="Only this subject's grants.")] = None,
           to: Annotated[Optional[str], typer.Option("--to", help="Only grants to this grantee.")] = None,
           tenant: Annotated[Optional[str], typer.Option(help="Only this tenant's grants.")] = None,
           as_json: JsonOpt = False) -> None:
    """List grants with their live status (active, revoked, expired, tampered, erased)."""
    run(lambda sg: sg.consent.grants(subject_id=subject, grantee=to, tenant=tenant), as_json, N_("grants"))


@consent.command("subjects")
def subjects(tenant: Annotated[Optional[str], typer.Option(help="Only this tenant's subjects.")] = None,
             as_json: JsonOpt = False) -> None:
    """List enrolled and protected subjects (no biometric data)."""
    run(lambda sg: sg.consent.subjects(tenant=tenant), as_json, N_("subjects"))


@consent.command("export")
def export(subject: str, output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write the JSON here "
                                                                                              "(mode 0600).")] = None,
           tenant: TenantOpt = None, as_json: JsonOpt = True) -> None:
    """Everything held on a subject as JSON (PIPL Art. 45, GDPR Arts. 15/20): templates, grants, evidence."""
    with core() as sg:
        text = json.dumps(sg.consent.export(subject, tenant=tenant), ensure_ascii=False, indent=2)
    if output:
        write_atomic(output, text.encode() + b"\n")
        os.chmod(output, 0o600)
        typer.echo(str(output))
    else:
        typer.echo(text)


@consent.command("erase")
def erase(subject: str, reason: Annotated[str, typer.Option(help="Why (logged).")] = "request",
          tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """Erase a subject (PIPL Art. 47, GDPR Art. 17): templates deleted, key shredded; the ledger still verifies."""
    run(lambda sg: sg.consent.erase(subject, reason=reason, tenant=tenant), as_json, N_("erased"))


@consent.command("check")
def check(source: Annotated[list[Path], typer.Option("--source", help="Source media of the edit (repeatable).")],
          purpose: PurposeOpt,
          user: Annotated[str, typer.Option(help="The user asking for the edit.")],
          target: Annotated[Optional[list[Path]], typer.Option("--target", help="Target media (repeatable).")] = None,
          tenant: Annotated[str, typer.Option(help="The tenant whose subjects and user are checked.")] = "default",
          as_json: JsonOpt = False) -> None:
    """The consent gate: every face/voice in the media, its subject, grant status and allow/deny (DS-15).

    Exits 5 on deny (the deny is recorded in the ledger, hashes only)."""
    with core() as sg:
        result = sg.consent_gate.check([sg.media(f) for f in source], purpose=purpose, user=user,
                                       targets=[sg.media(f) for f in target or []], tenant=tenant)
        if result.decision == "deny":
            sg.consent_gate.log(result)
    data = result.to_dict()
    if as_json:
        emit(data, True)
    else:
        emit([{k: p.get(k) for k in ("file", "modality", "subject", "decision", "reason")} for p in data["persons"]]
             or [{"decision": data["decision"], "reason": "; ".join(data["notes"])}], False, f"consent: {data['decision']}")
    if result.decision == "deny":
        raise typer.Exit(ConsentDeniedError.exit_code)
