"""Bounded work for anonymous requests: a child process with memory, CPU and wall-clock limits (issue 18 finding 5).

Byte limits do not bound work: a 193 KB docx inflated to 1.4 GB, a 100 KB 8K video decoded for 21 s, a PNG with
a 10 MB XMP packet parsed for 18 s.  Every parser path cannot be audited for every bomb, so the public routes
(``POST /v1/inspect``, the ``/inspect`` and ``/check`` pages) run their work in a child process forked from a
preloaded server (``forkserver``) under ``RLIMIT_AS`` (memory), ``RLIMIT_CPU`` and a wall-clock deadline after
which the parent kills it.  At most ``public_workers`` children run at once (the others wait up to the wall-clock
budget, then 503), so the memory of the public surface is bounded by ``public_workers x public_memory_mb`` plus
the server itself, whatever is uploaded; a per-client rate limit keeps one address from holding every slot.
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
from collections.abc import Callable
from typing import Any

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import MediaTooLargeError, SynthGuardError
from synthguard.i18n import N_
from synthguard.media import Media

__all__ = ["Sandbox", "WorkBudgetError"]

# imported once in the fork server, so a child starts warm (what an image inspection and check import)
_PRELOAD = ["synthguard.server.sandbox", "synthguard.core", "synthguard.scan", "synthguard.marking.image.metadata",
            "synthguard.marking.image.visible", "synthguard.marking.watermark.image", "synthguard.marking.c2pa",
            "synthguard.detection.registry", "synthguard.fingerprint.pdq", "synthguard.moderation.policy",
            "numpy", "scipy.ndimage", "cv2", "PIL.Image", "c2pa", "alembic", "sqlalchemy"]


class WorkBudgetError(MediaTooLargeError, hint=N_("Public checks are limited in memory and time; a provider or "
                                                 "platform account can process larger files.")):
    """The upload needs more memory or time than an anonymous request may use."""


class BusyError(SynthGuardError, exit_code=7, http_status=503, hint=N_("Try again in a minute.")):
    """Every public worker is busy."""


def _vm_size() -> int:
    """Current virtual size of this process, bytes (RLIMIT_AS counts against it)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child(conn: Any, settings: dict[str, Any], job: str, data: bytes, name: str, memory: int, cpu: int) -> None:
    """Runs in the sandbox: set the limits, do the one job, send ("ok", result) or ("error", exception)."""
    try:
        limit = _vm_size() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        sg = SynthGuard(Settings(**settings))
        media = Media.from_bytes(data, name, max_bytes=sg.settings.max_bytes, max_pixels=sg.settings.max_pixels)
        result = JOBS[job](sg, media)
        conn.send(("ok", result))
    except MemoryError:
        conn.send(("memory", None))
    except SynthGuardError as exc:
        try:
            conn.send(("error", exc))
        except Exception:  # noqa: BLE001 - an error class that does not pickle: its message still goes back
            conn.send(("crash", exc.message[:300]))
    except Exception as exc:  # noqa: BLE001 - any parser failure on hostile input is the input's fault
        conn.send(("crash", f"{type(exc).__name__}: {exc}"[:300]))
    finally:
        conn.close()


def _inspect(sg: Any, media: Any) -> dict[str, Any]:
    return sg.inspector.inspect(media)


def _check(sg: Any, media: Any) -> dict[str, Any]:
    return sg.scanner.scan(media, log=False).to_dict()


JOBS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {"inspect": _inspect, "check": _check}


class Sandbox:
    """Runs public jobs in limited child processes; ``run`` blocks the calling (worker) thread only."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.workers = settings.public_workers
        self.memory = settings.public_memory_mb << 20
        self.seconds = settings.public_seconds
        self._slots = threading.BoundedSemaphore(self.workers)
        self._ctx: Any = None
        self._ctx_lock = threading.Lock()
        # the child gets the public video/audio budget, not the operator's (4 h of video is not for anonymous)
        self._child_settings = settings.model_dump() | {
            "max_video_seconds": min(settings.max_video_seconds, settings.public_media_seconds),
            "max_audio_seconds": min(settings.max_audio_seconds, settings.public_media_seconds)}

    def _context(self) -> Any:
        with self._ctx_lock:
            if self._ctx is None:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(_PRELOAD)
                self._ctx = ctx
            return self._ctx

    def run(self, job: str, data: bytes, name: str) -> dict[str, Any]:
        """The job's result, its SynthGuardError, WorkBudgetError over the limits, BusyError (503) when every
        worker stayed busy for ``public_seconds``; a request thus holds a server thread at most twice that."""
        if not self._slots.acquire(timeout=self.seconds):
            raise BusyError("every public worker is busy ({n} at once)", values={"n": self.workers})
        try:
            return self._run(job, data, name, float(self.seconds))
        finally:
            self._slots.release()

    def _run(self, job: str, data: bytes, name: str, seconds: float) -> dict[str, Any]:
        ctx = self._context()
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(child, self._child_settings, job, data, name, self.memory,
                                                max(1, int(seconds))), daemon=True)
        proc.start()
        child.close()
        try:
            if not parent.poll(seconds):
                raise WorkBudgetError("the file needs more than {s} s of work; public checks stop there",
                                      values={"s": self.seconds})
            kind, value = parent.recv()
        except EOFError:  # killed by RLIMIT_CPU or the kernel
            raise WorkBudgetError("the file needs more than {s} s of CPU or {mb} MB of memory; public checks stop "
                                  "there", values={"s": self.seconds, "mb": self.memory >> 20}) from None
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join(5)
            parent.close()
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "error":
            raise value
        if kind == "memory":
            raise WorkBudgetError("the file needs more than {mb} MB of memory to read; public checks stop there",
                                  values={"mb": self.memory >> 20})
        raise WorkBudgetError("the file could not be read within the public limits ({detail})",
                              values={"detail": value})
