"""The package dependency picture of a SynthGuard source tree, as text (issue 23's closing note; docs/architecture.md).

For each top-level package (a sub-package or a module directly under ``synthguard/``): the top-level packages it
imports at module level, those it imports inside functions ``[...]`` and those it loads by name on first use
``{...}`` (a synthguard.lazy table's module names, an entry-point-style ``"synthguard.x.y:Name"`` of
plugins/builtin.py: no import statement, so the architecture test does not see them); then the cycles between
packages, the count of imports made inside functions and the count of modules outside ``store/`` importing
SQLAlchemy.  The graph is
tests/import_graph.py's (``ast``, no import of the tree), so any checkout can be drawn, e.g. the tree before issue 23:

    python scripts/dependency_picture.py                          # this checkout's src/synthguard
    git archive b071f09^ src | tar -x -C /tmp/before
    python scripts/dependency_picture.py /tmp/before/src/synthguard
    python scripts/dependency_picture.py --before /tmp/before/src/synthguard   # both, side by side
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
import textwrap
from collections import defaultdict
from itertools import zip_longest
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ig: Any = importlib.import_module("tests.import_graph")  # the graph builder the architecture test uses


Picture = dict[str, tuple[list[str], list[str], list[str]]]
_NAMED = re.compile(r"synthguard(\.\w+)+(:\w+)?")


def entries(src: Path) -> tuple[Picture, list[tuple[str, str]]]:
    """Per package: (packages imported at module level, imported inside functions, loaded by name); and the
    summary rows (label, value)."""
    g = ig.build(src)
    inner: dict[str, set[str]] = defaultdict(set)
    for mod, target, _line in g.inner:
        if target.startswith("synthguard.") and ig.package(target) != ig.package(mod):
            inner[ig.package(mod)].add(ig.package(target))
    named = _by_name(src)
    names = sorted({ig.package(m) for m in _modules(src)})
    per = {n: (sorted(g.module_edges.get(n, ())), sorted(inner.get(n, ())), sorted(named.get(n, ())))
           for n in names}
    internal = g.inner_internal()
    summary = [
        ("cycles between packages, any import", _cycles(g.cycles())),
        ("cycles between packages, module-level imports", _cycles(g.cycles(module_level=True))),
        ("imports inside functions, in all", str(len(g.inner))),
        ("  of synthguard or a light library (the rule's)", f"{sum(internal.values())} in {len(internal)} modules"),
        ("  of an optional/heavy library or the stdlib", str(len(g.inner) - sum(internal.values()))),
        ("modules outside store/ importing SQLAlchemy", str(len([m for m in g.sqlalchemy
                                                                 if ig.package(m) != "store"]))),
        ("modules importing core at run time (not cli/, server/)",
         str(sum(kind != "annotation" and not _face(m) for m, kind in g.core_importers.items()))),
    ]
    return per, summary


def _by_name(src: Path) -> dict[str, set[str]]:
    """Packages named as strings to be imported on first use: the values of a module-level dict
    (synthguard.lazy tables) that are module names, and ``"synthguard.x.y:Name"`` strings anywhere."""
    out: dict[str, set[str]] = defaultdict(set)
    for path in sorted(src.rglob("*.py")):
        mod = ig._module_name(path, src)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                 and ":" in n.value and _NAMED.fullmatch(n.value)]
        for node in tree.body:
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, ast.Dict):
                found += [v.value for v in value.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
                          and _NAMED.fullmatch(v.value)]
        for name in found:
            target = name.split(":")[0]
            if ig.package(target) != ig.package(mod):
                out[ig.package(mod)].add(ig.package(target))
    return out


def _modules(src: Path) -> list[str]:
    return [ig._module_name(p, src) for p in sorted(src.rglob("*.py"))]


def _face(module: str) -> bool:
    return ig.package(module) in ("cli", "server", "core", "__init__", "__main__")


def _cycles(cycles: list[list[str]]) -> str:
    return "; ".join(" <-> ".join(c) for c in cycles) or "none"


def render(per: Picture, summary: list[tuple[str, str]], width: int = 118) -> list[str]:
    """One tree's picture: a line per package (wrapped to ``width``), then the summary."""
    out = ["package       imports at module level  [inside functions]  {by name, on first use}", ""]
    for name, (module, inner, named) in per.items():
        text = ", ".join(module) or "-"
        if inner:
            text += f"  [{', '.join(inner)}]"
        if named:
            text += f"  {{{', '.join(named)}}}"
        out += textwrap.wrap(text, width - 14, initial_indent=f"{name:<14}", subsequent_indent=" " * 14,
                             break_on_hyphens=False) if len(name) < 14 else [name, *textwrap.wrap(
                                 text, width - 14, initial_indent=" " * 14, subsequent_indent=" " * 14)]
    out.append("")
    out += [f"{label}: {value}" for label, value in summary]
    return out


