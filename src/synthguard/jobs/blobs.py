"""Durable upload bytes for asynchronous jobs: a content-addressed folder under ``$SYNTHGUARD_HOME/blobs``.

An async scan is accepted (202) only after its bytes are on disk, written atomically and fsynced, so a crash
after the 202 never loses an upload.  Workers need ``$SYNTHGUARD_HOME`` anyway (the keys live there), so a
shared home (NFS, a mounted volume) is the one requirement for workers on several machines; the database stays
small.  Blobs are named by SHA-256: the same upload twice is stored once, and a read re-checks the hash.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

from synthguard.errors import CorruptMediaError, NotFoundError, ValidationError
from synthguard.media import write_atomic

_SHA = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if not _SHA.match(digest):
            raise ValidationError("not a blob id: {digest!r}", values={"digest": digest[:80]},
                                  hint="Blob ids are lowercase hex SHA-256.")
        return self.root / digest[:2] / digest

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store ``data`` durably (atomic rename + fsync of file and folder); return its SHA-256.

        ``digest``: the SHA-256 the caller already computed (a Media's), so a repeat upload is one stat."""
        digest = digest or hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if path.is_file() and path.stat().st_size == len(data):
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        _fsync_dir(path.parent)
        return digest

    def get(self, digest: str) -> bytes:
        path = self.path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError("upload {digest}... is missing from the blob store", values={"digest": digest[:16]},
                                path=path,
                                hint="Every worker must share SYNTHGUARD_HOME with the service that took the "
                                     "upload; restore the blobs folder from backup.") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise CorruptMediaError("stored upload does not match its hash (disk corruption?)", path=path,
                                    hint="Restore the blobs folder from backup and requeue the job.")
        return data

    def prune(self, older_than_seconds: float, *, keep: frozenset[str] = frozenset()) -> int:
        """Delete blobs not touched for ``older_than_seconds``, except those in ``keep``; returns the count."""
        cutoff = time.time() - older_than_seconds
        n = 0
        for p in self.root.glob("??/*"):
            if _SHA.match(p.name) and p.name not in keep and p.stat().st_mtime < cutoff:
                p.unlink(missing_ok=True)
                n += 1
        return n


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
