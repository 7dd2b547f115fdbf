"""Reading every label on a file needs settings, keys and markers, never the database.

``SynthGuard.inspect`` delegates here, and so does ``synthguard inspect``, which thereby starts without
SQLAlchemy, Alembic and the migration check (issue 22: a 1080p JPEG inspected in about half a second).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from synthguard.errors import SynthGuardError
from synthguard.keys import Keys
from synthguard.marking.base import Reading
from synthguard.media import Media, Modality
from synthguard.plugins import Plugins
from synthguard.trust.attribution import attribute, summary
from synthguard.trust.trustlist import for_settings

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.marking.base import Marker

# Labeling order per modality: explicit label -> watermark -> metadata -> C2PA (binds the final bytes).
LABEL_ORDERS: dict[Modality, tuple[str, ...]] = {
    Modality.IMAGE: ("image.visible", "image.watermark", "image.metadata", "image.c2pa"),
    Modality.AUDIO: ("audio.notice", "audio.watermark", "audio.metadata"),
    Modality.VIDEO: ("video.visible", "video.watermark", "video.metadata", "video.c2pa"),
    Modality.TEXT: ("text.notice", "text.metadata"),
}


def limited_media(settings: Settings, source: Any) -> Media:
    """``source`` as Media under the operator's limits (bytes, pixels, and for audio/video the duration, which
    bounds decoding memory and time for every journey: label, scan, trace).  A Media built elsewhere (an HTTP
    upload, a queued job's blob) gets the duration limit here if it has none."""
    if isinstance(source, Media):
        media = source
    elif isinstance(source, (bytes, bytearray)):
        media = Media.from_bytes(bytes(source), max_bytes=settings.max_bytes, max_pixels=settings.max_pixels)
    else:
        media = Media.open(source, max_bytes=settings.max_bytes, max_pixels=settings.max_pixels)
    limit = {Modality.AUDIO: settings.max_audio_seconds, Modality.VIDEO: settings.max_video_seconds}.get(media.modality)
    if limit is None or media.max_seconds is not None:
        return media
    return dataclasses.replace(media, max_seconds=limit, _cache={})


def _build(marker: Callable[[str], Marker], name: str) -> Marker | SynthGuardError:
    try:
        return marker(name)
    except SynthGuardError as exc:  # a missing key: this reader reports it, the others still read
        return exc


def _read(made: Marker | SynthGuardError, name: str, media: Media) -> Reading:
    if isinstance(made, SynthGuardError):
        return _failed(name, made)
    try:
        return made.read(media)
    except SynthGuardError as exc:  # a reader must never sink the whole inspection
        return _failed(name, exc)


def _failed(name: str, exc: SynthGuardError) -> Reading:
    return Reading(name, False, {}, None, (f"{name}: {exc.message}",))


def inspect_media(media: Media, marker: Callable[[str], Marker], *, threads: int = 1) -> dict[str, Any]:
    """Every label on ``media``: AIGC metadata, IPTC source type, C2PA, watermark, explicit label.

    One JSON shape for every modality; a mark a modality cannot carry is ``None``.  ``threads`` > 1 reads the
    marks side by side (the watermark search, the visible-label match and C2PA run in native code that releases
    the GIL): one command's wall time on a multi-core machine; a server keeps 1, its requests are its parallelism.
    """
    media.decode()
    names = LABEL_ORDERS[media.modality]
    markers = {name: _build(marker, name) for name in names}  # built here, in order: a registry is not thread-safe
    if threads > 1:
        with ThreadPoolExecutor(min(threads, len(names))) as pool:
            found = list(pool.map(lambda name: _read(markers[name], name, media), names))
    else:
        found = [_read(markers[name], name, media) for name in names]
    readings = {name.split(".", 1)[1]: reading for name, reading in zip(names, found, strict=True)}
    none = Reading("", False)
    meta = readings.get("metadata", none)
    c2 = readings.get("c2pa")
    wm = readings.get("watermark")
    explicit = readings.get("visible") or readings.get("notice") or none
    return {
        "file": media.name, "format": media.format, "modality": media.modality.value, "sha256": media.sha256,
        "size": list(media.size) if media.modality is Modality.IMAGE else None,
        "aigc": meta.data.get("aigc") if meta.found else None,
        "aigc_integrity": meta.data.get("integrity"),
        "aigc_count": meta.data.get("count", 0),
        "digital_source_type": meta.data.get("digital_source_type"),
        "c2pa": None if c2 is None else {
            "present": c2.data.get("present", False), "state": c2.data.get("state", "absent"),
            "assertions": c2.data.get("assertions", []), "content_id": c2.data.get("content_id"),
            "signer": c2.data.get("signer"), "problems": c2.data.get("problems", []),
            **{k: c2.data.get(k) for k in ("issuer", "serial", "producer", "ledger_ref")}},
        "watermark": wm.data if wm is not None and wm.data else None,
        "visible_label": explicit.data | {"found": explicit.found},
        "problems": [p for r in readings.values() for p in r.problems],
    }


def settle_foreign(result: dict[str, Any], settings: Settings, ours: Callable[[str | None, str | None], bool]
                   ) -> dict[str, Any]:
    """Foreign labels against the trust list (issue 19): ReservedCode1 is a MAC only its producer can check
    (GB-12), so a code that fails with our key on a label that is not ours is "unverifiable" here, never
    "invalid"; every foreign claim (AIGC label, C2PA manifest, ledger reference) is attributed to the trusted
    provider it names (name, key fingerprint, where the key came from) or said to be "not verifiable here"
    (``result["attribution"]``).  On our own records a failing code stays "invalid": that is tampering."""
    trust = for_settings(settings)
    aigc = result.get("aigc") or {}
    pid, producer = aigc.get("ProduceID"), aigc.get("ContentProducer")
    if result.get("aigc_integrity") == "invalid" and aigc and not ours(pid, producer):
        entry = trust.for_producer(producer) if isinstance(producer, str) else None
        kept = [p for p in result["problems"] if not p.startswith("ReservedCode1 does not verify")]
        if entry is not None:
            why = (f"ReservedCode1 is the code of trusted provider {entry.name or entry.origin!r} ({producer}; key "
                   f"{entry.fingerprint}, {entry.source}): only its producer's key can check it, so it cannot be "
                   f"verified here; resolve {pid!r} with the provider (`synthguard trust resolve`)")
        else:
            why = (f"ReservedCode1 was not made with this deployment's key and {pid!r} is not one of its records: "
                   "another provider's label cannot be verified here (resolve it with the producer: "
                   "`synthguard trust resolve`)")
        result["aigc_integrity"], result["problems"] = "unverifiable", [*kept, why]
    result["attribution"] = [summary(c) for c in attribute(result, trust, ours)]
    return result


class Inspector:
    """What ``inspect`` needs, never a database: settings, keys, markers and whose labels are "ours".

    Standalone (``synthguard inspect``): ``Inspector(settings)`` builds its keys and markers (it is their plugin
    context) and calls a label ours when it names this deployment's producer code.  The core builds the one it
    exposes (``SynthGuard.inspector``, issue 23) from its own settings (a getter: read at each inspection), keys,
    ``marker`` and ``ours`` (a label naming one of its records)."""

    def __init__(self, settings: Settings | Callable[[], Settings], keys: Keys | None = None,
                 plugins: Plugins | None = None, *, threads: int = 1, marker: Callable[[str], Marker] | None = None,
                 ours: Callable[[str | None, str | None], bool] | None = None):
        self._settings = settings if callable(settings) else lambda: settings
        self.keys = keys or Keys(self.settings)
        self.plugins = plugins or Plugins()
        self.registry = self.plugins.markers
        self._markers: dict[str, Marker] = {}
        self._marker, self._ours = marker, ours
        self.threads = threads

    @property
    def settings(self) -> Settings:
        return self._settings()

    def marker(self, name: str) -> Marker:
        if self._marker is not None:
            return self._marker(name)
        if name not in self._markers:
            self._markers[name] = self.registry.create(name, self)
        return self._markers[name]

    def ours(self, content_id: str | None, producer: str | None) -> bool:
        """A label of this deployment: one naming its record (core), else its producer code (standalone)."""
        if self._ours is not None:
            return self._ours(content_id, producer)
        return bool(self.settings.producer) and producer == self.settings.producer

    def inspect(self, source: Any) -> dict[str, Any]:
        """Every label on a file (AIGC metadata, IPTC source type, C2PA, watermark, explicit label), foreign ones
        against the trust list; one JSON shape for every modality, a mark a modality cannot carry is ``None``."""
        settings = self.settings
        found = inspect_media(limited_media(settings, source), self.marker, threads=self.threads)
        return settle_foreign(found, settings, self.ours)
