"""Provider routes: label generated images and manage the tenant's users (DS-07, DS-16..19, DS-20, LM-*)."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from synthguard.identity import Method
from synthguard.server.deps import SG, Ident, Provider, tenant_user, upload_media

router = APIRouter(prefix="/v1", tags=["provider"])


class NewUser(BaseModel):
    id: str = Field(min_length=1, max_length=128, description="The provider's pseudonymous account id.")


class Verification(BaseModel):
    method: Method
    identifier: str | None = Field(None, max_length=256, description="Stored only as a salted hash.")
    reference: str | None = Field(None, max_length=128, description="The verifying service's transaction id.")


@router.post("/label", response_model=None)
def label(
    sg: SG, p: Provider,
    file: Annotated[UploadFile, File(description="The generated file: image, audio, video or text.")],
    user: Annotated[str, Form(min_length=1, max_length=128, description="Account that generated it (DS-07).")],
    producer: Annotated[str | None, Form(description="Provider code (GB-14); default: the server's.")] = None,
    model: Annotated[str | None, Form(max_length=128)] = None,
    visible: Annotated[bool, Form(description="Add the visible label (DS-20 toggle).")] = True,
    download: Annotated[bool, Query(description="Return the file itself, the JSON in X-SynthGuard-Result.")] = False,
    sources: Annotated[list[UploadFile] | None, File(description="Media the edit used: the consent gate checks every "
                                                                 "face/voice in them (DS-15).")] = None,
    purpose: Annotated[str | None, Form(max_length=64, description="With sources: face_swap, voice_clone, ...")] = None,
    technique: Annotated[str | None, Form(max_length=48, description="DS-26 technique recorded with the output "
                                                                     "(default: the purpose).")] = None,
) -> dict[str, Any] | Response:
    """Label one generated file with every mark and record it in the ledger (DS-16..19, LM-05, LM-10, GB-*).

    The user must belong to the token's tenant (404 otherwise, as for an unknown user).
    """
    tenant_user(sg, p, user)
    media = upload_media(sg, file)
    with tempfile.TemporaryDirectory(prefix="sg-label-") as tmp:
        out = Path(tmp) / f"out.{media.format.lower()}"
        result = sg.label(media, user=user, producer=producer, model=model, visible=visible, output=out,
                          sources=[upload_media(sg, f) for f in sources] if sources else None, purpose=purpose,
                          technique=technique, tenant=p.tenant)
        data = out.read_bytes()
    body = result.to_dict() | {"output": None}  # never leak a server path
    mime = media.replace(data).mime
    if download:
        name = f"{result.content_id}.{media.format.lower()}"
        return Response(data, media_type=mime, headers={
            "X-SynthGuard-Result": json.dumps(body, ensure_ascii=True, separators=(",", ":")),
            "Content-Disposition": f'attachment; filename="{name}"'})
    return body | {"media_type": mime, "file_base64": base64.b64encode(data).decode()}


@router.post("/users", status_code=201)
def add_user(sg: SG, p: Provider, body: NewUser) -> dict[str, Any]:
    """Register a user of the provider's service in the token's tenant (DS-07).  Ids are per tenant: 409 only when
    this tenant already has the id; another tenant's account of the same id is neither revealed nor blocking (issue
    18 finding 13)."""
    return sg.add_user(body.id, tenant=p.tenant)


@router.post("/users/{user_id}/verify")
def verify_user(sg: SG, p: Provider, user_id: Ident, body: Verification) -> dict[str, Any]:
    """Record the provider's attested real-identity verification of its user (DS-07)."""
    tenant_user(sg, p, user_id)
    return sg.verify_user(user_id, body.method.value, identifier=body.identifier, reference=body.reference,
                          tenant=p.tenant)


@router.get("/users")
def list_users(sg: SG, p: Provider) -> list[dict[str, Any]]:
    """The tenant's users and whether each holds a verified identity (DS-07)."""
    return sg.users(tenant=p.tenant)
