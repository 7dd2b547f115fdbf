"""Follow another provider's log from outside (issue 19): ``synthguard monitor URL --vkey VKEY``.

Each run fetches the provider's latest checkpoint, checks its signature against the pinned verifier key, and proves
from the provider's own consistency endpoint that it extends the checkpoint seen last.  A smaller tree, another
root at the same size, or a proof that does not verify is a split view or a rewritten history: an alarm
(LedgerIntegrityError, exit 7) that names both tree heads, so it can be shown to others.  The last good head is
kept per origin in a 0600 state file.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthguard.errors import LedgerIntegrityError, UpstreamError
from synthguard.i18n import N_
from synthguard.ledger.checkpoint import parse_checkpoint, verify_note
from synthguard.ledger.merkle import verify_consistency
from synthguard.media import write_atomic

Get = Callable[[str], Any]  # url -> parsed JSON


def _httpx_get(url: str) -> Any:
    import httpx

    try:
        r = httpx.get(url, timeout=30.0)
    except httpx.HTTPError as exc:
        raise UpstreamError("the provider is unreachable: {reason}", values={"reason": type(exc).__name__}) from exc
    if r.status_code != 200:
        raise UpstreamError("the provider answered {status} for {url}", values={"status": r.status_code,
                                                                                "url": url[:200]})
    return r.json()


def check(base_url: str, pinned_vkey: str, state_path: Path, *, get: Get = _httpx_get) -> dict[str, Any]:
    """One monitoring step; returns what was verified, raises LedgerIntegrityError on an alarm."""
    base = base_url.rstrip("/")
    note = get(f"{base}/v1/checkpoints/latest")["note"]
    verify_note(note, pinned_vkey)  # signed by the pinned key, or LedgerIntegrityError
    cp = parse_checkpoint(note)
    state = _load(state_path)
    last = state.get(cp.origin)
    result = {"origin": cp.origin, "tree_size": cp.tree_size, "root": cp.root_hash.hex(),
              "previous_size": last["size"] if last else None, "consistent": None}
    if last:
        old_root = bytes.fromhex(last["root"])
        alarm = None
        if cp.tree_size < last["size"]:
            alarm = N_("ALARM for {origin}: the log shrank from {old} to {new} entries (last seen root {old_root}, "
                       "now {new_root})")
        elif cp.tree_size == last["size"] and cp.root_hash != old_root:
            alarm = N_("ALARM for {origin}: split view, two different trees of size {new} (last seen root "
                       "{old_root}, now {new_root})")
        elif cp.tree_size > last["size"]:
            proof = get(f"{base}/v1/checkpoints/consistency?old={last['size']}&new={cp.tree_size}")
            hashes = [base64.b64decode(h) for h in proof.get("hashes", [])]
            if not verify_consistency(last["size"], cp.tree_size, old_root, cp.root_hash, hashes):
                alarm = N_("ALARM for {origin}: the log's history changed, no consistency from {old} to {new} "
                           "entries (last seen root {old_root}, now {new_root})")
        if alarm is not None:
            raise LedgerIntegrityError(
                alarm, values={"origin": cp.origin, "old": last["size"], "new": cp.tree_size,
                               "old_root": last["root"], "new_root": cp.root_hash.hex()},
                hint="Keep both signed checkpoints: together they prove the provider's log misbehaved.")
        result["consistent"] = True
    state[cp.origin] = {"size": cp.tree_size, "root": cp.root_hash.hex(), "note": note}
    state_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(state_path, json.dumps(state, indent=1, sort_keys=True).encode())
    os.chmod(state_path, 0o600)
    return result


def _load(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except FileNotFoundError:
        return {}
