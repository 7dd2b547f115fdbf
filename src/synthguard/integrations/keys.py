"""Gateway API keys: each key a caller presents maps to one SynthGuard user (issue 26, DS-07).

A provider's application calls the gateway as it would call the upstream API, with a key of its own.  The gateway
labels every output for the user that key belongs to, so the ledger traces each output to an account whose real
identity is verified (``label`` refuses unverified users).  Only the SHA-256 of a key is kept, in a 0600 JSON file
written atomically; the secret is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from synthguard.errors import AuthError, InputError, NotFoundError
from synthguard.media import write_atomic

PREFIX = "sgk_"


@dataclass(frozen=True)
class GatewayKey:
    id: str
    user: str
    sha256: str
    created: str
    name: str = ""
    tenant: str | None = None  # the user's tenant (ids are per tenant, issue 18 finding 13); None in older files


class KeyUser(str):
    """The user a presented key belongs to: the user id (a ``str``, as before) with its tenant (None for keys made
    before ids were per tenant: the one tenant that has the id)."""

    tenant: str | None

    def __new__(cls, user: str, tenant: str | None = None) -> KeyUser:
        obj = super().__new__(cls, user)
        obj.tenant = tenant
        return obj


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class GatewayKeys:
    """The key file: ``{"keys": [{id, user, sha256, created, name}]}``."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def _load(self) -> list[GatewayKey]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            return [GatewayKey(**k) for k in doc["keys"]]
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError("the gateway key file is not valid: {reason}", values={"reason": str(exc)},
                             path=self.path, hint="Restore it from backup or create new keys.") from exc

    def _save(self, keys: list[GatewayKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{k: v for k, v in asdict(key).items() if k != "tenant" or v is not None} for key in keys]
        write_atomic(self.path, json.dumps({"keys": rows}, indent=2).encode())
        os.chmod(self.path, 0o600)

    def add(self, user: str, name: str = "", *, tenant: str | None = None) -> tuple[str, GatewayKey]:
        """A new key for ``user`` of ``tenant``: (the secret, shown once; its record)."""
        secret = PREFIX + secrets.token_urlsafe(32)
        key = GatewayKey(id="gk_" + secrets.token_hex(4), user=user, sha256=_digest(secret),
                         created=datetime.now(UTC).isoformat(timespec="seconds"), name=name, tenant=tenant)
        self._save([*self._load(), key])
        return secret, key

    def list(self) -> list[GatewayKey]:
        return self._load()

    def revoke(self, key_id: str) -> GatewayKey:
        keys = self._load()
        gone = [k for k in keys if k.id == key_id]
        if not gone:
            raise NotFoundError("no gateway key {key_id!r}", values={"key_id": key_id},
                                hint="See `synthguard gateway key list`.")
        self._save([k for k in keys if k.id != key_id])
        return gone[0]

    def user_for(self, secret: str | None) -> KeyUser:
        """The user a presented key belongs to, with its tenant; AuthError (401) for a missing or unknown key."""
        if not secret:
            raise AuthError("an API key is required", hint="Send `Authorization: Bearer sgk_...`.")
        digest = _digest(secret)
        for key in self._load():
            if hmac.compare_digest(key.sha256, digest):
                return KeyUser(key.user, key.tenant)
        raise AuthError("unknown API key", hint="Create one with `synthguard gateway key add USER`.")
