"""The witness role over HTTP (c2sp.org/tlog-witness ``add-checkpoint``), deliberately public.

The protocol authenticates nothing but the checkpoint's signature (the log's pinned key): any log operator may
submit, and the answer is a cosignature line or the spec's status (404 unknown log, 403 bad signature, 400 bad
request, 409 with the cosigned size as ``text/x.tlog.size``, 422 inconsistent).  404 when this deployment is not
a witness.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from synthguard.errors import NotFoundError, SynthGuardError, ValidationError
from synthguard.server.deps import SG
from synthguard.trust.descriptor import build
from synthguard.trust.witness import MAX_REQUEST_BYTES, StaleSizeError, from_settings

router = APIRouter(prefix="/witness", tags=["witness"])


@router.post("/add-checkpoint", response_class=PlainTextResponse)
async def add_checkpoint(sg: SG, request: Request) -> PlainTextResponse:
    """Cosign a watched log's checkpoint after checking its consistency proof (public: the signature is the auth)."""
    witness = from_settings(sg.settings)
    if witness is None:
        raise NotFoundError("this deployment is not a witness", hint="Set witness_name and run `synthguard witness "
                                                                     "init`.")
    raw = await request.body()
    if len(raw) > MAX_REQUEST_BYTES:
        return PlainTextResponse("request too large\n", status_code=413)
    try:
        line = witness.add_checkpoint(raw.decode("utf-8", errors="replace"))
    except StaleSizeError as exc:
        return PlainTextResponse(f"{exc.size}\n", status_code=409, media_type="text/x.tlog.size")
    except SynthGuardError as exc:
        return PlainTextResponse(exc.message + "\n", status_code=exc.http_status)
    return PlainTextResponse(line)


well_known = APIRouter(tags=["provider"])


@well_known.get("/.well-known/synthguard.json")
def descriptor(sg: SG, request: Request) -> dict:
    """This provider's signed descriptor (public): producer code, log key, C2PA chain, lookup and takedown URLs."""
    return build(sg, base_url=str(request.base_url))


consistency = APIRouter(prefix="/v1/checkpoints", tags=["public"])


@consistency.get("/consistency")
def consistency_proof(sg: SG, old: int, new: int | None = None) -> dict:
    """RFC 6962 consistency proof between two tree sizes (public, like the checkpoints: hashes only), so monitors
    and witnesses can check that the log only grew."""
    if old < 0 or old > 2**62 or (new is not None and not 0 <= new <= 2**62):
        raise ValidationError("tree sizes are 0 .. 2^62")
    proof = sg.ledger_service.consistency_proof(old, new)
    return {"old_size": proof.old_size, "new_size": proof.new_size,
            "hashes": [base64.b64encode(h).decode() for h in proof.hashes]}
