"""Scan on upload (issue 26): object-created events -> a scan job per object version -> a signed callback.

Platforms receive uploads in object stores.  The store (S3, MinIO, Ceph...) notifies ``POST /v1/hooks/objects``;
each record becomes one ``object-scan`` job, keyed by bucket, key and version (or ETag), so a notification that
is delivered twice scans once.  The job fetches the object from the configured bucket, scans it (LM Art. 6,
LM-13..17), commits the result with its ledger entry (DS-10), and enqueues a ``callback`` job that POSTs the verdict
and actions to the platform's URL, signed with HMAC-SHA256, retried with the queue's backoff and kept in the dead
letter when the receiver never answers 2xx.  A corrupt or oversized object is a result too (verdict null and the
error), so the platform always hears back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from synthguard.errors import (
    ForbiddenError,
    InputError,
    MediaTooLargeError,
    SynthGuardError,
    UpstreamError,
    ValidationError,
)
from synthguard.jobs.context import JobContext
from synthguard.jobs.queue import Lease, Queue, jsonable
from synthguard.media import Media
from synthguard.scan import scan_entry
from synthguard.sources import filesystem as open_filesystem

if TYPE_CHECKING:
    from synthguard.config import Settings

MAX_RECORDS = 100
SIGNATURE_HEADER = "X-SynthGuard-Signature"


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version: str | None = None
    etag: str | None = None

    @property
    def idempotency_key(self) -> str:
        return "object:" + hashlib.sha256(f"{self.bucket}\0{self.key}\0{self.version or self.etag or ''}"
                                          .encode()).hexdigest()


def parse_event(doc: Any) -> list[ObjectRef]:
    """Object references from an S3 event notification (``{"Records": [...]}``, as S3 and MinIO send it) or the
    plain form ``{"bucket", "key", "version"?, "etag"?}``; only object-created records count."""
    if not isinstance(doc, dict):
        raise ValidationError("the event must be a JSON object")
    if "Records" not in doc:
        return [_plain(doc)]
    records = doc["Records"]
    if not isinstance(records, list) or not 0 < len(records) <= MAX_RECORDS:
        raise ValidationError("Records must be a list of 1-{n} records", values={"n": MAX_RECORDS})
    refs = []
    for r in records:
        if not isinstance(r, dict) or not str(r.get("eventName", "")).startswith(("ObjectCreated", "s3:ObjectCreated")):
            continue
        s3: dict[str, Any] = r["s3"] if isinstance(r.get("s3"), dict) else {}
        bucket, obj = s3.get("bucket") or {}, s3.get("object") or {}
        if not (isinstance(bucket, dict) and isinstance(obj, dict)):
            raise ValidationError("an S3 record without s3.bucket and s3.object")
        refs.append(_plain({"bucket": bucket.get("name"), "key": unquote_plus(str(obj.get("key") or "")),
                            "version": obj.get("versionId"), "etag": obj.get("eTag")}))
    return refs


def _plain(doc: dict[str, Any]) -> ObjectRef:
    bucket, key = doc.get("bucket"), doc.get("key")
    if not (isinstance(bucket, str) and 3 <= len(bucket) <= 63 and isinstance(key, str) and 0 < len(key) <= 1024):
        raise ValidationError("an object reference needs a bucket (3-63 characters) and a key (1-1024)")
    version, etag = doc.get("version"), doc.get("etag")
    return ObjectRef(bucket, key, str(version)[:1024] if version else None, str(etag)[:128] if etag else None)


def bucket_url(settings: Settings, bucket: str) -> str:
    """The configured ``s3://bucket?...`` URL for a bucket the platform watches; 403 for any other bucket."""
    for url in settings.upload_buckets:
        if url.split("://", 1)[-1].split("?", 1)[0].split("/", 1)[0] == bucket:
            return url
    raise ForbiddenError("bucket {bucket!r} is not one this deployment scans", values={"bucket": bucket},
                         hint="Add its URL to the upload_buckets setting.")


