"""Resolve a content id with the provider that made it, and verify the answer against the pinned key (issue 19).

A platform that found a provider's mark (AIGC ProduceID, or a watermark the provider lets it read) asks that
provider's record-lookup API (LM-24) with its own credential.  The answer -- record, ledger entry, RFC 6962
inclusion proof and signed checkpoint -- is checked here, never trusted: the checkpoint must be signed by the key
in the trust list (and carry the witness quorum the list requires), the entry must hash to the proven leaf, and
the entry must name this content id and the record's output hash.  The result names the key, its fingerprint and
where it came from.  A provider missing from the trust list is "not verifiable here" (NotTrustedError), which is
not the same as invalid.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from synthguard.errors import LedgerIntegrityError, NotFoundError, SynthGuardError, UpstreamError, ValidationError
from synthguard.ledger.checkpoint import parse_checkpoint, verify_note
from synthguard.ledger.merkle import leaf_hash, verify_inclusion
from synthguard.trust import cosign
from synthguard.trust.attribution import ATTRIBUTED, FAILED, NOT_FOUND, UNRESOLVED, VERIFIED
from synthguard.trust.trustlist import TrustedProvider, TrustList

Get = Callable[[str, dict[str, str]], Any]  # (url, headers) -> parsed JSON


class NotTrustedError(NotFoundError):
    """The provider is not in this deployment's trust list: its records cannot be verified here."""


def verify_answer(found: dict[str, Any], provider: TrustedProvider, content_id: str) -> dict[str, Any]:
    """Check a lookup answer against the pinned provider; returns what was verified and with which key."""
    cp_info, proof, record = found.get("checkpoint"), found.get("proof"), found.get("record")
    if not (isinstance(cp_info, dict) and isinstance(proof, dict) and isinstance(record, dict)):
        raise LedgerIntegrityError("the provider's answer has no signed checkpoint or no inclusion proof")
    note = str(cp_info.get("note", ""))
    verify_note(note, provider.vkey)  # signed by the pinned key, whatever key the answer names
    cp = parse_checkpoint(note)
    cosigners = [c.name for c in cosign.quorum(note, list(provider.witnesses), provider.quorum)] \
        if provider.quorum else []
    entry = str(proof.get("entry", "")).encode()
    try:
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    except (KeyError, TypeError, ValueError) as exc:
        raise LedgerIntegrityError("malformed inclusion proof") from exc
    if size != cp.tree_size or not verify_inclusion(leaf_hash(entry), index, size, path, cp.root_hash):
        raise LedgerIntegrityError("the record's ledger entry is not included in the signed checkpoint")
    body = json.loads(entry).get("body", json.loads(entry))
    if body.get("content_id") != content_id or body.get("output_sha256") != record.get("output_sha256"):
        raise LedgerIntegrityError("the proven ledger entry does not describe record {cid}", values={"cid": content_id})
    return {"content_id": content_id, "verified": True, "provider": provider.name or provider.origin,
            "producer": provider.producer, "origin": cp.origin, "tree_size": cp.tree_size, "leaf_index": index,
            "key_fingerprint": provider.fingerprint, "key_source": provider.source, "witnesses": cosigners,
            "record": record}


def _httpx_get(url: str, headers: dict[str, str]) -> Any:
    import httpx

    try:
        r = httpx.get(url, headers=headers, timeout=10.0)  # a scan waits for it: a hung provider costs 10 s
    except httpx.HTTPError as exc:
        raise UpstreamError("the provider is unreachable: {reason}", values={"reason": type(exc).__name__}) from exc
    if r.status_code == 404:
        raise NotFoundError("the provider has no record {url}", values={"url": url[:200]})
    if r.status_code != 200:
        raise UpstreamError("the provider answered {status}", values={"status": r.status_code})
    return r.json()


def resolve(trust: TrustList, provider_ref: str, content_id: str, *, token: str | None,
            get: Get = _httpx_get) -> dict[str, Any]:
    """Look the record up at the provider (its ``lookup`` URL) and verify the answer against the trust list."""
    try:
        provider = trust.find(provider_ref)
    except NotFoundError:
        raise NotTrustedError("provider {ref!r} is not in the trust list: its record cannot be verified here",
                              values={"ref": provider_ref[:200]},
                              hint="Add it with `synthguard trust add` after checking its key fingerprint.") from None
    if not provider.lookup:
        raise NotTrustedError("provider {ref!r} publishes no lookup endpoint", values={"ref": provider_ref[:200]})
    headers = {"authorization": f"Bearer {token}"} if token else {}
    found = get(provider.lookup.replace("{content_id}", content_id), headers)
    verified = verify_answer(found, provider, content_id)
    # what an evidence bundle keeps: the proof and the (cosigned) checkpoint exactly as verified
    return verified | {"proof": found["proof"], "checkpoint": found["checkpoint"]}


