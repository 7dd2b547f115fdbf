"""The package dependency picture of ``src/synthguard``, read from the source with ``ast`` (issue 23).

``python -m tests.import_graph`` prints it as text: each top-level package (a sub-package or a module directly
under ``synthguard/``) with the packages it imports, cycles, imports made inside functions and the modules that
import SQLAlchemy.  ``tests/test_architecture.py`` holds the rules.  Imports under ``if TYPE_CHECKING:`` are
annotations only and are not counted.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "synthguard"
# optional or heavy third-party libraries: imported where they are used, so the core starts without them
HEAVY = {"av", "soundfile", "scipy", "cv2", "torch", "transformers", "diffusers", "onnxruntime", "faiss", "ray",
         "pyarrow", "c2pa", "mutagen", "docx", "openpyxl", "pptx", "fpdf", "babel", "lxml", "httpx", "boto3",
         "fsspec", "uvicorn", "fastapi_offline", "pdqhash", "imagehash", "numba", "sklearn", "pyinstrument",
         "threadpoolctl", "alembic", "jinja2", "yaml", "PIL", "numpy", "matplotlib", "rich", "typer", "click",
         "invisible_watermark", "imwatermark", "psycopg", "sqlalchemy", "atheris", "openai", "multipart",
         "webrtcvad"}  # webrtcvad: the `voice` extra's voice-activity detector, absent without it


@dataclass
class Graph:
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # package -> packages
    module_edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # module-level only
    inner: list[tuple[str, str, int]] = field(default_factory=list)  # (module, imported, line) inside functions
    sqlalchemy: set[str] = field(default_factory=set)  # modules importing sqlalchemy
    # modules importing synthguard.core -> "module" / "function" (at run time) or "annotation" (TYPE_CHECKING only)
    core_importers: dict[str, str] = field(default_factory=dict)

    def cycles(self, module_level: bool = False) -> list[list[str]]:
        return _sccs(self.module_edges if module_level else self.edges)

    def inner_internal(self) -> dict[str, int]:
        """Per module: imports of synthguard or of a light third-party library made inside a function."""
        out: dict[str, int] = defaultdict(int)
        for mod, target, _ in self.inner:
            if target.split(".")[0] not in HEAVY and not _stdlib(target):
                out[mod] += 1
        return dict(out)


def package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path, src: Path) -> str:
    rel = path.relative_to(src.parent).with_suffix("")
    name = ".".join(rel.parts)
    return name.removesuffix(".__init__")


def _stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def build(src: Path = SRC) -> Graph:
    g = Graph()
    for path in sorted(src.rglob("*.py")):
        mod = _module_name(path, src)
        is_pkg = path.name == "__init__.py"
        _visit(ast.parse(path.read_text(encoding="utf-8")), mod, is_pkg, g, in_function=False)
    return g


def _targets(node: ast.Import | ast.ImportFrom, mod: str, is_pkg: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = mod.split(".")
        base = base if is_pkg else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        return [".".join(base + ([node.module] if node.module else []))]
    return [node.module or ""]


def _imports_core(node: ast.AST, mod: str, is_pkg: bool) -> bool:
    """``import synthguard.core``, ``from synthguard.core import X``, ``from synthguard import core`` (or relative)."""
    if not isinstance(node, (ast.Import, ast.ImportFrom)):
        return False
    targets = _targets(node, mod, is_pkg)
    return "synthguard.core" in targets or (
        isinstance(node, ast.ImportFrom) and targets == ["synthguard"] and any(a.name == "core" for a in node.names))


def _visit(node: ast.AST, mod: str, is_pkg: bool, g: Graph, in_function: bool) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            if any(_imports_core(sub, mod, is_pkg) for sub in ast.walk(ast.Module(body=child.body, type_ignores=[]))):
                g.core_importers.setdefault(mod, "annotation")
            for sub in child.orelse:
                _visit(sub, mod, is_pkg, g, in_function)
            continue
        inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            if _imports_core(child, mod, is_pkg) and g.core_importers.get(mod) != "module":
                g.core_importers[mod] = "function" if in_function else "module"
            for target in _targets(child, mod, is_pkg):
                if target.split(".")[0] == "sqlalchemy":
                    g.sqlalchemy.add(mod)
                if in_function:
                    g.inner.append((mod, target, child.lineno))
                if target.startswith("synthguard.") and package(target) != package(mod):
                    g.edges[package(mod)].add(package(target))
                    if not in_function:
                        g.module_edges[package(mod)].add(package(target))
        _visit(child, mod, is_pkg, g, inner)


def _sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one member: the cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def picture(g: Graph) -> str:
    names = sorted(set(g.edges) | {t for ts in g.edges.values() for t in ts})
    lines = [f"{n:<14} -> {', '.join(sorted(g.edges.get(n, ()))) or '-'}" for n in names]
    lines += ["", f"cycles (any import): {g.cycles() or 'none'}",
              f"cycles (module-level imports): {g.cycles(module_level=True) or 'none'}",
              f"imports inside functions: {len(g.inner)} in all, "
              f"{sum(g.inner_internal().values())} of synthguard or light libraries",
              f"modules importing SQLAlchemy outside store/: "
              f"{len([m for m in g.sqlalchemy if package(m) != 'store'])}",
              f"modules importing core: {sum(k != 'annotation' for k in g.core_importers.values())} at run time, "
              f"{sum(k == 'annotation' for k in g.core_importers.values())} for annotations only"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(picture(build()))
