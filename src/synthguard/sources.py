"""Where batch and object-store scans read files: local folders, manifests and bucket URLs (via pyarrow.fs).

Below the scanners: :mod:`synthguard.batch` (batch scans) and :mod:`synthguard.jobs.objects` (scan-on-upload
hooks) both read through here, so neither imports the other.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from synthguard.errors import InputError, MediaTooLargeError

# every file kind the scanner reads: images, audio, video, text and office documents (issue 20: audio and text
# were silently left out); anything else in a folder is reported as not scanned, with the reason
SCANNABLE = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".wav", ".mp3", ".flac", ".ogg",
             ".m4a", ".mp4", ".webm", ".mov", ".mkv", ".txt", ".md", ".markdown", ".docx", ".xlsx", ".pptx"}


def is_uri(source: str) -> bool:
    return "://" in source and not Path(source).exists()


def resolve_source(source: str | os.PathLike[str]) -> list[str]:
    """The files to scan: a folder (recursively, every scannable suffix), a manifest (one path per line, ``#``
    comments, relative to the manifest's folder) or a bucket URL such as ``s3://bucket/prefix`` (via pyarrow.fs)."""
    return resolve_with_skips(source)[0]


def resolve_with_skips(source: str | os.PathLike[str]) -> tuple[list[str], list[dict[str, str]]]:
    """(files to scan, [{"file", "reason"}] of the files in a folder that are not scanned)."""
    s = os.fspath(source)
    if is_uri(s):
        return list_uri(s, SCANNABLE), []
    p = Path(s)
    if p.is_dir():
        files = [f for f in sorted(p.rglob("*")) if f.is_file()]
        skipped = [{"file": str(f), "reason": f"unsupported file type {f.suffix.lower() or '(no suffix)'!r}; "
                    "the scanner reads images, audio, video, text and office documents"}
                   for f in files if f.suffix.lower() not in SCANNABLE]
        return [str(f) for f in files if f.suffix.lower() in SCANNABLE], skipped
    if p.is_file():
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise InputError("the manifest is not UTF-8 text", path=p,
                             hint="Pass a folder, or a text file with one image path per line.") from None
        items = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        return [i if is_uri(i) or Path(i).is_absolute() else str(p.parent / i) for i in items], []
    raise InputError("no such file or directory", path=p, hint="Pass a folder, a manifest file or a bucket URL.")


def filesystem(uri: str) -> tuple[Any, str]:
    try:
        from pyarrow import fs
    except ImportError:
        raise InputError("bucket URLs need pyarrow", hint="pip install 'synthguard[ray]'") from None
    try:
        return fs.FileSystem.from_uri(uri)
    except (ValueError, OSError) as exc:
        raise InputError("cannot open {uri}: {exc}", values={"uri": uri, "exc": exc},
                         hint="Check the URL, credentials and endpoint (s3://bucket/prefix?endpoint_override="
                              "host:port for S3-compatible stores).") from None


def list_uri(uri: str, suffixes: Iterable[str]) -> list[str]:
    filesystem_, root = filesystem(uri)  # first: a clear error when pyarrow is missing
    from pyarrow import fs as pafs

    scheme = uri.split("://", 1)[0]
    query = "?" + uri.split("?", 1)[1] if "?" in uri else ""
    try:
        infos = filesystem_.get_file_info(pafs.FileSelector(root, recursive=True))
    except (OSError, FileNotFoundError) as exc:
        raise InputError("cannot list {uri}: {exc}", values={"uri": uri, "exc": exc},
                         hint="Check the bucket, prefix and credentials.") from None
    keep = tuple(suffixes)
    return sorted(f"{scheme}://{i.path}{query}" for i in infos
                  if i.type == pafs.FileType.File and i.path.lower().endswith(keep))


def read_item(item: str, max_bytes: int) -> bytes:
    """A file's bytes from disk or a bucket, never more than ``max_bytes``."""
    if is_uri(item):
        fs_, path = filesystem(item)
        with fs_.open_input_stream(path) as fh:
            data = fh.read(max_bytes + 1)
    else:
        p = Path(item)
        if not p.is_file():
            raise InputError("no such file", path=p, hint="Check the manifest's paths.")
        with open(p, "rb") as fh:
            data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise MediaTooLargeError("file is over the limit of {max_bytes:,} bytes", values={"max_bytes": max_bytes},
                                 path=item)
    return data


__all__ = ["SCANNABLE", "filesystem", "is_uri", "list_uri", "read_item", "resolve_source", "resolve_with_skips"]
