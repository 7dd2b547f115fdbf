"""Workers: claim a job, run its handler, complete or fail it; and a supervisor for N worker processes.

A worker survives a database restart: store errors pause it with a backoff and it claims again; a job it was
running when the database went away is either committed (the completion went through) or re-leased after the
visibility timeout — the lease token makes sure it completes once.  SIGTERM finishes the current job, then stops.
A worker holds the :class:`~synthguard.jobs.context.JobContext` its ``Jobs`` service built, never the core object
(issue 23); a worker process opens its own with the opener its caller passes (``SynthGuard.open``).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from synthguard.errors import StoreError, SynthGuardError
from synthguard.jobs.context import JobContext
from synthguard.jobs.deep import sweep
from synthguard.jobs.kinds import HANDLERS, Handler
from synthguard.jobs.queue import NOTIFY_CHANNEL, LeaseLostError

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.jobs import Jobs

log = logging.getLogger("synthguard.worker")
MAX_PAUSE = 5.0
SWEEP_EVERY = 20  # idle polls between two sweeps for undelivered deep-scan uploads


def worker_name(index: int = 0) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class Wakeup:
    """An idle worker's wait: returns when a job is enqueued (Postgres ``LISTEN``, on its own autocommit
    connection) or after ``timeout`` (the poll, which still finds retries whose backoff ended); a plain wait on
    SQLite or while the listening connection is down.  Without it a job waits up to a whole poll for pickup.

    ``url``: the store's SQLAlchemy URL (only a Postgres one is listened on).  ``idle`` is set while the worker
    waits, once it listens: an enqueue from then on wakes it (what a test waits for instead of sleeping)."""

    def __init__(self, url: Any, stop: threading.Event, idle: threading.Event | None = None):
        self.url = url if url is not None and url.get_backend_name() == "postgresql" else None
        self.stop = stop
        self.idle = idle or threading.Event()
        self.conn: Any = None

    def wait(self, timeout: float) -> None:
        try:
            self._wait(timeout)
        finally:
            self.idle.clear()

    def _wait(self, timeout: float) -> None:
        if self.url is None or self.stop.is_set():
            self.idle.set()
            self.stop.wait(timeout)
            return
        try:
            if self.conn is None:
                import psycopg

                url = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self.conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
                self.conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.idle.set()
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                pass
        except Exception as exc:  # the database is away: poll instead; reconnect at the next wait
            log.debug("job notifications unavailable (%s); polling", exc)
            self.close()
            self.idle.set()
            self.stop.wait(timeout)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # pragma: no cover - closing a broken connection
                pass
            self.conn = None


@dataclass
class Worker:
    """Runs the jobs of ``ctx.queue`` with ``handlers`` (by job kind); ``idle`` is set while it waits for work."""

    ctx: JobContext
    name: str = field(default_factory=worker_name)
    handlers: dict[str, Handler] = field(default_factory=lambda: dict(HANDLERS))
    poll: float = 0.5
    stop: threading.Event = field(default_factory=threading.Event)
    idle: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    failed: int = 0

    def run_one(self) -> str | None:
        """Claim and run one job; its id, or None when nothing is runnable now."""
        q = self.ctx.queue
        lease = q.claim(self.name)
        if lease is None:
            return None
        handler = self.handlers.get(lease.kind)
        try:
            if handler is None:
                raise SynthGuardError("no handler for job kind {kind!r}", values={"kind": lease.kind},
                                      hint="Upgrade the workers to the version that enqueued the job.")
            handler(self.ctx, lease)
            self.done += 1
        except LeaseLostError:
            log.warning("job %s: lease lost to another worker; result discarded", lease.id)
        except StoreError as exc:  # the database went away mid-job: retry after a backoff if it is back already,
            try:                   # else the lease expires and the job is claimed again; the loop pauses either way
                q.fail(lease, exc.to_dict(), retry=True)
            except StoreError:
                pass
            raise
        except SynthGuardError as exc:  # input errors (4xx) are permanent; server-side ones are retried
            self.failed += 1
            q.fail(lease, exc.to_dict(), retry=exc.http_status >= 500)
        except Exception as exc:  # a bug in a handler: retried, then the dead letter keeps the job for a human
            self.failed += 1
            log.exception("job %s crashed", lease.id)
            q.fail(lease, {"error": type(exc).__name__, "message": str(exc)[:2000], "path": None,
                           "hint": "A bug in the job handler; the job is retried, then kept in the dead letter."},
                   retry=True)
        return lease.id

    def run(self, *, burst: bool = False, max_jobs: int | None = None) -> int:
        """Loop until stopped (or, in burst mode, until no job is queued or running); returns jobs handled."""
        wakeup = Wakeup(self.ctx.database, self.stop, self.idle)
        try:
            return self._loop(wakeup, burst, max_jobs)
        finally:
            wakeup.close()

    def _loop(self, wakeup: Wakeup, burst: bool, max_jobs: int | None) -> int:
        handled, pause, idle = 0, 0.0, 0
        while not self.stop.is_set() and (max_jobs is None or handled < max_jobs):
            try:
                job = self.run_one()
                pause = 0.0
                if job is not None:
                    handled += 1
                    continue
                idle += 1
                if idle % SWEEP_EVERY == 1 or burst:  # deep-scan uploads a lost worker left (jobs/deep.py)
                    sweep(self.ctx)
                if burst and self.ctx.queue.pending() == 0:
                    break
                wakeup.wait(self.poll)
            except StoreError as exc:
                pause = min(MAX_PAUSE, max(0.2, pause * 2))
                log.warning("database unavailable (%s); retrying in %.1f s", exc.message.splitlines()[0], pause)
                self.stop.wait(pause)
        return handled


class JobsHost(Protocol):
    """What a worker process opens: an object with the ``jobs`` service (the core object its caller composes)."""

    @property
    def jobs(self) -> Jobs: ...

    def close(self) -> None: ...


def _child(open_core: Callable[[Settings], JobsHost], settings: Settings, index: int, burst: bool) -> None:
    sg = open_core(settings)
    worker = sg.jobs.worker(name=worker_name(index))
    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stop.set())
    try:
        worker.run(burst=burst)
    finally:
        sg.close()


def run_pool(settings: Settings, concurrency: int, *, open_core: Callable[[Settings], JobsHost],
             burst: bool = False, on_event: Callable[[str, dict[str, Any]], None] | None = None) -> dict[str, int]:
    """Run ``concurrency`` worker processes and restart any that dies abnormally (e.g. SIGKILL or OOM).

    ``open_core`` (``SynthGuard.open``, passed in by the caller, which composes the application) opens each
    child's own core object; the child runs a worker of its ``jobs``.

    Returns when every worker exited cleanly (burst mode: the queue drained) or on SIGTERM/SIGINT."""
    ctx = mp.get_context("fork")  # children open their own engine: nothing database-related is inherited
    stopping = threading.Event()
    notify = on_event or (lambda *_: None)

    def spawn(i: int) -> Any:
        proc = ctx.Process(target=_child, args=(open_core, settings, i, burst), name=f"synthguard-worker-{i}",
                           daemon=False)
        proc.start()
        notify("start", {"worker": i, "pid": proc.pid})
        return proc

    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for s in old:
        signal.signal(s, lambda *_: stopping.set())
    procs = {i: spawn(i) for i in range(concurrency)}
    restarts = 0
    try:
        while procs:
            if stopping.is_set():
                for p in procs.values():
                    p.terminate()
                for p in procs.values():
                    p.join(timeout=60)
                break
            for i, p in list(procs.items()):
                if p.is_alive():
                    continue
                p.join()
                if p.exitcode == 0:
                    del procs[i]
                    continue
                notify("restart", {"worker": i, "pid": p.pid, "exitcode": p.exitcode})
                restarts += 1
                time.sleep(0.2)
                procs[i] = spawn(i)
            stopping.wait(0.2)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return {"workers": concurrency, "restarts": restarts}
