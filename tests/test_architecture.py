"""The shape of the code (issue 23), checked on every run from the source with ``ast`` (tests/import_graph.py).

The rules, with no exceptions list: no cycle between top-level packages, through any import; ``store`` imports no
other domain package; SQLAlchemy is imported only under ``store/``; no import inside a function except of an
optional heavy library (``import_graph.HEAVY``) or the standard library; no domain module imports ``core``, not
even for a type.  docs/architecture.md draws the picture (scripts/dependency_picture.py).
"""

from __future__ import annotations

from pathlib import Path

from tests import import_graph as ig

GRAPH = ig.build()


def test_no_cycle_between_packages():
    assert GRAPH.cycles(module_level=True) == []
    assert GRAPH.cycles() == [], "import cycle between packages: break it by injection or move the shared part down"


def test_store_depends_on_no_domain_package():
    allowed = {"errors", "i18n", "locks", "config", "limits", "times"}
    assert GRAPH.edges.get("store", set()) <= allowed, GRAPH.edges["store"]


def test_sqlalchemy_stays_in_store():
    outside = sorted(m for m in GRAPH.sqlalchemy if ig.package(m) != "store")
    assert outside == [], f"SQL belongs in synthguard/store (a repository there), not in {outside}"


def test_imports_inside_functions_only_for_optional_heavy_libraries():
    inner = GRAPH.inner_internal()
    assert inner == {}, (f"imports inside functions (allowed only for optional heavy libraries: "
                         f"{sorted(ig.HEAVY)[:6]}...): {inner}; import at module level instead")


# Above the composition root: what may import ``core`` (the CLI and the HTTP server build a core and hand it on; the
# package's ``__init__`` names ``SynthGuard`` lazily).  testing.py and client.py need no core and are not listed.
CORE_CLIENTS = ("synthguard.cli", "synthguard.server")


def _core_client(module: str) -> bool:
    return module in ("synthguard", "synthguard.__main__") or module.startswith(tuple(c + "." for c in CORE_CLIENTS)) \
        or module in CORE_CLIENTS or module == "synthguard.core"


def test_no_domain_module_imports_core():
    """``core`` is the composition root (issue 23): it builds the services from their dependencies, so no domain
    module imports it, at module level, inside a function or for a type under ``if TYPE_CHECKING:`` (only ``cli/``,
    ``server/`` and the package's lazy ``SynthGuard`` name do).  A domain module that opens cores in other
    processes is given an opener by its caller (``synthguard.batch.Opener``)."""
    importers = sorted(f"{m} ({kind})" for m, kind in GRAPH.core_importers.items() if not _core_client(m))
    assert importers == [], f"domain modules importing synthguard.core: {importers}; take what they need as a parameter"


def test_the_graph_reader_sees_a_cycle(tmp_path):
    """The checker itself can fail: a two-package cycle and a function-level import in a scratch tree."""
    pkg = tmp_path / "synthguard"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from synthguard.b import x\n")
    (pkg / "b.py").write_text("import json\n\ndef f():\n    from synthguard.a import y\n    import sqlalchemy\n")
    (pkg / "c.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    from synthguard.core import X\n")
    (pkg / "d.py").write_text("def f():\n    from synthguard import core\n")
    g = ig.build(pkg)
    assert g.cycles() == [["a", "b"]] and g.cycles(module_level=True) == []
    assert g.inner_internal() == {"synthguard.b": 1, "synthguard.d": 1} and g.sqlalchemy == {"synthguard.b"}
    assert g.core_importers == {"synthguard.c": "annotation", "synthguard.d": "function"}


def test_readme_layout_names_every_package():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    names = {p.name + "/" if p.is_dir() else p.name for p in ig.SRC.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__main__")}
    missing = sorted(n for n in names - {"__init__.py"} if f"`{n}`" not in layout)
    assert missing == [], f"README's Layout section does not name: {missing}"