TOKEN_RE = r"[0-9a-f]{16}"


def verify_token_answer(found: dict[str, Any], provider: TrustedProvider, token: str) -> dict[str, Any]:
    """A lookup answer for a watermark token: the proven ledger entry must carry this token
    (``watermark_payload``), then everything :func:`verify_answer` checks for the record's content id."""
    record = found.get("record") if isinstance(found, dict) else None
    content_id = record.get("content_id") if isinstance(record, dict) else None
    if not isinstance(content_id, str):
        raise LedgerIntegrityError("the provider's answer names no content id")
    verified = verify_answer(found, provider, content_id)
    body = json.loads(str(found["proof"]["entry"]))
    body = body.get("body", body)
    if body.get("watermark_payload") != token:
        raise LedgerIntegrityError("the proven ledger entry does not carry watermark token {token}",
                                   values={"token": token})
    prints = found.get("fingerprints")
    return verified | {"token": token, "fingerprints": prints if isinstance(prints, dict) else {}}


def resolve_token(trust: TrustList, provider_ref: str, token: str, *, credential: str | None,
                  get: Get | None = None) -> dict[str, Any]:
    """Turn a watermark token read from a provider's mark into its verified record (issue 19 item 3): the
    provider's lookup URL with the token in place of the content id; only the provider can map a token (an HMAC
    of the content id under its integrity key) to a record, so a forged token is a 404 here."""
    import re

    if not re.fullmatch(TOKEN_RE, token):
        raise ValidationError("a watermark token is 16 lowercase hex digits, got {token!r}",
                              values={"token": token[:40]})
    try:
        provider = trust.find(provider_ref)
    except NotFoundError:
        raise NotTrustedError("provider {ref!r} is not in the trust list: its record cannot be verified here",
                              values={"ref": provider_ref[:200]}) from None
    if not provider.lookup:
        raise NotTrustedError("provider {ref!r} publishes no lookup endpoint", values={"ref": provider_ref[:200]})
    headers = {"authorization": f"Bearer {credential}"} if credential else {}
    fetch = get or _httpx_get  # looked up now, so a test (or an embedding) can route it
    return verify_token_answer(fetch(provider.lookup.replace("{content_id}", token), headers), provider, token)


def match(record: dict[str, Any], sha256: str | None, pixel_sha256: str | None) -> str:
    """How a file relates to the provider's record: ``identical`` bytes, ``same-pixels``, or ``other-copy``."""
    if sha256 and record.get("output_sha256") == sha256:
        return "identical"
    if pixel_sha256 and record.get("pixel_sha256") == pixel_sha256:
        return "same-pixels"
    return "other-copy"


def resolve_all(claims: list[dict[str, Any]], trust: TrustList, *, sha256: str | None = None,
                pixel_sha256: str | None = None, get: Any = None) -> list[dict[str, Any]]:
    """Resolve each attributed claim with a content id at its provider, with this deployment's stored credential
    (``synthguard trust credential``); one lookup per (provider, content id).  Updates the claims in place (status,
    ``resolved``) and returns them.  Never raises for a provider's answer: a failure is a status."""
    done: dict[tuple[str, str], dict[str, Any]] = {}
    for c in claims:
        prov, cid = c.get("provider"), c.get("content_id")
        if c["status"] != ATTRIBUTED or not prov or not cid:
            continue
        key = (prov["origin"], cid)
        if key not in done:
            token = trust.credential(prov["origin"])
            if token is None:
                done[key] = {"status": UNRESOLVED, "reason": "no credential stored for this provider's lookup API "
                             "(synthguard trust credential)"}
            else:
                try:
                    kw = {"get": get} if get is not None else {}
                    got = resolve(trust, prov["origin"], cid, token=token, **kw)
                    got["match"] = match(got["record"], sha256, pixel_sha256)
                    done[key] = {"status": VERIFIED, "resolved": got}
                except NotFoundError as exc:
                    done[key] = {"status": NOT_FOUND, "reason": exc.message}
                except LedgerIntegrityError as exc:
                    done[key] = {"status": FAILED, "reason": exc.message}
                except SynthGuardError as exc:
                    done[key] = {"status": UNRESOLVED, "reason": exc.message}
        c.update(done[key])
    return claims
