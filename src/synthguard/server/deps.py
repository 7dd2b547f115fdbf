"""``Annotated`` dependency aliases: the core object, the authenticated principal, role gates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from synthguard.auth import Principal, Role, authenticate
from synthguard.core import SynthGuard
from synthguard.errors import NotFoundError
from synthguard.limits import MAX_ROW_ID
from synthguard.media import Media
from synthguard.server.ratelimit import limit, limit_client
from synthguard.server.sandbox import JOBS, Sandbox
from synthguard.server.uploads import read_upload

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer sg_...` (synthguard tokens create)")


def _sg(request: Request) -> SynthGuard:
    sg: SynthGuard = request.app.state.sg
    return sg


SG = Annotated[SynthGuard, Depends(_sg)]


def _principal(request: Request, sg: SG,
               creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """401 for a missing, unknown or revoked token (tokens travel only in the header, never in the URL);
    429 when the token is over its request rate (server/ratelimit.py)."""
    p = authenticate(sg.db, creds.credentials if creds else None)
    limit(request, p)
    return p


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def _role(*roles: Role) -> Callable[[Principal], Principal]:
    def gate(p: CurrentPrincipal) -> Principal:
        return p.require(*roles)

    return gate


TRACERS = (Role.PLATFORM, Role.REVIEWER, Role.VICTIM, Role.REGULATOR, Role.ADMIN)
RECORD_READERS = (Role.PLATFORM, Role.REGULATOR, Role.ADMIN, Role.PROVIDER)

Provider = Annotated[Principal, Depends(_role(Role.PROVIDER))]
Tracer = Annotated[Principal, Depends(_role(*TRACERS))]
RecordReader = Annotated[Principal, Depends(_role(*RECORD_READERS))]
Scanner = Annotated[Principal, Depends(_role(Role.PLATFORM, Role.REVIEWER, Role.ADMIN))]


# Ids in paths are validated here, at the edge (issue 27): a row id is a positive 64-bit integer (a larger one
# was an OverflowError in the driver, a 500); a case is named by its row id or its ticket (T- + Crockford).
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row id (1 .. 2**63-1).")]
CaseRef = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^([0-9]{1,19}|T-[0-9A-Za-z]{1,29})$",
                              description="A case: its row id or its ticket (T-...).")]
Ident = Annotated[str, Path(min_length=1, max_length=256, description="An identifier.")]
IdentQuery = Annotated[str | None, Query(min_length=1, max_length=256, description="An identifier.")]


def upload_media(sg: SynthGuard, file: UploadFile) -> Media:
    return read_upload(file, max_bytes=sg.settings.max_bytes, max_pixels=sg.settings.max_pixels)


def public_work(sg: SynthGuard, request: Request, file: UploadFile, job: str) -> dict[str, Any]:
    """An anonymous inspection or check: charged to the client address, run under the public work budget
    (server/sandbox.py, issue 18 finding 5)."""
    limit_client(request)
    media = upload_media(sg, file)
    if not sg.settings.public_sandbox:
        return JOBS[job](sg, media)
    box = getattr(request.app.state, "sandbox", None)
    if box is None:
        box = request.app.state.sandbox = Sandbox(sg.settings)
    return box.run(job, media.data, media.name)


def tenant_user(sg: SynthGuard, p: Principal, user_id: str) -> dict[str, Any]:
    """The user if it belongs to the caller's tenant; otherwise 404 exactly as for a user that does not exist."""
    try:
        return sg.user(user_id, tenant=p.tenant)  # ids are per tenant (issue 18 finding 13)
    except NotFoundError:
        raise NotFoundError("no user {user_id!r}", hint="Add it first: POST /v1/users.",
                            values={"user_id": user_id}) from None
