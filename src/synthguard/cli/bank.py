"""``synthguard bank``: named hash banks (DS-09 feature library; US-04 stay-down), and ``synthguard hash``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, actor_of, core, emit, open_media
from synthguard.errors import ValidationError
from synthguard.i18n import N_
from synthguard.plugins import media_hashes  # the built-in hashers and every plugin hasher of the modality

# The built-in hasher kinds of the plugin registry (synthguard.plugins.builtin.HASHERS; tests/test_cli_speed.py keeps
# them equal), mirrored for the help text so the CLI starts without importing the hashers; a plugin hasher's kind is
# accepted too (the bank checks --kind against the registry).
KINDS = ("pdq", "sha256", "vpdq", "audio")
bank = typer.Typer(no_args_is_help=True, help="Named hash banks: victim reports, removed content, labeled outputs.")
app.add_typer(bank, name="bank")

FileOpt = Annotated[Optional[Path], typer.Option("--file", help="An image; it is hashed locally and not stored.")]
HashOpt = Annotated[Optional[str], typer.Option("--hash", help="A hash: 64 hex characters (PDQ or SHA-256).")]
ActorOpt = Annotated[Optional[str], typer.Option(help="Who makes the change (default: the OS user).")]


def _one_of(file: Path | None, hash_: str | None) -> None:
    if (file is None) == (hash_ is None):
        raise ValidationError("give exactly one of --file or --hash")


@bank.command("create")
def create(name: str,
           kind: Annotated[str, typer.Option(help=f"Hash kind: {' | '.join(KINDS)}.")] = "pdq",
           max_distance: Annotated[Optional[int], typer.Option(help="Match radius (PDQ default 31; SHA-256 0).")] = None,
           description: Annotated[str, typer.Option(help="What the bank is for.")] = "",
           tenant: Annotated[str, typer.Option()] = "default",
           actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Create a bank."""
    with core() as sg:
        emit(sg.banks.create(name, kind=kind, max_distance=max_distance, description=description, tenant=tenant,
                             actor=actor_of(actor)), as_json, "bank created")


@bank.command("share")
def share(name: str,
          tenant: Annotated[str, typer.Argument(help="The tenant whose scans may match this bank, or '*' for all.")],
          reason: Annotated[str, typer.Option(help="Why (DS-09 audit).")],
          off: Annotated[bool, typer.Option("--off", help="Stop sharing.")] = False,
          actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Share a bank with another tenant (or all): an audited opt-in; banks are per tenant otherwise."""
    with core() as sg:
        sg.banks.share(name, tenant, on=not off, actor=actor_of(actor), reason=reason)
        emit({"bank": name, "tenant": tenant, "shared": not off}, as_json, "bank sharing")


@bank.command("add")
def add(name: str, file: FileOpt = None, hash_: HashOpt = None,
        reason: Annotated[str, typer.Option(help="Why (DS-09 audit).")] = "added with the synthguard CLI",
        quality: Annotated[Optional[int], typer.Option(help="PDQ quality of a submitted --hash (0-100).")] = None,
        actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Add a hash, or an image's hash, to a bank (the image itself is not kept)."""
    _one_of(file, hash_)
    with core() as sg:
        banks = sg.banks
        if file is not None:
            entry = banks.add_media(name, sg.media(file), reason=reason, actor=actor_of(actor))
        else:
            entry = banks.add(name, hash_ or "", reason=reason, actor=actor_of(actor), quality=quality)
        emit({"bank": name, "entry_id": entry}, as_json, N_("added"))


@bank.command("remove")
def remove(name: str, entry_id: Annotated[int, typer.Argument(metavar="ENTRY_ID")],
           reason: Annotated[str, typer.Option(help="Why (DS-09 audit).")],
           actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Soft-remove an entry: it stops matching and stays in the audit trail."""
    with core() as sg:
        emit(sg.banks.remove(name, entry_id, reason=reason, actor=actor_of(actor)), as_json, N_("removed"))


@bank.command("enable")
def enable(name: str, reason: Annotated[str, typer.Option()] = "", actor: ActorOpt = None,
           as_json: JsonOpt = False) -> None:
    """Turn matching against a bank on."""
    with core() as sg:
        emit(sg.banks.enable(name, True, actor=actor_of(actor), reason=reason), as_json, N_("enabled"))


@bank.command("disable")
def disable(name: str, reason: Annotated[str, typer.Option()] = "", actor: ActorOpt = None,
            as_json: JsonOpt = False) -> None:
    """Turn matching against a bank off (its entries are kept)."""
    with core() as sg:
        emit(sg.banks.enable(name, False, actor=actor_of(actor), reason=reason), as_json, N_("disabled"))


@bank.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List banks with their entry counts."""
    with core() as sg:
        emit(sg.banks.list(), as_json, N_("banks"))


@bank.command("entries")
def entries(name: str, live: Annotated[bool, typer.Option("--live", help="Hide removed entries.")] = False,
            limit: Annotated[Optional[int], typer.Option()] = None, as_json: JsonOpt = False) -> None:
    """List a bank's entries (removed ones too, unless --live)."""
    with core() as sg:
        emit(sg.banks.entries(name, include_removed=not live, limit=limit), as_json, name)


@bank.command("audit")
def audit(name: Annotated[Optional[str], typer.Argument()] = None, as_json: JsonOpt = False) -> None:
    """The append-only change log of the banks (DS-09): who, when, why."""
    with core() as sg:
        emit(sg.banks.audit(name), as_json, N_("bank audit"))


@bank.command("query")
def query(file: FileOpt = None, hash_: HashOpt = None,
          kind: Annotated[Optional[str], typer.Option(help="With --hash: only banks of this kind (default both).")] = None,
          bank_: Annotated[Optional[list[str]], typer.Option("--bank", help="Only these banks (repeatable).")] = None,
          dihedral: Annotated[bool, typer.Option("--dihedral", help="With --file: also match rotations/flips.")] = False,
          as_json: JsonOpt = False) -> None:
    """Match a file or a hash against every enabled bank, closest first."""
    _one_of(file, hash_)
    with core() as sg:
        banks = sg.banks
        if file is not None:
            found = banks.query_media(sg.media(file), banks=bank_, dihedral=dihedral)
        else:
            found = sorted((m for k in ([kind] if kind else _kinds_of(hash_ or ""))
                            for m in banks.query(k, hash_ or "", banks=bank_)),
                           key=lambda m: (m.distance, m.bank, m.entry_id))
        emit([m.to_dict() for m in found], as_json, N_("matches"))


def _kinds_of(value: str) -> list[str]:
    """Without --kind: a 64-hex string is a PDQ or SHA-256 hash, JSON is vPDQ, other hex an audio fingerprint."""
    v = value.strip()
    if len(v) == 64:
        return ["pdq", "sha256"]
    return ["vpdq"] if v.startswith(("[", "{")) else ["audio"]


@app.command("hash")
def hash_(file: Annotated[Path, typer.Argument(help="An image, a video or an audio file.")],
          as_json: JsonOpt = False) -> None:
    """Print a file's fingerprints, what a victim submits instead of the file: SHA-256 and PDQ for images; vPDQ
    (Meta's exchange JSON) and the sound's landmarks for videos; landmarks for audio."""
    emit(media_hashes(open_media(file)), as_json, str(file))  # no database: hashing is local
