"""What the job kinds, the deep scan and the workers are given (issue 23): narrow dependencies, not the core.

The composition root (``SynthGuard.jobs``) hands :class:`synthguard.jobs.Jobs` the settings, the units of work,
the ledger and the few services a job runs (the scanner, the label journey, the moderation update of a deep
scan); ``Jobs`` adds the queue, the blob store and the deep-job memory it owns and passes this one frozen
:class:`JobContext` to every handler.  A worker process gets its context the same way: its opener
(``SynthGuard.open``, passed in by the CLI) composes a core, whose ``jobs`` builds it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthguard.jobs.blobs import BlobStore
from synthguard.jobs.queue import Queue
from synthguard.ledger.log import Ledger
from synthguard.store.protocols import Units

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.labeling import LabelResult
    from synthguard.scan import Scanner
    from synthguard.scan_cache import ScanCache


class DeepJobs:
    """Which job each content's deep scan is, in this process: ``(tenant, key) -> job``, so a repeat upload
    attaches to it without the idempotency lookup (issue 28).  A job's id, kind and payload never change (jobs
    are never deleted), so a remembered job never goes stale; the oldest are forgotten past ``entries``."""

    def __init__(self, entries: int = 10_000):
        self.entries = entries
        self._jobs: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        return self._jobs.get(key)

    def remember(self, key: tuple[str, str], job: dict[str, Any]) -> None:
        with self._lock:
            self._jobs[key] = {"id": job["id"], "kind": job["kind"], "tenant": job["tenant"]}
            self._jobs.move_to_end(key)
            while len(self._jobs) > self.entries:
                self._jobs.popitem(last=False)

    def __len__(self) -> int:
        return len(self._jobs)


@dataclass(frozen=True)
class JobContext:
    """Everything a job handler may use.  Getters (``settings``, ``scanner``, ``scan_cache``, the keys) are read
    when a job runs, so a service the core builds lazily is only built by the jobs that need it.

    ``database``: the store's SQLAlchemy URL, for what depends on the backend (SQLite runs jobs inline; an idle
    worker on Postgres waits on ``LISTEN``)."""

    settings: Callable[[], Settings]
    units: Units
    database: Any
    ledger: Ledger
    queue: Queue
    blobs: BlobStore
    deep_jobs: DeepJobs
    scanner: Callable[[], Scanner]
    scan_cache: Callable[[], ScanCache | None]
    label: Callable[..., LabelResult]
    rescanned: Callable[[str, str, Any], Any]  # moderation: a deep scan's result for registered content
    private_key: Callable[[], Any]  # the ledger's signing key (checkpoint jobs)
    public_key: Callable[[], Any]
    verify_ledger: Callable[[], dict[str, Any]]

    @property
    def backend(self) -> str:
        """``sqlite``, ``postgresql``, ...: the store's backend name."""
        return str(self.database.get_backend_name())

    def limits(self) -> dict[str, int]:
        """The operator's media limits, for the Media a job builds from stored bytes."""
        st = self.settings()
        return {"max_bytes": st.max_bytes, "max_pixels": st.max_pixels}


__all__ = ["DeepJobs", "JobContext"]
