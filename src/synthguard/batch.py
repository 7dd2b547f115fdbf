"""Batch scans: a folder, a manifest of paths or a bucket URL -> one JSON line per file with the scan contract.

Engines: ``local`` (a process pool, the default) and ``ray`` (Ray Data: the files are read and scanned by
actors across the cluster, the rows stream back to the driver, which appends them to the output).  Both run
:func:`scan_item`, the same scan code as ``synthguard scan`` (``synthguard.scan.scan``); a file that fails
becomes an error line and the batch goes on.  The output JSONL is the checkpoint: a rerun skips the files
already in it (a line cut short by a crash is dropped and that file scanned again).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from synthguard.errors import InputError, SynthGuardError
from synthguard.i18n import N_
from synthguard.media import Media, write_atomic
from synthguard.sources import read_item, resolve_with_skips

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.scan import Scanner


class ScanHost(Protocol):
    """What a batch needs of a core object (issue 23): the settings (the operator's limits), the scan, and
    ``close`` when this module opened it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def scanner(self) -> Scanner: ...

    def close(self) -> None: ...


# How a process opens its core object from the settings (``synthguard.cli.common.open_core``): given by the caller,
# the composition root, so this module does not import ``core`` (issue 23).  Pool workers are spawned, so it is a
# module-level function (picklable); a Ray actor gets it as a constructor argument.
Opener = Callable[[], ScanHost]

VERDICT_KEYS = ("ai_generated", "possibly_ai", "suspected_ai", "none", "error")
MAX_LISTED = 1000  # not-scanned files named in the summary (the count is always complete)
ENGINES = ("local", "ray")
_SG: Any = None  # one core object per worker process


# --- one file ------------------------------------------------------------------------------------------
def scan_item(sg: ScanHost, item: str, declared_ai: bool = False) -> dict[str, Any]:
    """One JSON line: ``{"file", ...the scan contract}`` or ``{"file", "verdict": null, "error"}``."""
    try:
        st = sg.settings
        media = Media.from_bytes(read_item(item, st.max_bytes), item, max_bytes=st.max_bytes,
                                 max_pixels=st.max_pixels)
        return {"file": item, **sg.scanner.scan(media, declared_ai=declared_ai, cached=False, log=False).to_dict()}
    except SynthGuardError as exc:
        return {"file": item, "verdict": None, "error": exc.to_dict()}
    except Exception as exc:  # a decoder bug on one file must not stop the batch; it is recorded
        return {"file": item, "verdict": None, "error": {"error": type(exc).__name__, "message": str(exc),
                                                         "path": item, "hint": "report this file as a bug"}}


_INIT_ERROR: dict[str, Any] | None = None


def _worker_init(opener: Opener) -> None:
    """Open the core object once per worker; a failure is kept and reported per file, never a broken pool."""
    global _SG, _INIT_ERROR
    try:
        _SG = opener()
    except SynthGuardError as exc:
        _INIT_ERROR = exc.to_dict()
    except Exception as exc:  # noqa: BLE001 - any start-up failure becomes an error row per file
        _INIT_ERROR = {"error": type(exc).__name__, "message": str(exc), "hint": "report this as a bug"}


def _scan_job(args: tuple[str, bool]) -> dict[str, Any]:
    if _SG is None:
        return {"file": args[0], "verdict": None, "error": _INIT_ERROR or {"error": "StoreError",
                                                                           "message": "worker did not start"}}
    return scan_item(_SG, *args)


def _died(item: str) -> dict[str, Any]:
    return {"file": item, "verdict": None,
            "error": {"error": "WorkerDied", "message": "the worker process died while scanning this file",
                      "path": item, "hint": "report this file as a bug (a decoder crashed on it)"}}


# --- engines -------------------------------------------------------------------------------------------
def _prepare_store(opener: Opener) -> None:
    """Open (and so migrate) the store and check the keys in the parent, before any worker starts (issue 17):
    spawned workers then find the schema current instead of racing to create it."""
    try:
        opener().close()
    except SynthGuardError:
        pass  # each worker reports the same error as a row per file


def _pool(workers: int, opener: Opener) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(opener,),
                               mp_context=multiprocessing.get_context("spawn"))


