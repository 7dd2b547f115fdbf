"""The generic plugin registry: one ``Registry[T]`` per entry-point group, one factory signature for all.

A plugin is a factory ``factory(ctx: PluginContext) -> T``. The context gives the operator's settings, the key
ring and the markers already built (so a detector reads with the same keys as the labeler). Built-ins are
registered under the same signature; third-party plugins come from entry points of installed distributions.

Rules every registry enforces (issue 23, step 3):

- a name is registered once: a plugin can never replace a built-in or another plugin (``ConfigError``);
- a third-party plugin is checked against its group's protocol and public contract check (``check_marker``,
  ``check_detector``, ``check_hasher``, ``check_index``, ``check_identity_verifier``) the first time it is built;
  a plugin that cannot be loaded or fails its contract is refused with a :class:`~synthguard.errors.PluginError`
  naming the distribution and the entry point;
- the name a plugin is registered under is the name the built object carries (``name``, or ``kind`` for hashers).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from synthguard.errors import ConfigError, NotFoundError, PluginError, SynthGuardError

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.keys import Keys
    from synthguard.marking.base import Marker

T = TypeVar("T")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class PluginContext(Protocol):
    """What every factory receives. ``SynthGuard`` and ``Inspector`` are contexts; so is ``plugins.Context``."""

    @property
    def settings(self) -> Settings: ...

    @property
    def keys(self) -> Keys: ...

    def marker(self, name: str) -> Marker:
        """The context's (shared, cached) marker of that name."""
        ...


Factory = Callable[[PluginContext], T]
LegacyAdapter = Callable[[Callable[..., Any]], Callable[[PluginContext], Any]]


@dataclass(frozen=True)
class Group(Generic[T]):
    """One kind of plugin: its entry-point group, protocol and contract check.

    ``aliases`` are older entry-point groups still loaded, each with an adapter from its documented factory
    signature to ``factory(ctx)``; ``name_attr`` is the attribute of a built plugin that must equal its name."""

    key: str
    entry_point: str
    noun: str
    protocol: type[Any]
    check: Callable[[T], None]
    name_attr: str | None = "name"
    aliases: tuple[tuple[str, LegacyAdapter], ...] = ()

    @property
    def entry_point_groups(self) -> tuple[str, ...]:
        return (self.entry_point, *(alias for alias, _ in self.aliases))


@dataclass(frozen=True)
class Plugin(Generic[T]):
    """A registered factory and where it came from (``distribution`` None: built in or added by code)."""

    name: str
    factory: Callable[[PluginContext], T]
    builtin: bool = False
    distribution: str | None = None
    entry_point: str | None = None  # "group: name = module:attr"

    @property
    def origin(self) -> str:
        if self.builtin:
            return "built in"
        if self.entry_point is None:
            return "added at run time"
        return f"{self.entry_point} (distribution {self.distribution or 'unknown'})"


def describe(ep: EntryPoint) -> tuple[str, str]:
    """(distribution "name version", "group: name = value") of an entry point, for error messages."""
    dist = getattr(ep, "dist", None)
    name = "unknown"
    if dist is not None:
        name = f"{dist.metadata['Name'] or dist.name} {dist.version}"
    return name, f"{ep.group}: {ep.name} = {ep.value}"