def levels(per: Picture, width: int = 118) -> list[str]:
    """The packages by level, when every kind of dependency together is acyclic: level 0 imports no package,
    level n only packages of lower levels (the longest chain of dependencies below it)."""
    edges = {n: (set(m) | set(i) | set(b)) - {n} for n, (m, i, b) in per.items()}
    level: dict[str, int] = {}
    while len(level) < len(edges):
        ready = {n: 1 + max((level[t] for t in deps if t in edges), default=-1) for n, deps in edges.items()
                 if n not in level and all(t in level for t in deps if t in edges)}
        if not ready:
            return ["levels: none (the packages depend on each other in a cycle)"]
        level.update(ready)
    out = ["levels (each package depends only on packages of lower levels):"]
    for n in range(max(level.values()) + 1):
        out += textwrap.wrap(", ".join(sorted(p for p, v in level.items() if v == n)), width - 6,
                             initial_indent=f"  {n:>2}  ", subsequent_indent=" " * 6)
    return out


def side_by_side(before: Path, after: Path, width: int = 60, labels: tuple[str, str] | None = None) -> list[str]:
    """Both pictures in two columns, package by package (a package only one tree has is blank in the other)."""
    (pb, sb), (pa, sa) = entries(before), entries(after)
    left_label, right_label = labels or (str(before), str(after))
    rows = [f"{'BEFORE: ' + left_label:<{width}} | AFTER: {right_label}", f"{'-' * width}-+-{'-' * width}"]
    for name in sorted(set(pb) | set(pa)):
        left = render({name: pb[name]}, [], width)[2:-1] if name in pb else []
        right = render({name: pa[name]}, [], width)[2:-1] if name in pa else []
        rows += [f"{a:<{width}} | {b}".rstrip() for a, b in zip_longest(left, right, fillvalue="")]
    rows.append(f"{'-' * width}-+-{'-' * width}")
    for (label, b), (_, a) in zip(sb, sa, strict=True):
        rows += [f"{label}:"] + [f"  {x:<{width - 2}} | {y}".rstrip() for x, y in zip_longest(
            textwrap.wrap(b, width - 2), textwrap.wrap(a, width - 2), fillvalue="")]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("src", nargs="?", type=Path, default=ROOT / "src" / "synthguard",
                        help="the synthguard package directory (default: this checkout's)")
    parser.add_argument("--before", type=Path, help="another tree's package directory: print both side by side")
    parser.add_argument("--labels", nargs=2, metavar=("BEFORE", "AFTER"), help="column titles for --before")
    args = parser.parse_args(argv)
    for path in (args.src, args.before):
        if path is not None and not (path / "__init__.py").is_file():
            parser.error(f"{path} is not a package directory (give .../src/synthguard)")
    if args.before:
        lines = side_by_side(args.before, args.src, labels=args.labels)
    else:
        per, summary = entries(args.src)
        lines = [*render(per, summary), "", *levels(per)]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
