"""The shape of the code (issue 23), checked on every run from the source with ``ast`` (tests/import_graph.py).

Rules that hold now: no cycle between top-level packages through module-level imports; ``store`` imports no
other domain package; a cycle, an import inside a function (other than an optional heavy library) or an
SQLAlchemy import outside ``store/`` that is not in tests/architecture_baseline.json fails the run.  The
baseline lists what is left to undo; it may only shrink (a module that improves must lower its number).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests import import_graph as ig

BASELINE = json.loads((Path(__file__).parent / "architecture_baseline.json").read_text(encoding="utf-8"))
GRAPH = ig.build()


def test_no_cycle_between_packages_through_module_level_imports():
    assert GRAPH.cycles(module_level=True) == []


def test_no_new_cycle_through_any_import():
    allowed = [sorted(c) for c in BASELINE["allowed_cycles"]]
    new = [c for c in GRAPH.cycles() if not any(set(c) <= set(a) for a in allowed)]
    assert new == [], f"new import cycle between packages: {new}"


def test_store_depends_on_no_domain_package():
    allowed = {"errors", "i18n", "locks", "config", "limits", "times"}
    assert GRAPH.edges.get("store", set()) <= allowed, GRAPH.edges["store"]


def test_sqlalchemy_stays_in_store():
    outside = {m for m in GRAPH.sqlalchemy if ig.package(m) != "store"}
    new = sorted(outside - set(BASELINE["sqlalchemy_outside_store"]))
    assert new == [], f"SQL belongs in synthguard/store (a repository there), not in {new}"


def test_imports_inside_functions_only_for_optional_heavy_libraries():
    counts, allowed = GRAPH.inner_internal(), BASELINE["imports_inside_functions"]
    grown = {m: n for m, n in counts.items() if n > allowed.get(m, 0)}
    assert grown == {}, (f"imports inside functions (allowed only for optional heavy libraries: "
                         f"{sorted(ig.HEAVY)[:6]}...): {grown}; import at module level instead")


def test_baseline_only_shrinks():
    """A module that lost its tangles must lower its entry, so the baseline never hides a later regression."""
    counts = GRAPH.inner_internal()
    stale = {m: (n, counts.get(m, 0)) for m, n in BASELINE["imports_inside_functions"].items()
             if counts.get(m, 0) < n}
    outside = {m for m in GRAPH.sqlalchemy if ig.package(m) != "store"}
    gone = sorted(set(BASELINE["sqlalchemy_outside_store"]) - outside)
    assert stale == {} and gone == [], f"lower tests/architecture_baseline.json: {stale} {gone}"


# Above the composition root: what may import ``core`` (the CLI and the HTTP server build a core and hand it on; the
# package's ``__init__`` names ``SynthGuard`` lazily).  testing.py and client.py need no core and are not listed.
CORE_CLIENTS = ("synthguard.cli", "synthguard.server")


def _core_client(module: str) -> bool:
    return module in ("synthguard", "synthguard.__main__") or module.startswith(tuple(c + "." for c in CORE_CLIENTS)) \
        or module in CORE_CLIENTS or module == "synthguard.core"


def test_no_domain_module_imports_core():
    """``core`` is the composition root (issue 23): it builds the services from their dependencies, so no domain
    module imports it at run time, at module level or inside a function (only ``cli/``, ``server/`` and the package's
    lazy ``SynthGuard`` name do).  A domain module that opens cores in other processes is given an opener by its
    caller (``synthguard.batch.Opener``).  What is left: modules whose services still hold ``sg: SynthGuard`` name
    the type under ``if TYPE_CHECKING:`` (no import at run time); they are listed in the baseline's
    ``core_annotations``, which only shrinks as the typed services replace the core object."""
    runtime = sorted(m for m, kind in GRAPH.core_importers.items() if kind != "annotation" and not _core_client(m))
    assert runtime == [], f"domain modules importing synthguard.core: {runtime}; take what they need as a parameter"
    annotations = {m for m, kind in GRAPH.core_importers.items() if kind == "annotation" and not _core_client(m)}
    listed = set(BASELINE["core_annotations"])
    assert sorted(annotations - listed) == [], "new annotation-only import of synthguard.core: type it narrower"
    assert sorted(listed - annotations) == [], "lower tests/architecture_baseline.json core_annotations"


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
