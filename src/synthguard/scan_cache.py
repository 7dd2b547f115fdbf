"""The verdict cache: identical bytes are analysed once (issue 28: repeats are the normal case).

Real upload traffic is dominated by repeats (a meme uploaded thousands of times, often at the same moment).
The expensive half of a scan -- decoding, reading every mark, the watermark search, detectors, fingerprints
(:class:`~synthguard.scan.Analysis`) -- depends only on the bytes and on how the service is configured, so it
is cached under a key over:

- the content's SHA-256 and the watermark search it ran (a ``full`` analysis also serves ``priors`` scans);
- the settings (every field: limits, trust anchors, profile ...), the content of the key files under
  ``<home>/keys`` and of every file a setting names (C2PA trust anchors, detector manifests);
- the detectors: each one's name, class, version or model manifest, and the version of the package shipping it.

A new detector, a model update, a key rotation or any settings change makes a new key: the old entries are
never read again and age out (``scan_cache_days``).  Bank matches (DS-09), the uploader's declaration (LM-14),
policy actions, propagator fields (LM-17) and the ledger entry (DS-10) are NOT cached: each upload gets its own
from :func:`~synthguard.scan.finish`, so a hash added to a bank a second ago already blocks the next upload.

Two levels: a bounded in-memory LRU per process, then the ``scan_cache`` table every process shares.  Within a
process, concurrent misses for one key wait for the first (single flight), so a viral burst is scanned once
per process, not once per request.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthguard.batch import ScanHost  # what a scan_processes child opens: the settings and the scan
from synthguard.detection import Detection, Detector
from synthguard.errors import StoreError
from synthguard.media import Media, Modality
from synthguard.scan import Analysis
from synthguard.store.scan_tables import is_duplicate
from synthguard.trust.anchors import ANCHORS_FILE
from synthguard.trust.trustlist import CREDENTIALS_FILE, LIST_FILE

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.store.protocols import Units

PRUNE_EVERY = 256  # stores between two deletions of expired entries
KEY_FILE_LIMIT = 1 << 20
# settings that do not change what a scan reads: the search is a key part of its own (a full analysis serves a
# priors scan), the cache's own knobs, and where jobs run
NOT_IN_KEY = {"scan_watermark_search", "scan_cache", "scan_cache_entries", "scan_cache_days", "scan_processes",
              "scan_process_nice", "jobs_inline",
              "job_lease_seconds", "job_max_attempts", "job_backoff_seconds", "rate_limit_per_minute",
              "rate_limit_burst", "rate_limit_shared"}


class ScanCache:
    """``analysis(media, search)``: a cached :class:`Analysis` or a fresh one, stored for the next upload.

    Built from narrow dependencies (issue 23): the settings (a getter), a unit-of-work factory (stores, prunes,
    forgets), ``cached`` (the table's one-key read on a light connection: the repeat path, issue 28), a modality's
    detectors (part of the key), ``analyse`` (a miss), the package version and ``opener``, which opens the scan in
    a child process (``scan_processes``; pickled by reference)."""

    def __init__(self, *, settings: Callable[[], Settings], units: Units,
                 cached: Callable[[str], dict[str, Any] | None],
                 detectors: Callable[[Modality], tuple[list[Detector], list[Detector]]],
                 analyse: Callable[[Media, str | None], Analysis], version: Callable[[], str],
                 opener: Callable[[Settings], ScanHost]):
        self.settings, self.units, self.cached, self.detectors = settings, units, cached, detectors
        self.analyse, self.version, self.opener = analyse, version, opener
        self.entries = settings().scan_cache_entries
        self._mem: OrderedDict[str, Analysis] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[str, threading.Lock] = {}
        self._stored = 0
        self._pool: Any = None
        self.hits = self.misses = 0

    # --- keys ----------------------------------------------------------------------------------------
    @cached_property
    def _context(self) -> str:
        """Settings and key material: any change to either is a different scan configuration."""
        settings = self.settings()
        fields = settings.model_dump(mode="json", exclude=NOT_IN_KEY)
        h = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
        keys = settings.keys_dir
        files = sorted(keys.iterdir()) if keys.is_dir() else []
        for value in vars(settings).values():  # trust anchors, detector manifests: their content counts
            files += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, Path)]
        for p in files:
            if p.is_file() and p.stat().st_size <= KEY_FILE_LIMIT:
                h.update(str(p).encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
        h.update(self.version().encode())
        return h.hexdigest()

    def detectors_version(self, modality: Modality) -> str:
        """A digest over the detectors a scan of ``modality`` runs (names, classes, versions, model manifests)."""
        cache = self.__dict__.setdefault("_det_versions", {})
        if modality not in cache:
            marks, ml = self.detectors(modality)
            parts = [json.dumps([d.name, f"{type(d).__module__}.{type(d).__qualname__}",
                                 str(getattr(d, "version", "")), repr(getattr(d, "manifest", "")),
                                 _dist_version(type(d).__module__)]) for d in [*marks, *ml]]
            cache[modality] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return str(cache[modality])

    def _trust_digest(self) -> str:
        """The trust list and the C2PA anchors it adds (issue 19): trusting a provider changes how its manifests
        read ("trusted"), so an analysis made before must not be served after.  Re-read only when a file's
        modification time or size changed."""
        home = self.settings().home
        stamp = []
        for p in (home / LIST_FILE, home / ANCHORS_FILE, home / CREDENTIALS_FILE):  # a new credential resolves more
            try:
                st = p.stat()
                stamp.append((str(p), st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                stamp.append((str(p), 0, -1))
        memo = self.__dict__.get("_trust_memo")
        if memo is None or memo[0] != stamp:
            h = hashlib.sha256()
            for name, _, size in stamp:
                if size >= 0:
                    try:
                        h.update(name.encode() + b"\0" + hashlib.sha256(Path(name).read_bytes()).digest())
                    except FileNotFoundError:
                        pass
            memo = self.__dict__["_trust_memo"] = (stamp, h.hexdigest())
        return str(memo[1])

    def key(self, media: Media, search: str, *, config: str | None = None) -> str:
        """``config``: :meth:`config` of ``media``, when the caller already has it (one upload asks for two keys)."""
        config = self.config(media) if config is None else config
        return hashlib.sha256(f"{media.sha256}|{search}|{config}".encode()).hexdigest()

    def config(self, media: Media) -> str:
        """The key's parts that do not depend on the bytes: modality, settings and keys, detectors, trust."""
        return "|".join((media.modality.value, self._context, self.detectors_version(media.modality),
                         self._trust_digest()))

    # --- lookups -------------------------------------------------------------------------------------
    def analysis(self, media: Media, watermark_search: str | None = None) -> Analysis:
        """The analysis of ``media`` from the cache, else computed (once per process for concurrent misses)."""
        search = _search(self.settings(), media, watermark_search)
        config = self.config(media)
        keys = [self.key(media, s, config=config) for s in (("full", "priors") if search == "priors" else (search,))]
        t0 = time.perf_counter()
        if (found := self._find(keys)) is not None:
            return _hit(found, t0)
        with self._flight(keys[-1]):
            if (found := self._find(keys)) is not None:  # a concurrent request computed it meanwhile
                return _hit(found, t0, shared=True)
            self.misses += 1
            fresh = self._analyse(media, watermark_search)
            self.put(media, fresh)
            return fresh

    def _analyse(self, media: Media, watermark_search: str | None) -> Analysis:
        """In this thread, or in a child process (``scan_processes``): decoding, the watermark search and the
        detectors are CPU-bound Python and numpy; in the server's own process they hold the GIL against every
        cached repeat answered meanwhile."""
        settings = self.settings()
        if settings.scan_processes <= 0:
            return self.analyse(media, watermark_search)
        with self._lock:
            if self._pool is None:
                import multiprocessing as mp
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(settings.scan_processes, mp.get_context("spawn"),
                                                 initializer=_child_open, initargs=(self.opener, settings))
            pool = self._pool
        return pool.submit(_child_analyse, media.data, media.name, watermark_search).result()

    def close(self) -> None:
        """Stop the child processes, if any were started."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def put(self, media: Media, analysis: Analysis) -> str:
        """Keep ``analysis`` of ``media`` (in memory and in the shared table); returns its key."""
        key = self.key(media, analysis.search if media.modality is Modality.IMAGE else "-")
        stored = _jsonable(analysis)
        try:  # insert once: a concurrent insert of the same key by another process is the same value, so it wins
            with self.units() as uow:
                uow.scan_cache.add(key, media.sha256, analysis.search, stored)
        except StoreError as exc:
            if not is_duplicate(exc):
                raise
        self._remember(key, _from_json(stored))
        self._stored += 1
        if self._stored % PRUNE_EVERY == 0:
            with self.units() as uow:
                uow.scan_cache.prune(timedelta(days=self.settings().scan_cache_days))
        return key

    def clear(self) -> int:
        """Forget every cached analysis (this process's memory and the shared table)."""
        with self._lock:
            self._mem.clear()
        with self.units() as uow:
            return int(uow.scan_cache.forget())

    def _find(self, keys: list[str]) -> Analysis | None:
        """The best analysis under ``keys`` (the full search first): this process's memory, then the table.

        A priors analysis found in memory is not the end when it left part of the watermark search to a deep
        scan: that runs in a worker process and stores its full analysis in the table only.  Asking the table again
        (one indexed read, only while the deep scan is pending) lets repeats get the final verdict as soon as it
        exists instead of attaching to a finished deep scan and having it delivered inside the request (6-8 ms)."""
        for i, key in enumerate(keys):
            with self._lock:
                found = self._mem.get(key)
                if found is not None:
                    self._mem.move_to_end(key)
            if found is None:
                continue
            if i and _partial(found) and (better := self._from_table(keys[:i])) is not None:
                return better
            self.hits += 1
            return found
        return self._from_table(keys)

    def _from_table(self, keys: list[str]) -> Analysis | None:
        for key in keys:
            row = self.cached(key)
            if row is not None:
                found = _from_json(row)
                self._remember(key, found)
                self.hits += 1
                return found
        return None

    def _remember(self, key: str, analysis: Analysis) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self._mem[key] = analysis
            self._mem.move_to_end(key)
            while len(self._mem) > self.entries:
                self._mem.popitem(last=False)

    def _flight(self, key: str) -> _Flight:
        with self._lock:
            lock = self._flights.setdefault(key, threading.Lock())
        return _Flight(self, key, lock)


class _Flight:
    """Hold the per-key lock; the last holder removes it, so the table of flights stays small."""

    def __init__(self, cache: ScanCache, key: str, lock: threading.Lock):
        self.cache, self.key, self.lock = cache, key, lock

    def __enter__(self) -> None:
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        with self.cache._lock:
            if self.cache._flights.get(self.key) is self.lock:
                del self.cache._flights[self.key]
        self.lock.release()


_CHILD: list[ScanHost] = []  # the child process's own core object (scan_processes)


def _child_open(open_core: Callable[[Any], ScanHost], settings: Any) -> None:
    """The child's own core object, opened by the parent's class (pickled by reference: no import of core here);
    at ``scan_process_nice`` below the parent's CPU priority."""
    if settings.scan_process_nice:
        os.nice(settings.scan_process_nice)
    _CHILD.append(open_core(settings))


def _child_analyse(data: bytes, name: str, watermark_search: str | None) -> Analysis:
    host = _CHILD[0]
    media = Media.from_bytes(data, name, max_bytes=host.settings.max_bytes, max_pixels=host.settings.max_pixels)
    return host.scanner.analyse(media, watermark_search=watermark_search)


def _search(settings: Settings, media: Media, watermark_search: str | None) -> str:
    if media.modality is not Modality.IMAGE:
        return "-"  # the watermark search geometry is an image setting
    return watermark_search or settings.scan_watermark_search


def _partial(a: Analysis) -> bool:
    """The priors search left part of the watermark search to a deep scan (its result may be in the table)."""
    return any(d.evidence.get("full_search") == "not run" for d in a.evidence)


def _hit(found: Analysis, t0: float, *, shared: bool = False) -> Analysis:
    """A cached analysis; ``shared`` when this request waited for a concurrent one to compute it (a burst)."""
    took = time.perf_counter() - t0
    return dataclasses.replace(found, timings={"cache": took} | ({"shared": took} if shared else {}))


def _jsonable(a: Analysis) -> dict[str, Any]:
    data = {"evidence": [d.to_dict() for d in a.evidence], "fingerprints": a.fingerprints, "pdqs": list(a.pdqs),
            "search": a.search, "timings": a.timings}
    out: dict[str, Any] = json.loads(json.dumps(data, default=str, ensure_ascii=False))
    return out


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return dict(packages_distributions())


def _from_json(d: dict[str, Any]) -> Analysis:
    evidence = tuple(Detection(**(e | {"problems": tuple(e.get("problems") or ())})) for e in d["evidence"])
    return Analysis(evidence, dict(d["fingerprints"]), tuple(d["pdqs"]), str(d["search"]), dict(d["timings"]))


@functools.lru_cache(maxsize=256)
def _dist_version(module: str) -> str:
    """The installed version of the distribution that ships ``module`` (a plugin upgrade is a new detector).

    Once per process: ``packages_distributions()`` reads every installed distribution's file list (~0.2 CPU s), and
    an upgraded plugin's code only runs after a restart anyway."""
    from importlib.metadata import PackageNotFoundError, version

    top = module.split(".", 1)[0]
    for dist in _packages_distributions().get(top, []):
        try:
            return f"{dist}=={version(dist)}"
        except PackageNotFoundError:
            continue
    return top


__all__ = ["ScanCache", "ScanHost"]
