"""Public names of a package that load on first use (PEP 562), so importing the package stays cheap (issue 22:
``synthguard --help`` without numpy or SQLAlchemy; a note verifier without the database layer)."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from importlib import import_module
from typing import Any


def load_lazily(namespace: MutableMapping[str, Any], homes: Mapping[str, str], name: str) -> Any:
    """The body of a package's ``__getattr__``: ``name`` imported from its home module in ``homes`` and kept in the
    package's ``namespace`` (its ``globals()``), so the next look-up is plain; any other name is an AttributeError."""
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    namespace[name] = value
    return value
