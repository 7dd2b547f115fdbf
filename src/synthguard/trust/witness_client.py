"""The log's side of c2sp.org/tlog-witness: ask a witness to cosign our latest checkpoint.

The client starts from the size it believes the witness cosigned last (0 when it does not know), sends a
consistency proof from that size, and on ``409`` retries once from the size the witness names.  The returned
line is verified against the witness's pinned verifier key before it is kept: a cosignature that does not verify
is an error, never silently stored.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from synthguard.errors import LedgerIntegrityError, UpstreamError
from synthguard.ledger.service import LedgerService
from synthguard.trust import cosign

Post = Callable[[str, bytes], tuple[int, str]]  # (url, body) -> (status, text); httpx by default


def _httpx_post(url: str, body: bytes) -> tuple[int, str]:
    import httpx

    try:
        r = httpx.post(url, content=body, headers={"content-type": "text/plain"}, timeout=30.0)
    except httpx.HTTPError as exc:
        raise UpstreamError("the witness is unreachable: {reason}", values={"reason": type(exc).__name__}) from exc
    return r.status_code, r.text


def request_body(old_size: int, proof: tuple[bytes, ...], checkpoint: str) -> bytes:
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint).encode()


def cosign_latest(ledger: LedgerService, witness_url: str, witness_vkey: str, *, old_size: int = 0,
                  post: Post = _httpx_post) -> dict[str, Any]:
    """Get the latest checkpoint cosigned by a witness: ``{"checkpoint": note with the cosignature, ...}``."""
    url = witness_url.rstrip("/") + "/add-checkpoint"
    cp = ledger.head()
    note = cp.to_text()
    for _ in range(2):
        proof = ledger.consistency_proof(old_size, cp.tree_size).hashes if old_size else ()
        status, text = post(url, request_body(old_size, proof, note))
        if status == 409 and text.strip().isdigit() and int(text) != old_size:
            old_size = int(text)
            continue
        break
    if status != 200:
        raise UpstreamError("the witness refused the checkpoint: {status} {reason}",
                            values={"status": status, "reason": text.strip()[:200]})
    cosigned = note.rstrip("\n") + "\n" + "".join(line + "\n" for line in text.splitlines() if line.strip())
    got = cosign.verify(cosigned, witness_vkey)
    if got is None:
        raise LedgerIntegrityError("the witness's answer holds no valid cosignature by its pinned key")
    lines = [line for line in cosigned.splitlines() if line.startswith(cosign.DASH + got.name + " ")]
    # served from now on with the checkpoint (lookup answers, /checkpoints/latest)
    cosigned = ledger.add_cosignatures(cp.tree_size, cp.root_hash, lines)
    return {"checkpoint": cosigned, "tree_size": cp.tree_size, "witness": got.name, "timestamp": got.timestamp}
