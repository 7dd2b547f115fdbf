"""An exclusive lock between processes on one machine: ``flock`` on a 0600 lock file (issue 17, issue 19).

Used where a check and a write must not interleave across processes: the first migration of a new SQLite
database, and a witness's compare-and-store of the last cosigned checkpoint.  Without ``fcntl`` (Windows) it does
nothing: a single process is the only supported case there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(os.fspath(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
