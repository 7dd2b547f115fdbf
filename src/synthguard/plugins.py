"""Registry of markers: built-ins plus third-party plugins from the entry-point group ``synthguard``.

A plugin is a factory ``(settings, keys) -> Marker``; its entry-point name is the marker name
(``modality.technique``). Duplicate names are rejected so a plugin can never silently replace a built-in.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from synthguard.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.keys import Keys
    from synthguard.marking.base import Marker

Factory = Callable[["Settings", "Keys"], "Marker"]


def _visible(settings: Settings, keys: Keys) -> Marker:
    from synthguard.marking.visible import VisibleLabelMarker

    return VisibleLabelMarker(settings.label_text, settings.label_position, settings.label_height_ratio,
                              settings.font_path, settings.jpeg_quality)


def _watermark(settings: Settings, keys: Keys) -> Marker:
    from synthguard.marking.watermark.marker import WatermarkMarker

    return WatermarkMarker(keys.watermark, settings.watermark_strength, settings.jpeg_quality,
                           settings.watermark_mode)


def _metadata(settings: Settings, keys: Keys) -> Marker:
    from synthguard.errors import KeyMissingError
    from synthguard.marking.metadata import MetadataMarker

    try:
        key: bytes | None = keys.integrity
    except KeyMissingError:  # a platform without the provider's key still reads labels (integrity "unknown")
        key = None
    return MetadataMarker(key, max_depth=settings.max_metadata_depth)


def _c2pa(settings: Settings, keys: Keys) -> Marker:
    from synthguard.marking.c2pa import C2PAMarker

    return C2PAMarker(keys.c2pa_chain, keys.c2pa_key, keys.c2pa_anchors, settings.tsa_url)


def _lazy(module: str, cls: str) -> Factory:
    """Factory for a built-in marker of another modality: ``cls.from_settings(settings, keys)``, imported on
    first use so the core imports without the audio/video/text extras."""

    def factory(settings: Settings, keys: Keys) -> Marker:
        from importlib import import_module

        return getattr(import_module(module), cls).from_settings(settings, keys)  # type: ignore[no-any-return]

    factory.__name__ = f"_{cls}"
    return factory


# Labeling order lives in core.LABEL_ORDERS: explicit -> watermark -> metadata -> C2PA (binds the final bytes).
BUILTIN_MARKERS: dict[str, Factory] = {
    "image.visible": _visible,
    "image.watermark": _watermark,
    "image.metadata": _metadata,
    "image.c2pa": _c2pa,
    "audio.notice": _lazy("synthguard.marking.audio.marker", "AudioNoticeMarker"),
    "audio.watermark": _lazy("synthguard.marking.audio.marker", "AudioWatermarkMarker"),
    "audio.metadata": _lazy("synthguard.marking.audio.marker", "AudioMetadataMarker"),
    "video.visible": _lazy("synthguard.marking.video.marker", "VideoVisibleMarker"),
    "video.watermark": _lazy("synthguard.marking.video.marker", "VideoWatermarkMarker"),
    "video.metadata": _lazy("synthguard.marking.video.marker", "VideoMetadataMarker"),
    "video.c2pa": _lazy("synthguard.marking.video.marker", "VideoC2PAMarker"),
    "text.notice": _lazy("synthguard.marking.text.marker", "TextNoticeMarker"),
    "text.metadata": _lazy("synthguard.marking.text.marker", "TextMetadataMarker"),
}


class Registry:
    def __init__(self, markers: dict[str, Factory] | None = None, *, load_entry_points: bool = True):
        self.markers: dict[str, Factory] = dict(BUILTIN_MARKERS if markers is None else markers)
        if load_entry_points:
            for ep in entry_points(group="synthguard"):
                self.add(ep.name, ep.load())

    def add(self, name: str, factory: Any) -> None:
        if name in self.markers:
            raise ConfigError(f"a marker named {name!r} is already registered",
                              hint="Rename the plugin's entry point; built-in names cannot be replaced.")
        if not callable(factory):
            raise ConfigError(f"plugin {name!r} is not callable")
        self.markers[name] = factory

    def create(self, name: str, settings: Settings, keys: Keys) -> Marker:
        try:
            factory = self.markers[name]
        except KeyError:
            raise NotFoundError(f"no marker named {name!r}; known: {', '.join(self.markers)}") from None
        return factory(settings, keys)
