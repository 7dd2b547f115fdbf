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
from typing import TYPE_CHECKING, Any

from synthguard.errors import InputError, SynthGuardError

if TYPE_CHECKING:
    from synthguard.core import SynthGuard

VERDICT_KEYS = ("ai_generated", "possibly_ai", "suspected_ai", "none", "error")
ENGINES = ("local", "ray")
_SG: Any = None  # one core object per worker process


# --- sources -----------------------------------------------------------------------------------------
def is_uri(source: str) -> bool:
    return "://" in source and not Path(source).exists()


def resolve_source(source: str | os.PathLike[str]) -> list[str]:
    """The files to scan: a folder (recursively, image suffixes), a manifest (one path per line, ``#`` comments,
    relative to the manifest's folder) or a bucket URL such as ``s3://bucket/prefix`` (via pyarrow.fs)."""
    from synthguard.detection.evaluate import IMAGE_SUFFIXES

    s = os.fspath(source)
    if is_uri(s):
        return _list_uri(s, IMAGE_SUFFIXES)
    p = Path(s)
    if p.is_dir():
        return [str(f) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    if p.is_file():
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise InputError("the manifest is not UTF-8 text", path=p,
                             hint="Pass a folder, or a text file with one image path per line.") from None
        items = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        return [i if is_uri(i) or Path(i).is_absolute() else str(p.parent / i) for i in items]
    raise InputError("no such file or directory", path=p, hint="Pass a folder, a manifest file or a bucket URL.")


def unscanned(source: str | os.PathLike[str]) -> list[str]:
    """Files in a source folder the batch does not scan (no image suffix): reported, never dropped silently."""
    from synthguard.detection.evaluate import IMAGE_SUFFIXES

    p = Path(os.fspath(source))
    if is_uri(os.fspath(source)) or not p.is_dir():
        return []
    return [str(f) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() not in IMAGE_SUFFIXES]


def _filesystem(uri: str) -> tuple[Any, str]:
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


def _list_uri(uri: str, suffixes: Iterable[str]) -> list[str]:
    filesystem, root = _filesystem(uri)  # first: a clear error when pyarrow is missing
    from pyarrow import fs as pafs

    scheme = uri.split("://", 1)[0]
    query = "?" + uri.split("?", 1)[1] if "?" in uri else ""
    try:
        infos = filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    except (OSError, FileNotFoundError) as exc:
        raise InputError("cannot list {uri}: {exc}", values={"uri": uri, "exc": exc},
                         hint="Check the bucket, prefix and credentials.") from None
    keep = tuple(suffixes)
    return sorted(f"{scheme}://{i.path}{query}" for i in infos
                  if i.type == pafs.FileType.File and i.path.lower().endswith(keep))


def read_item(item: str, max_bytes: int) -> bytes:
    """A file's bytes from disk or a bucket, never more than ``max_bytes``."""
    from synthguard.errors import MediaTooLargeError

    if is_uri(item):
        filesystem, path = _filesystem(item)
        with filesystem.open_input_stream(path) as fh:
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


# --- one file ------------------------------------------------------------------------------------------
def scan_item(sg: SynthGuard, item: str, declared_ai: bool = False) -> dict[str, Any]:
    """One JSON line: ``{"file", ...the scan contract}`` or ``{"file", "verdict": null, "error"}``."""
    from synthguard.media import Media
    from synthguard.scan import scan

    try:
        st = sg.settings
        media = Media.from_bytes(read_item(item, st.max_bytes), item, max_bytes=st.max_bytes,
                                 max_pixels=st.max_pixels)
        return {"file": item, **scan(sg, media, declared_ai=declared_ai).to_dict()}
    except SynthGuardError as exc:
        return {"file": item, "verdict": None, "error": exc.to_dict()}
    except Exception as exc:  # a decoder bug on one file must not stop the batch; it is recorded
        return {"file": item, "verdict": None, "error": {"error": type(exc).__name__, "message": str(exc),
                                                         "path": item, "hint": "report this file as a bug"}}


def _open() -> SynthGuard:
    from synthguard.config import Settings
    from synthguard.core import SynthGuard

    return SynthGuard.open(Settings.load())


def _worker_init() -> None:
    global _SG
    _SG = _open()


def _scan_job(args: tuple[str, bool]) -> dict[str, Any]:
    return scan_item(_SG, *args)


# --- engines -------------------------------------------------------------------------------------------
def scan_many(paths: Iterable[str | os.PathLike[str]], *, workers: int, declared_ai: bool = False,
              sg: SynthGuard | None = None) -> Iterator[dict[str, Any]]:
    """The local engine: a process pool (inline for one worker), one result dict per file, in input order.

    Inline runs use ``sg`` or a core object opened for this call from the current settings (never one left over
    from an earlier call: its database may be another).  Pool workers are *spawned*, not forked: a forked child
    inherits the parent's open database connections, and closing them there breaks the parent's (Postgres)."""
    jobs = [(os.fspath(p), declared_ai) for p in paths]
    if workers <= 1:
        own = sg is None
        core = _open() if sg is None else sg
        try:
            for path, ai in jobs:
                yield scan_item(core, path, ai)
        finally:
            if own:
                core.close()
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(_scan_job, jobs, chunksize=max(1, min(16, len(jobs) // (workers * 4) or 1)))


class _RayScanner:
    """A Ray Data actor: opens the core object once, then scans batches of files (read -> scan -> row)."""

    def __init__(self, declared_ai: bool):
        self.sg = _open()
        self.declared_ai = declared_ai

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        rows = [json.dumps(scan_item(self.sg, str(i), self.declared_ai), ensure_ascii=False, default=str)
                for i in batch["item"]]
        return {"row": rows}


def scan_ray(items: list[str], *, workers: int, declared_ai: bool = False, address: str | None = None
             ) -> Iterator[dict[str, Any]]:
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
        ds = source.map_batches(_RayScanner, fn_constructor_args=(declared_ai,), batch_size=16, num_cpus=1,
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


def run_batch(source: str | os.PathLike[str], out: str | os.PathLike[str], *, engine: str = "local",
              workers: int | None = None, declared_ai: bool = False, resume: bool = True,
              address: str | None = None, on_start: Callable[[int, int], None] | None = None,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Scan ``source`` into the JSONL file ``out``; returns the summary (files, skipped, counts per verdict)."""
    if engine not in ENGINES:
        raise InputError("unknown engine {engine!r}", values={"engine": engine},
                         hint=f"Use one of: {', '.join(ENGINES)}.")
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError("the output's folder does not exist", path=out, hint="Create it or choose another --out.")
    if out.suffix.lower() == ".parquet":  # the JSONL beside it is the checkpoint; the Parquet file is written last
        summary = run_batch(source, out.with_suffix(".jsonl"), engine=engine, workers=workers,
                            declared_ai=declared_ai, resume=resume, address=address, on_start=on_start, on_row=on_row)
        write_parquet(out.with_suffix(".jsonl"), out)
        return summary | {"out": str(out), "checkpoint": summary["out"]}
    items = resolve_source(source)
    done = done_items(out) if resume else set()
    todo = [i for i in items if i not in done]
    n = workers or os.cpu_count() or 1
    if on_start:
        on_start(len(todo), len(items) - len(todo))
    counts = dict.fromkeys(VERDICT_KEYS, 0)
    rows = scan_ray(todo, workers=n, declared_ai=declared_ai, address=address) if engine == "ray" else \
        scan_many(todo, workers=n, declared_ai=declared_ai)
    with open(out, "a" if resume else "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            fh.flush()  # the checkpoint: a crash loses at most the line being written
            counts["error" if "error" in row else row["verdict"]] += 1
            if on_row:
                on_row(row)
    ignored = unscanned(source)
    return {"files": len(items), "scanned": len(todo), "skipped": len(items) - len(todo), "engine": engine,
            "workers": n, "out": str(out), **counts, "ignored": len(ignored), "ignored_files": ignored[:100]}


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
    from synthguard.media import write_atomic

    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    cols: dict[str, list[Any]] = {k: [r.get(k) for r in rows] for k in ("file", "verdict", "label_value", "sha256")}
    for k in PARQUET_JSON_COLUMNS:
        cols[k] = [None if r.get(k) is None else json.dumps(r[k], ensure_ascii=False, default=str) for r in rows]
    table = pa.table({k: pa.array(v, type=pa.string()) for k, v in cols.items()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return write_atomic(out, sink.getvalue().to_pybytes())
