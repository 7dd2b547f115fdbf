"""``synthguard evidence`` and ``synthguard evidence-verify``: bundles a victim can hand to police or a court."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, console, core, emit
from synthguard.config import Settings
from synthguard.errors import InputError
from synthguard.evidence import build_bundle, verify_bundle, write_bundle
from synthguard.evidence.bundle import verifier_keys
from synthguard.keys import LEDGER_KEY
from synthguard.ledger.trusted import pinned
from synthguard.trust.trustlist import TrustList, for_settings, published_keys, trusted_keys


@app.command()
def evidence(
    file: Annotated[Path, typer.Argument(help="The file found in the wild.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the bundle (.zip).")],
    include_file: Annotated[bool, typer.Option(
        "--include-file", help="Also put the file itself in the bundle (off by default: it may be intimate "
                               "imagery).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write an evidence bundle: evidence.json, report.html/.pdf, signed checkpoint, key, verify.py, manifest.

    Exits 0 whenever the bundle was written, also when no record was found (then it says found: false and
    explains which marks were looked for); see `synthguard trace` for an exit code that signals "not found".
    """
    with core() as sg:
        bundle = build_bundle(sg, file, include_file=include_file)
    written = write_bundle(bundle, output)
    emit({"bundle": str(written), **bundle.summary()}, as_json, f"evidence for {file}")


@app.command("evidence-verify")
def evidence_verify(
    bundle: Annotated[Path, typer.Argument(help="A bundle written by `synthguard evidence`.")],
    trusted_key: Annotated[Optional[list[str]], typer.Option(
        "--trusted-key", help="A ledger key you trust: a PEM public key file, or the provider's note verifier key "
                              "(origin+hash+base64, as `synthguard ledger vkey` prints it) (repeatable). This "
                              "deployment's own ledger key is trusted too.")] = None,
    trust_list: Annotated[Optional[Path], typer.Option(
        "--trust-list", help="A trust list file (synthguard trust); this deployment's own list is used too. "
                             "Its witness quorums apply.")] = None,
    publisher_key: Annotated[Optional[str], typer.Option(
        "--publisher-key", help="With --trust-list: the file is a list a publisher signed (synthguard trust "
                                "publish); this is the publisher's verifier key, which you pinned.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-check a bundle's manifest, inclusion proof and checkpoint signature; exit 7 if any check fails.

    The checkpoint must be signed by a trusted key: this deployment's ledger key, a --trusted-key pin, or a
    provider in the trust list (issue 19), named in the result with where its key came from; when the list requires
    k of n witness cosignatures for that provider, the checkpoint must carry them.  Nothing is fetched: the bundle
    holds the checkpoint and the provider descriptor it relied on.
    The key inside the bundle is never trusted (whoever made the bundle chose it): an unknown key is
    reported as "origin not verified" and exits 7 too (issue 18 finding 1, DS-18).
    """
    from rich.markup import escape


    keys = [pinned(p) for p in trusted_key or []]
    if publisher_key and trust_list is None:
        raise InputError("--publisher-key goes with --trust-list (the signed list)")
    given = None
    if trust_list is not None and publisher_key:
        try:
            keys += published_keys(json.loads(trust_list.read_text(encoding="utf-8")), publisher_key)
        except (OSError, ValueError) as exc:
            raise InputError("cannot read {path}: {reason}", values={"path": str(trust_list),
                                                                    "reason": type(exc).__name__}) from exc
    else:
        given = trust_list
    settings = Settings.load()
    if (settings.keys_dir / LEDGER_KEY).is_file():  # a deployment: trust its own key, check user references
        with core() as sg:
            keys += verifier_keys(sg, given)
            result = verify_bundle(bundle, keys, sg.user_ref)
    else:
        keys += trusted_keys(for_settings(settings)) + (trusted_keys(TrustList(given)) if given else [])
        result = verify_bundle(bundle, keys)
    if as_json:
        emit(result, True)
    else:
        for c in result["checks"]:
            mark = "[green]ok[/green]  " if c["ok"] else "[red]FAIL[/red]"
            console.print(f"  {mark} {c['check']}: {escape(c['detail'])}", highlight=False)
        used = result["trusted_key"]
        console.print("trusted key: " + (f"{used['fingerprint'] or used['log_id']} ({used['source']}: "
                                         f"{escape(used['label'])})" if used
                                         else "[red]none: origin not verified[/red]"), highlight=False)
        console.print(f"found: {str(result['found']).lower()}  content id: {result['content_id'] or '-'}  "
                      + ("[green]OK[/green]" if result["ok"] else "[red]FAILED[/red]"))
    if not result["ok"]:
        raise typer.Exit(7)