def submit(settings: Settings, queue: Queue, refs: list[ObjectRef], *, tenant: str) -> list[dict[str, Any]]:
    """One ``object-scan`` job per object version on ``queue`` (a repeated notification returns the first job)."""
    jobs = []
    for ref in refs:
        bucket_url(settings, ref.bucket)
        payload = {"bucket": ref.bucket, "key": ref.key, "version": ref.version,  # what names the version, only:
                   "etag": None if ref.version else ref.etag}  # the same version twice is the same request
        job, _ = queue.enqueue("object-scan", payload, tenant=tenant, key=ref.idempotency_key)
        jobs.append(job)
    return jobs


def read_object(settings: Settings, p: dict[str, Any]) -> bytes:
    """The object's bytes (never more than ``max_bytes``), from the filesystem of the configured bucket URL; the key
    is used as is (spaces, unicode), not parsed as a URL."""
    filesystem, _ = open_filesystem(bucket_url(settings, p["bucket"]))
    limit = settings.max_bytes
    try:
        with filesystem.open_input_stream(f"{p['bucket']}/{p['key']}") as fh:
            data = fh.read(limit + 1)
    except (OSError, FileNotFoundError) as exc:
        raise InputError("cannot read the object: {reason}", values={"reason": str(exc)[:300]},
                         hint="The object may have been deleted since the event was sent.") from None
    if len(data) > limit:
        raise MediaTooLargeError("the object is over the limit of {limit:,} bytes", values={"limit": limit})
    return data


def run_object_scan(ctx: JobContext, lease: Lease) -> dict[str, Any]:
    p, st = lease.payload, ctx.settings()
    body: dict[str, Any] = {"bucket": p["bucket"], "key": p["key"], "version": p.get("version"), "etag": p.get("etag")}
    entry_index = None
    try:
        data = read_object(st, p)
        media = Media.from_bytes(data, p["key"].rsplit("/", 1)[-1][-128:] or "object",
                                 max_bytes=st.max_bytes, max_pixels=st.max_pixels)
        result = ctx.scanner().scan(media, cached=False, log=False)
        body["result"], body["error"] = jsonable(result.to_dict()), None
    except InputError as exc:  # corrupt, unsupported, too large or missing: permanent, and the platform is told
        body["result"], body["error"] = None, exc.to_dict()
        result = None
    if st.upload_callback_url:
        ctx.queue.enqueue("callback", {"scan_job": lease.id, "body": body}, tenant=lease.tenant,
                              key=f"callback:{lease.id}")
    with ctx.units() as uow:
        if result is not None:
            entry_index = ctx.ledger.append(uow.session, "scan", scan_entry(result) | {"job": lease.id}).index
        ctx.queue.complete(uow, lease, body, ledger_index=entry_index)
    return body


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>``: the receiver recomputes it and rejects old stamps."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does with ``X-SynthGuard-Signature`` (documented, and used by the tests)."""
    try:
        parts = dict(x.split("=", 1) for x in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, ts), header)


def run_callback(ctx: JobContext, lease: Lease) -> dict[str, Any]:
    """POST the scan's outcome to the platform; any answer but 2xx is retried with the queue's backoff."""
    import httpx

    st = ctx.settings()
    if not st.upload_callback_url:
        raise SynthGuardError("no upload_callback_url is configured")
    doc = {"event": "object.scanned", "delivery": lease.id, "scan_job": lease.payload["scan_job"],
           **lease.payload["body"]}
    raw = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
    headers = {"content-type": "application/json", "user-agent": "SynthGuard-callback/1"}
    if st.upload_callback_secret is not None:
        headers[SIGNATURE_HEADER] = sign(st.upload_callback_secret.get_secret_value(), raw, int(time.time()))
    try:
        r = httpx.post(st.upload_callback_url, content=raw, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        raise UpstreamError("the callback URL is unreachable: {reason}", values={"reason": type(exc).__name__}) \
            from exc
    if not 200 <= r.status_code < 300:
        raise UpstreamError("the callback URL answered {status}", values={"status": r.status_code})
    with ctx.units() as uow:
        ctx.queue.complete(uow, lease, {"status": r.status_code, "delivery": lease.id})
    return {"status": r.status_code}
