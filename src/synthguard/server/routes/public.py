"""Public JSON routes: health, the latest signed checkpoint, label inspection, and ``whoami``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile

from synthguard.auth import principal_dict
from synthguard.errors import NotFoundError
from synthguard.server.deps import SG, CurrentPrincipal, public_work

router = APIRouter(prefix="/v1", tags=["public"])


@router.get("/health")
def health(sg: SG) -> dict[str, Any]:
    """Liveness: the service answers and knows its version."""
    return {"status": "ok", "version": sg.version}


@router.get("/checkpoints/latest")
def latest_checkpoint(sg: SG) -> dict[str, Any]:
    """The newest signed tree head with the ledger's public key (DS-18, CSL-01).

    Public so anyone can pin the key and check that the log only grows; 404 before the first checkpoint.
    """
    cp = sg.latest_checkpoint()
    if cp is None:
        raise NotFoundError("the ledger has no signed checkpoint yet",
                            hint="The operator signs one with `synthguard ledger checkpoint`.")
    return cp


@router.post("/inspect")
def inspect(sg: SG, request: Request,
            file: Annotated[UploadFile, File(description="An image (JPEG, PNG or WebP).")]) -> dict[str, Any]:
    """Read every label on an image: GB 45438 AIGC metadata, IPTC, C2PA, our watermark, the visible label.

    Deliberately public (no token): labels exist so that anyone who receives the content can tell it is
    AI-generated (LM-05..LM-12, LM-22, EU-11 detection access). Inspection reveals only what the file itself
    carries plus signature checks; it never reveals who made it - that needs ``/v1/trace`` and a role.
    """
    return public_work(sg, request, file, "inspect")


@router.get("/whoami", tags=["auth"])
def whoami(p: CurrentPrincipal) -> dict[str, Any]:
    """The caller's token id, name, role and tenant (never the secret)."""
    return principal_dict(p)
