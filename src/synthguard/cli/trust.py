"""``synthguard trust``: the providers this deployment trusts, with which keys and why (issue 19)."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit
from synthguard.config import Settings
from synthguard.errors import InputError
from synthguard.media import write_atomic
from synthguard.trust.descriptor import verify
from synthguard.trust.resolve import TOKEN_RE, resolve, resolve_token
from synthguard.trust.trustlist import for_settings, import_list, publish

trust = typer.Typer(no_args_is_help=True, help="Trusted providers: pinned keys, with where each key came from.")
app.add_typer(trust, name="trust")


def _list():  # type: ignore[no-untyped-def]
    """The deployment's list; changes refresh its C2PA trust anchors (the trusted providers' chain roots)."""
    return for_settings(Settings.load())


def _read_json(source: str) -> dict:

    if source.startswith(("http://", "https://")):
        import httpx

        url = source if source.endswith(".json") else source.rstrip("/") + "/.well-known/synthguard.json"
        try:
            r = httpx.get(url, timeout=30.0)
            r.raise_for_status()
            return r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise InputError("cannot fetch {url}: {reason}", values={"url": url, "reason": type(exc).__name__}) \
                from exc
    try:
        return json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError("cannot read {source}: {reason}", values={"source": source, "reason": str(exc)[:200]}) \
            from exc


def _interactive() -> bool:
    """A person at a terminal (a prompt can be answered), not a pipe, a job or a test."""
    try:
        return bool(sys.stdin.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def _brief(e) -> dict:  # type: ignore[no-untyped-def]
    """An entry without its descriptor; secrets (a granted watermark key, a lookup credential) only as held/not."""
    out = {k: v for k, v in asdict(e).items() if k != "descriptor"}
    out["watermark_key"] = "held" if out.get("watermark_key") else None
    out["credential"] = "held" if _list().credential(e.origin) else None  # kept apart from the published list
    wm = (e.descriptor.get("descriptor") or {}).get("watermark") or {}
    out["watermark_mode"] = wm.get("mode")
    return out


@trust.command("add")
def add(source: Annotated[str, typer.Argument(help="A provider's URL (its /.well-known/synthguard.json) or a file.")],
        fingerprint: Annotated[str | None, typer.Option(help="The key fingerprint the provider gave you.")] = None,
        yes: Annotated[bool, typer.Option("--yes", help="Trust without comparing a fingerprint.")] = False,
        as_json: JsonOpt = False) -> None:
    """Pin a provider: shows its key fingerprint; compare it with one obtained out of band."""
    signed = _read_json(source)
    got = verify(signed)
    if fingerprint is None and not yes:
        typer.echo(f"{got['descriptor']['log']['origin']}: key {got['fingerprint']}", err=True)
        if not typer.confirm("Does this match the fingerprint the provider gave you?", default=False):
            raise InputError("not added: the fingerprint was not confirmed",
                             hint="Pass --fingerprint SHA256:... as the provider published it.")
    emit(_brief(_list().add(signed, expected_fingerprint=fingerprint)), as_json, title="trusted")


@trust.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Every trusted provider with its key fingerprint and where the key came from."""
    emit([_brief(e) for e in _list().entries()], as_json, title="trusted providers")


@trust.command("remove")
def remove(ref: Annotated[str, typer.Argument(help="Origin, producer code, name or fingerprint.")],
           as_json: JsonOpt = False) -> None:
    """Stop trusting a provider."""
    emit(_brief(_list().remove(ref)), as_json, title="removed")


@trust.command("witnesses")
def witnesses(ref: Annotated[str, typer.Argument(help="The provider (origin, producer code, name, fingerprint).")],
              vkey: Annotated[list[str], typer.Option(help="A witness's cosigner vkey (repeat).")],
              quorum: Annotated[int, typer.Option(help="Cosignatures a checkpoint needs.")] = 1,
              as_json: JsonOpt = False) -> None:
    """Require k of n witness cosignatures on this provider's checkpoints."""
    emit(_brief(_list().set_witnesses(ref, vkey, quorum)), as_json, title="witnesses")