def scan_many(paths: Iterable[str | os.PathLike[str]], *, workers: int, opener: Opener, declared_ai: bool = False,
              sg: ScanHost | None = None) -> Iterator[dict[str, Any]]:
    """The local engine: a process pool (inline for one worker), one result dict per file, in input order.

    Inline runs use ``sg`` or a core object opened for this call from the current settings (never one left over
    from an earlier call: its database may be another).  Pool workers are *spawned*, not forked: a forked child
    inherits the parent's open database connections, and closing them there breaks the parent's (Postgres).
    A worker that dies (a decoder crash) breaks the pool; the files that were in flight are then rescanned one
    at a time in a fresh pool, so only the file that kills a worker gets an error row and the batch goes on."""
    jobs = [(os.fspath(p), declared_ai) for p in paths]
    if workers <= 1:
        own = sg is None
        core = opener() if sg is None else sg
        try:
            for path, ai in jobs:
                yield scan_item(core, path, ai)
        finally:
            if own:
                core.close()
        return
    _prepare_store(opener)
    done = 0
    while done < len(jobs):
        rows = list(_scan_until_broken(jobs[done:], workers, opener))
        yield from rows
        done += len(rows)
        if done < len(jobs):  # the pool broke at jobs[done]: isolate the in-flight files one by one
            yield from _isolate(jobs[done:done + 2 * workers], opener)
            done = min(len(jobs), done + 2 * workers)


def _scan_until_broken(jobs: list[tuple[str, bool]], workers: int, opener: Opener) -> Iterator[dict[str, Any]]:
    """Results in input order until the pool breaks (then stops; the caller resumes after the last result)."""
    from concurrent.futures.process import BrokenProcessPool

    window = 2 * workers
    with _pool(workers, opener) as pool:
        futures = [pool.submit(_scan_job, j) for j in jobs[:window]]
        nxt = len(futures)
        for i in range(len(jobs)):
            try:
                row = futures[i].result()
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                return
            yield row
            if nxt < len(jobs):
                futures.append(pool.submit(_scan_job, jobs[nxt]))
                nxt += 1


def _isolate(jobs: list[tuple[str, bool]], opener: Opener) -> Iterator[dict[str, Any]]:
    """Scan each file alone in its own one-worker pool: a file whose worker dies is the one to blame."""
    from concurrent.futures.process import BrokenProcessPool

    for job in jobs:
        with _pool(1, opener) as pool:
            try:
                yield pool.submit(_scan_job, job).result()
            except BrokenProcessPool:
                yield _died(job[0])


class _RayScanner:
    """A Ray Data actor: opens the core object once, then scans batches of files (read -> scan -> row)."""

    def __init__(self, declared_ai: bool, opener: Opener):
        self.sg = opener()
        self.declared_ai = declared_ai

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        rows = [json.dumps(scan_item(self.sg, str(i), self.declared_ai), ensure_ascii=False, default=str)
                for i in batch["item"]]
        return {"row": rows}


def scan_ray(items: list[str], *, workers: int, opener: Opener, declared_ai: bool = False,
             address: str | None = None) -> Iterator[dict[str, Any]]:
    """The Ray engine: Ray Data maps ``workers`` scanner actors over the files; rows stream back (any order)."""
    try:
        import ray
    except ImportError:
        raise InputError("the ray engine needs Ray", hint="pip install 'synthguard[ray]', or use --engine local.") \
            from None
    if not items:
        return
    env = {k: v for k, v in os.environ.items() if k.startswith("SYNTHGUARD_")}
    started = not ray.is_initialized()
    if started:
        opts: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                "runtime_env": {"env_vars": env}, "configure_logging": False}
        if address:
            ray.init(address=address, **opts)
        else:
            ray.init(num_cpus=workers, **opts)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        source = ray.data.from_items([{"item": i} for i in items],
                                     override_num_blocks=max(1, min(len(items), workers * 8)))
        ds = source.map_batches(_RayScanner, fn_constructor_args=(declared_ai, opener), batch_size=16, num_cpus=1,
                            compute=ray.data.ActorPoolStrategy(size=workers), batch_format="numpy")
        for batch in ds.iter_batches(batch_size=16, batch_format="numpy"):
            for line in batch["row"]:
                yield json.loads(str(line))
    finally:
        if started:
            ray.shutdown()


