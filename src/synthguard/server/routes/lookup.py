"""Trace a file and look up a record with its proof: the label-lookup API (LM-24, DS-18, CSL-01)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from synthguard.auth import Role
from synthguard.errors import NotFoundError
from synthguard.server.deps import SG, RecordReader, Scanner, Tracer, upload_media

router = APIRouter(prefix="/v1", tags=["lookup"])


@router.post("/trace")
def trace(sg: SG, p: Tracer, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Which record made this file (watermark, AIGC ProduceID, C2PA, fingerprints), with an inclusion proof."""
    return sg.trace(upload_media(sg, file))


@router.get("/records/{content_id}")
def record(sg: SG, p: RecordReader, content_id: str) -> dict[str, Any]:
    """The record, its RFC 6962 inclusion proof and the signed checkpoint (LM-24 label lookup for authorities).

    Providers see only their own tenant's records; any other record is 404 as if it did not exist.
    """
    found = sg.record(content_id)
    if p.role is Role.PROVIDER and found["record"]["tenant"] != p.tenant:
        raise NotFoundError(f"no record {content_id!r}")
    return found


@router.post("/scan")
def scan(sg: SG, p: Scanner, file: Annotated[UploadFile, File()],
         declared_ai: Annotated[bool, Form()] = False) -> dict[str, Any]:
    """Platform scan of an upload (LM Art. 6): {verdict, label_value, evidence, matches, actions}."""
    return sg.scan(upload_media(sg, file), declared_ai=declared_ai).to_dict()
