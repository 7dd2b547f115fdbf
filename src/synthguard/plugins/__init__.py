"""One plugin system (issue 23, step 3): a typed :class:`Registry` per group, one factory signature.

=====================  ===============================  ==================  =========================
group                  entry-point group                protocol            contract check
=====================  ===============================  ==================  =========================
``markers``            ``synthguard.markers``           ``Marker``          ``check_marker``
``detectors``          ``synthguard.detectors``         ``Detector``        ``check_detector``
``hashers``            ``synthguard.hashers``           ``Hasher``          ``check_hasher``
``identity_verifiers`` ``synthguard.identity_verifiers`` ``IdentityVerifier`` ``check_identity_verifier``
``indexes``            ``synthguard.indexes``           ``Index``           ``check_index``
=====================  ===============================  ==================  =========================

Every factory is ``factory(ctx: PluginContext) -> T``; the entry-point name is the plugin's name. The group
``synthguard`` (markers, factory ``(settings, keys) -> Marker``; documented before issue 23) is still loaded as
an alias of ``synthguard.markers``. The contract checks live in :mod:`synthguard.testing`. docs/plugins.md is the
guide.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Protocol

from synthguard.detection import Detector
from synthguard.fingerprint import EXACT, Hasher
from synthguard.fingerprint.index import Index
from synthguard.identity import IdentityVerifier
from synthguard.marking.base import Marker
from synthguard.media import Media, Modality
from synthguard.plugins import builtin
from synthguard.plugins.registry import Factory, Group, Plugin, PluginContext, Registry
from synthguard.testing import check_detector, check_hasher, check_identity_verifier, check_index, check_marker

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.keys import Keys

MARKERS: Group[Marker] = Group("markers", "synthguard.markers", "marker", Marker, check_marker,
                               aliases=(("synthguard", builtin.legacy_marker),))
DETECTORS: Group[Detector] = Group("detectors", "synthguard.detectors", "detector", Detector, check_detector)
HASHERS: Group[Hasher] = Group("hashers", "synthguard.hashers", "hasher", Hasher, check_hasher, name_attr="kind")
IDENTITY_VERIFIERS: Group[IdentityVerifier] = Group("identity_verifiers", "synthguard.identity_verifiers",
                                                    "identity verifier", IdentityVerifier, check_identity_verifier)
INDEXES: Group[Index] = Group("indexes", "synthguard.indexes", "index", Index, check_index, name_attr=None)
GROUPS: tuple[Group[Any], ...] = (MARKERS, DETECTORS, HASHERS, IDENTITY_VERIFIERS, INDEXES)

# Kept for callers of the pre-issue-23 module: the built-in marker factories by name.
BUILTIN_MARKERS = builtin.MARKERS


class Plugins:
    """Every group's registry: built-ins plus the entry points of the installed distributions.

    ``entry_points``: the entry points to load (default: every installed distribution's, read once here);
    ``load_entry_points=False`` gives the built-ins only."""

    def __init__(self, *, load_entry_points: bool = True, entry_points: Iterable[EntryPoint] | None = None) -> None:
        eps: list[EntryPoint] = []
        if load_entry_points:
            eps = list(entry_points) if entry_points is not None else _installed(
                tuple(g for group in GROUPS for g in group.entry_point_groups))
        self.markers: Registry[Marker] = Registry(MARKERS, builtin.MARKERS, entry_points=eps)
        self.detectors: Registry[Detector] = Registry(DETECTORS, builtin.DETECTORS, entry_points=eps)
        self.hashers: Registry[Hasher] = Registry(HASHERS, builtin.HASHERS, entry_points=eps)
        self.identity_verifiers: Registry[IdentityVerifier] = Registry(IDENTITY_VERIFIERS,
                                                                       builtin.IDENTITY_VERIFIERS, entry_points=eps)
        self.indexes: Registry[Index] = Registry(INDEXES, builtin.INDEXES, entry_points=eps)

    def registries(self) -> dict[str, Registry[Any]]:
        return {"markers": self.markers, "detectors": self.detectors, "hashers": self.hashers,
                "identity_verifiers": self.identity_verifiers, "indexes": self.indexes}

    def third_party(self) -> list[Plugin[Any]]:
        """Every plugin loaded from another distribution's entry points."""
        return [r.plugin(n) for r in self.registries().values() for n in r.names if r.plugin(n).distribution]

    def check(self, ctx: PluginContext, *, builtins: bool = False) -> dict[str, dict[str, str]]:
        """Build every third-party plugin (and with ``builtins``, every built-in) and run its contract check:
        {group: {name: origin}}. Raises PluginError naming the first plugin that fails."""
        out: dict[str, dict[str, str]] = {}
        for key, reg in self.registries().items():
            if builtins:
                out[key] = reg.check_all(ctx)
            else:
                out[key] = {n: reg.plugin(n).origin for n in reg.names if not reg.plugin(n).builtin}
                reg.create_all(ctx, list(out[key]))
        return out


class PluginHost(PluginContext, Protocol):
    """A plugin context that also holds its registries (``SynthGuard``): what a scan builds its mark detectors
    from (``synthguard.scan.detectors_for``), typed so that the scan names no core object (issue 23)."""

    @property
    def plugins(self) -> Plugins: ...


def _installed(groups: tuple[str, ...]) -> list[EntryPoint]:
    found = entry_points()
    return [ep for g in groups for ep in found.select(group=g)]


@cache
def default_plugins() -> Plugins:
    """The process's registries (installed entry points, loaded once) for code without a core object."""
    return Plugins()


class Context:
    """A plugin context for code without a core object: settings loaded on first use (``Settings.load()``),
    keys from the settings, markers built once from ``plugins``."""

    def __init__(self, settings: Settings | None = None, keys: Keys | None = None,
                 plugins: Plugins | None = None) -> None:
        self._settings, self._keys = settings, keys
        self.plugins = plugins or default_plugins()
        self._markers: dict[str, Marker] = {}

    @property
    def settings(self) -> Settings:
        if self._settings is None:  # only when a plugin asks: the built-in hashers need no settings
            self._settings = builtin._load("synthguard.config:Settings").load()
        return self._settings

    @property
    def keys(self) -> Keys:
        if self._keys is None:  # loaded by path like the built-ins: hashing needs no keys (nor cryptography)
            self._keys = builtin._load("synthguard.keys:Keys")(self.settings)
        return self._keys

    def marker(self, name: str) -> Marker:
        if name not in self._markers:
            self._markers[name] = self.plugins.markers.create(name, self)
        return self._markers[name]


def hashers_for(modality: Modality, ctx: PluginContext | None = None, plugins: Plugins | None = None, *,
                exact: bool = True) -> list[Hasher]:
    """The registered hashers that hash ``modality``, in registration order (built-ins first: the first one is
    the modality's primary perceptual hasher); ``exact=False`` leaves out the file's SHA-256 (``sha256``).

    Used by labeling (the record's fingerprints), scan, trace and banks instead of naming hasher classes."""
    plugins = plugins or default_plugins()
    ctx = ctx if ctx is not None else Context(plugins=plugins)
    out = []
    for hasher in plugins.hashers.create_all(ctx):
        if modality in hasher.modalities and (exact or hasher.kind != EXACT):
            out.append(hasher)
    return out


def media_hashes(media: Media, ctx: PluginContext | None = None, plugins: Plugins | None = None) -> dict[str, Any]:
    """Every fingerprint of a file that banks can hold (``synthguard hash``): its SHA-256 and the hash of each
    registered hasher of its modality, built-ins and plugins (``fingerprint.bank_hashes.media_hashes``)."""
    hash_all = builtin._load("synthguard.fingerprint.bank_hashes:media_hashes")  # signal formats: only when hashing
    return dict(hash_all(media, hashers_for(media.modality, ctx, plugins, exact=False)))


def mark_detectors(modality: Modality | None, ctx: PluginContext, plugins: Plugins | None = None) -> list[Detector]:
    """The registered detectors a scan of ``modality`` runs (all when None), in registration order: names are
    "modality.technique", and a plugin named otherwise is built for every modality."""
    registry = (plugins or default_plugins()).detectors
    prefixes = {n: n.split(".", 1)[0] for n in registry.names}
    names = [n for n, p in prefixes.items()
             if modality is None or p == modality.value or p not in builtin.MODALITY_NAMES]
    return [d for d in registry.create_all(ctx, names) if modality is None or modality in d.modalities]


def hasher(kind: str, ctx: PluginContext | None = None, plugins: Plugins | None = None) -> Hasher:
    """The hasher of one kind (NotFoundError for an unregistered kind; see ``fingerprint.canonical_kind``)."""
    plugins = plugins or default_plugins()
    return plugins.hashers.create(kind, ctx if ctx is not None else Context(plugins=plugins))


__all__ = ["BUILTIN_MARKERS", "DETECTORS", "GROUPS", "HASHERS", "IDENTITY_VERIFIERS", "INDEXES", "MARKERS",
           "Context", "Factory", "Group", "Plugin", "PluginContext", "PluginHost", "Plugins", "Registry",
           "check_detector", "check_hasher", "check_identity_verifier", "check_index", "check_marker",
           "default_plugins", "hasher", "hashers_for", "mark_detectors", "media_hashes"]