class Registry(Generic[T]):
    """Named factories of one group; see the module docstring."""

    def __init__(self, group: Group[T], builtins: Mapping[str, Factory[T]] | None = None, *,
                 entry_points: Iterable[EntryPoint] = ()) -> None:
        self.group = group
        self._plugins: dict[str, Plugin[T]] = {}
        self._checked: set[str] = set()
        self._lock = threading.Lock()
        for name, factory in (builtins or {}).items():
            self._register(Plugin(name, factory, builtin=True))
        self.load(entry_points)

    # --- registration ------------------------------------------------------------------------
    def load(self, entry_points: Iterable[EntryPoint]) -> None:
        """Register the entry points of this group (and of its alias groups) among ``entry_points``."""
        adapters: dict[str, LegacyAdapter | None] = {self.group.entry_point: None, **dict(self.group.aliases)}
        seen: set[tuple[str, str]] = set()
        for ep in entry_points:
            if ep.group not in adapters or (ep.name, ep.value) in seen:
                continue  # another group, or the same distribution found twice on sys.path
            seen.add((ep.name, ep.value))
            dist, where = describe(ep)
            try:
                obj = ep.load()
            except Exception as exc:  # an ImportError, or any error raised while importing the plugin's module
                raise PluginError("{noun} plugin {name!r} cannot be loaded ({entry_point}, distribution {dist}): "
                                  "{error}", values={"noun": self.group.noun, "name": ep.name, "entry_point": where,
                                                     "dist": dist, "error": f"{type(exc).__name__}: {exc}"}) from exc
            if not callable(obj):
                raise PluginError("{noun} plugin {name!r} is not callable ({entry_point}, distribution {dist})",
                                  values={"noun": self.group.noun, "name": ep.name, "entry_point": where,
                                          "dist": dist})
            adapter = adapters[ep.group]
            factory: Factory[T] = adapter(obj) if adapter is not None else obj
            self._register(Plugin(ep.name, factory, distribution=dist, entry_point=where))

    def add(self, name: str, factory: Factory[T]) -> None:
        """Register a factory from code (checked like an entry point when first built)."""
        if not callable(factory):
            raise ConfigError("{noun} plugin {name!r} is not callable", values={"noun": self.group.noun, "name": name})
        self._register(Plugin(name, factory))

    def _register(self, plugin: Plugin[T]) -> None:
        if not isinstance(plugin.name, str) or not NAME.fullmatch(plugin.name):
            raise PluginError("bad {noun} plugin name {name!r} ({origin})",
                              values={"noun": self.group.noun, "name": plugin.name, "origin": plugin.origin},
                              hint="Name entry points with 1-64 lowercase letters, digits, '.', '_' or '-' "
                                   "(markers and detectors: modality.technique).")
        if plugin.name in self._plugins:
            raise PluginError("a {noun} named {name!r} is already registered ({first}); refused: {second}",
                              values={"noun": self.group.noun, "name": plugin.name,
                                      "first": self._plugins[plugin.name].origin, "second": plugin.origin},
                              hint="Rename the plugin's entry point; built-in names cannot be replaced.")
        self._plugins[plugin.name] = plugin

    # --- lookup --------------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._plugins

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._plugins))

    def __len__(self) -> int:
        return len(self._plugins)

    @property
    def names(self) -> list[str]:
        """Registered names, built-ins first, in registration order."""
        return list(self._plugins)

    def plugin(self, name: str) -> Plugin[T]:
        try:
            return self._plugins[name]
        except KeyError:
            raise NotFoundError("no {noun} named {name!r}; known: {known}",
                                values={"noun": self.group.noun, "name": name,
                                        "known": ", ".join(self._plugins)}) from None

    def require(self, names: Iterable[str], *, what: str) -> list[str]:
        """``names`` if all are registered, else a ConfigError naming the unknown ones (``what``: the setting)."""
        wanted = list(names)
        unknown = [n for n in wanted if n not in self._plugins]
        if unknown:
            raise ConfigError("unknown {noun} {unknown} in {what}; known: {known}",
                              values={"noun": self.group.noun, "unknown": ", ".join(map(repr, unknown)),
                                      "what": what, "known": ", ".join(self._plugins)},
                              hint="Install the distribution that provides it, or pick a registered name.")
        return wanted

    # --- building --------------------------------------------------------------------------------
    def create(self, name: str, ctx: PluginContext) -> T:
        """Build the plugin ``name``; a third-party plugin passes its contract check on its first build."""
        plugin = self.plugin(name)
        try:
            obj = plugin.factory(ctx)
        except SynthGuardError:
            raise
        except Exception as exc:
            if plugin.builtin:
                raise
            raise self._refused(plugin, f"its factory raised {type(exc).__name__}: {exc}") from exc
        if not plugin.builtin and name not in self._checked:
            self.verify(plugin, obj)
            with self._lock:
                self._checked.add(name)
        return obj

    def create_all(self, ctx: PluginContext, names: Iterable[str] | None = None) -> list[T]:
        """Build ``names`` (default: every registered plugin), in that order."""
        return [self.create(n, ctx) for n in (self.names if names is None else self.require(names, what="the list"))]

    def verify(self, plugin: Plugin[T], obj: T) -> None:
        """The group's protocol, name and contract check; PluginError naming the plugin's origin on failure."""
        group = self.group
        if not isinstance(obj, group.protocol):
            raise self._refused(plugin, f"it built a {type(obj).__name__}, which does not implement the "
                                        f"{group.protocol.__name__} protocol")
        if group.name_attr is not None and getattr(obj, group.name_attr, None) != plugin.name:
            raise self._refused(plugin, f"its {group.name_attr} is {getattr(obj, group.name_attr, None)!r}, "
                                        f"not the entry point's name {plugin.name!r}")
        try:
            group.check(obj)
        except Exception as exc:  # AssertionError from the check, or an error the plugin raised under test
            raise self._refused(plugin, f"{type(exc).__name__}: {exc}") from exc

    def check_all(self, ctx: PluginContext) -> dict[str, str]:
        """Build every plugin, built-ins included, and run its contract check: {name: origin}; raises on the
        first failure (PluginError for a third-party plugin, the check's AssertionError for a built-in)."""
        out: dict[str, str] = {}
        for name in self.names:
            plugin = self._plugins[name]
            obj = self.create(name, ctx)
            if plugin.builtin:
                self.group.check(obj)
            out[name] = plugin.origin
        return out

    def _refused(self, plugin: Plugin[T], reason: str) -> PluginError:
        return PluginError("{noun} plugin {name!r} from {origin} is refused: {reason}",
                           values={"noun": self.group.noun, "name": plugin.name, "origin": plugin.origin,
                                   "reason": reason})


__all__ = ["NAME", "Factory", "Group", "Plugin", "PluginContext", "Registry", "describe"]
