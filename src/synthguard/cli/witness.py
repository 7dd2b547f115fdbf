"""``synthguard witness``: cosign other logs' checkpoints (the witness role), or get ours cosigned (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit
from synthguard.config import Settings
from synthguard.errors import ConfigError
from synthguard.ledger.checkpoint import generate_ledger_key
from synthguard.trust import cosign, descriptor, wmkeys
from synthguard.trust.monitor import check as monitor_check
from synthguard.trust.witness import KEY_FILE, Witness, from_settings, watch, watched_logs
from synthguard.trust.witness_client import cosign_latest

witness = typer.Typer(no_args_is_help=True, help="Witness other logs (c2sp.org/tlog-witness) or get ours cosigned.")
app.add_typer(witness, name="witness")


@witness.command("init")
def init(as_json: JsonOpt = False) -> None:
    """Create this deployment's witness key (Ed25519, 0600); set witness_name to its cosigner name."""
    st = Settings.load()
    if not st.witness_name:
        raise ConfigError("set witness_name first (SYNTHGUARD_WITNESS_NAME=witness.example/w1)")
    key = generate_ledger_key(st.keys_dir / KEY_FILE)
    emit({"name": st.witness_name, "vkey": cosign.vkey(st.witness_name, key)}, as_json, title="witness key")


@witness.command("vkey")
def show_vkey() -> None:
    """Print the witness's cosigner verifier key (give it to verifiers who require its cosignature)."""
    w = from_settings(Settings.load())
    if w is None:
        raise ConfigError("this deployment is not a witness: set witness_name and run `synthguard witness init`")
    typer.echo(w.vkey)


@witness.command("watch")
def watch_log(log_vkey: Annotated[str, typer.Argument(help="The log's checkpoint verifier key (ledger vkey).")],
              as_json: JsonOpt = False) -> None:
    """Start cosigning a log's checkpoints (pin the key its operator gave you out of band)."""
    emit({"watching": watch(Settings.load().home, log_vkey)}, as_json, title="witness")


@witness.command("list")
def list_logs(as_json: JsonOpt = False) -> None:
    """The logs this witness watches, with the size it cosigned last."""
    st = Settings.load()
    w = from_settings(st)
    rows = [{"origin": o, "vkey": v, "cosigned_size": (w.latest(o) or {}).get("size") if isinstance(w, Witness)
             else None} for o, v in watched_logs(st.home).items()]
    emit(rows, as_json, title="watched logs")


@witness.command("cosign")
def cosign_ours(url: Annotated[str, typer.Argument(help="The witness's submission prefix, e.g. https://w/witness")],
                vkey: Annotated[str, typer.Option(help="The witness's cosigner verifier key (pinned).")],
                as_json: JsonOpt = False) -> None:
    """Ask a witness to cosign this deployment's latest checkpoint; prints the cosigned note."""
    with core() as sg:
        got = cosign_latest(sg.ledger_service, url, vkey)
    if as_json:
        emit(got, True)
    else:
        typer.echo(got["checkpoint"], nl=False)


provider = typer.Typer(no_args_is_help=True, help="What other deployments need to verify this provider.")
app.add_typer(provider, name="provider")


@provider.command("descriptor")
def show_descriptor(base_url: Annotated[str | None, typer.Option(help="The public URL of this deployment.")] = None,
                    ) -> None:
    """Print the signed provider descriptor (as served at /.well-known/synthguard.json)."""
    with core() as sg:
        typer.echo(json.dumps(descriptor.build(sg, base_url=base_url), ensure_ascii=False, indent=2))


@provider.command("grant-wm-key")
def grant_wm_key(recipient: Annotated[str, typer.Argument(help="The platform's recipient key (trust recipient).")],
                 out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the grant.")],
                 platform: Annotated[str | None, typer.Option(help="Who it is for (recorded in the grant).")] = None,
                 ) -> None:
    """Seal this provider's shared-mode watermark detection key to one platform (signed with the ledger key)."""
    with core() as sg:
        signed = wmkeys.grant(sg, recipient, platform=platform)
    out.write_text(json.dumps(signed, indent=1), encoding="utf-8")  # sealed to the recipient: nothing secret
    typer.echo(f"wrote {out}: key {signed['grant']['key_id']} for recipient {signed['grant']['recipient']}")


@app.command("monitor")
def monitor(url: Annotated[str, typer.Argument(help="The provider's base URL.")],
            vkey: Annotated[str, typer.Option(help="The provider's checkpoint verifier key (pinned).")],
            as_json: JsonOpt = False) -> None:
    """Check that a provider's log only grows (signature, consistency with the last head seen); alarm otherwise."""
    emit(monitor_check(url, vkey, Settings.load().home / "monitor-state.json"), as_json, title="monitor")