@trust.command("credential")
def credential(ref: Annotated[str, typer.Argument(help="The provider (origin, producer code, name, fingerprint).")],
               token: Annotated[str | None, typer.Option(envvar="SYNTHGUARD_PROVIDER_TOKEN",
                                                         help="The credential the provider issued to you.")] = None,
               forget: Annotated[bool, typer.Option("--forget", help="Remove the stored credential.")] = False,
               as_json: JsonOpt = False) -> None:
    """Store your credential at a trusted provider's lookup API: scan, trace and evidence then resolve that
    provider's records and verify their proofs (kept apart from the list, in a 0600 file)."""

    if not forget and not token and _interactive():
        token = typer.prompt("Credential", hide_input=True)
    if not forget and not (token or "").strip():
        raise InputError("no credential given", hint="Pass --token or set SYNTHGUARD_PROVIDER_TOKEN.")
    entry = _list().set_credential(ref, None if forget else token)
    emit({"provider": entry.name or entry.origin, "origin": entry.origin, "credential": "forgotten" if forget
          else "stored"}, as_json, title="credential")


@trust.command("import")
def import_(source: Annotated[str, typer.Argument(help="A signed trust list (file or URL).")],
            publisher_key: Annotated[str, typer.Option(help="The publisher's verifier key (pinned).")],
            as_json: JsonOpt = False) -> None:
    """Add every provider of a list signed by a publisher you chose (e.g. a regulator's list of filed services)."""
    emit([_brief(e) for e in import_list(_list(), _read_json(source), publisher_key)], as_json, title="imported")


@trust.command("publish")
def publish_(out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the signed list.")],
             name: Annotated[str, typer.Option(help="The publisher's name (a schema-less URL).")]) -> None:
    """Sign this deployment's trust list with its ledger key, for others to import."""
    with core() as sg:
        signed = publish(_list().entries(), name=name, key=sg.keys.ledger_private)
    write_atomic(out, json.dumps(signed, ensure_ascii=False, indent=1).encode())
    typer.echo(f"wrote {out}: {len(signed['list']['providers'])} providers, publisher key "
               f"{signed['list']['publisher_vkey']}")


@trust.command("resolve")
def resolve_(provider: Annotated[str, typer.Argument(help="The provider (producer code, origin, name).")],
             content_id: Annotated[str, typer.Argument(help="The content id (GB 45438 ProduceID) to look up.")],
             token: Annotated[str | None, typer.Option(envvar="SYNTHGUARD_PROVIDER_TOKEN",
                                                       help="Your credential at the provider's lookup API.")] = None,
             as_json: JsonOpt = False) -> None:
    """Look a record up at its provider and verify record, inclusion proof and checkpoint against the pinned key.
    A 16-hex watermark token (read from a shared- or public-mode mark) resolves the same way."""
    if re.fullmatch(TOKEN_RE, content_id):
        emit(resolve_token(_list(), provider, content_id, credential=token), as_json, title="resolved")
    else:
        emit(resolve(_list(), provider, content_id, token=token), as_json, title="resolved")


@trust.command("recipient")
def recipient() -> None:
    """Print this platform's recipient key: send it to a shared-mode provider to receive its watermark key."""
    typer.echo(_list().recipient())


@trust.command("wm-key")
def wm_key(ref: Annotated[str, typer.Argument(help="The provider (origin, producer code, name, fingerprint).")],
           grant_file: Annotated[Path, typer.Argument(help="The grant the provider sent (provider grant-wm-key).")],
           as_json: JsonOpt = False) -> None:
    """Accept a shared-mode watermark key: checked against the pinned key and the descriptor's key id."""
    emit(_brief(_list().accept_grant(ref, _read_json(str(grant_file)))), as_json, title="watermark key held")