# --- the checkpoint and the run ------------------------------------------------------------------------
def done_items(out: Path) -> set[str]:
    """Files already in ``out`` (the checkpoint); a last line cut short by a crash is removed first."""
    if not out.exists():
        return set()
    data = out.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(out, "r+b") as fh:
            fh.truncate(cut)
        data = data[:cut]
    done = set()
    for n, line in enumerate(data.splitlines(), 1):
        try:
            done.add(json.loads(line)["file"])
        except (ValueError, KeyError, TypeError):
            raise InputError("line {n} of the output is not a batch result", values={"n": n}, path=out,
                             hint="Pass a new --out file, or --no-resume to overwrite it.") from None
    return done


def run_batch(source: str | os.PathLike[str], out: str | os.PathLike[str], *, opener: Opener, engine: str = "local",
              workers: int | None = None, declared_ai: bool = False, resume: bool = True,
              address: str | None = None, on_start: Callable[[int, int], None] | None = None,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Scan ``source`` into the JSONL file ``out``; returns the summary (files, skipped, counts per verdict).
    ``opener`` opens a core object in each process that scans (:data:`Opener`)."""
    if engine not in ENGINES:
        raise InputError("unknown engine {engine!r}", values={"engine": engine, "engines": ", ".join(ENGINES)},
                         hint=N_("Use one of: {engines}."))
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError("the output's folder does not exist", path=out, hint="Create it or choose another --out.")
    if out.suffix.lower() == ".parquet":  # the JSONL beside it is the checkpoint; the Parquet file is written last
        summary = run_batch(source, out.with_suffix(".jsonl"), opener=opener, engine=engine, workers=workers,
                            declared_ai=declared_ai, resume=resume, address=address, on_start=on_start, on_row=on_row)
        write_parquet(out.with_suffix(".jsonl"), out)
        return summary | {"out": str(out), "checkpoint": summary["out"]}
    items, not_scanned = resolve_with_skips(source)
    done = done_items(out) if resume else set()
    todo = [i for i in items if i not in done]
    n = workers or os.cpu_count() or 1
    if on_start:
        on_start(len(todo), len(items) - len(todo))
    counts = dict.fromkeys(VERDICT_KEYS, 0)
    rows = scan_ray(todo, workers=n, opener=opener, declared_ai=declared_ai, address=address) if engine == "ray" \
        else scan_many(todo, workers=n, opener=opener, declared_ai=declared_ai)
    with open(out, "a" if resume else "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            fh.flush()  # the checkpoint: a crash loses at most the line being written
            counts["error" if "error" in row else row["verdict"]] += 1
            if on_row:
                on_row(row)
    return {"files": len(items), "scanned": len(todo), "skipped": len(items) - len(todo), "engine": engine,
            "workers": n, "out": str(out), **counts, "not_scanned": len(not_scanned),
            "not_scanned_files": not_scanned[:MAX_LISTED]}


PARQUET_JSON_COLUMNS = ("evidence", "matches", "actions", "fingerprints", "error")


def write_parquet(jsonl: Path, out: Path) -> Path:
    """The JSONL results as a Parquet table: ``file``, ``verdict``, ``label_value``, ``sha256`` as columns, the
    nested parts as JSON strings (one schema for every row, errors included); written atomically."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("Parquet output needs pyarrow", hint="pip install 'synthguard[ray]', or use --out x.jsonl.") \
            from None
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    cols: dict[str, list[Any]] = {k: [r.get(k) for r in rows] for k in ("file", "verdict", "label_value", "sha256")}
    for k in PARQUET_JSON_COLUMNS:
        cols[k] = [None if r.get(k) is None else json.dumps(r[k], ensure_ascii=False, default=str) for r in rows]
    table = pa.table({k: pa.array(v, type=pa.string()) for k, v in cols.items()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return write_atomic(out, sink.getvalue().to_pybytes())
