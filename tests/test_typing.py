"""``mypy --strict`` on the composition root, the storage seam and the plugin system (issue 23, "done when").

These three are what the rest of the code is built on, so their types are held to ``--strict``; the rest of
``src`` is checked by plain ``mypy src`` (CI).  The run uses the project's mypy configuration (pyproject.toml)
with its own cache directory (``.mypy_cache/strict``, git-ignored), so it does not spoil the cache of a plain
``mypy src`` run and a second run takes a second or two instead of ~10 s cold.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[1]
STRICT = ("src/synthguard/core.py", "src/synthguard/store", "src/synthguard/plugins")


@pytest.fixture(autouse=True)
def _keep_recursion_limit():
    """mypy raises the interpreter's recursion limit and leaves it raised; later tests that expect a
    RecursionError-guarded parser to refuse deep nesting (tests/test_fuzz_structured.py) would see it pass."""
    limit = sys.getrecursionlimit()
    yield
    sys.setrecursionlimit(limit)


def test_core_store_and_plugins_pass_mypy_strict() -> None:
    cache = ROOT / ".mypy_cache" / "strict"
    out, err, status = api.run(["--strict", "--config-file", str(ROOT / "pyproject.toml"),
                                "--cache-dir", str(cache), "--no-error-summary",
                                *(str(ROOT / p) for p in STRICT)])
    assert status == 0 and not out.strip(), f"mypy --strict:\n{out}{err}"
