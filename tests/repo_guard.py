"""The suite reads nothing beside the repository: a clone has no sibling folders (issue 17).

An audit hook sees every ``open()`` in the test process; a path inside the repository's parent folder but outside
the repository (a sibling data folder and the like) is recorded, and the session fails at its end if any was.
Temporary folders and the Python installation (a venv may sit beside the clone) are exempt.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PARENT = os.path.realpath(ROOT.parent) + os.sep
_INSIDE = os.path.realpath(ROOT) + os.sep
# Exempt only what lies *inside* the repository's parent folder: a clone under /tmp/x must still catch a sibling
# /tmp/x/data, while test temp folders (/tmp/pytest-of-...) are not beside the clone anyway.
_EXEMPT = tuple(d for d in {os.path.realpath(d) + os.sep for d in (tempfile.gettempdir(), sys.prefix, sys.base_prefix)}
                if d.startswith(_PARENT))
violations: list[str] = []


def outside(path: str) -> bool:
    """True for a path beside the repository (in its parent folder, not in the repository or the temp folder)."""
    full = os.path.realpath(os.path.join(os.getcwd(), path))
    if not full.startswith(_PARENT) or (full + os.sep).startswith(_INSIDE) or full.startswith(_EXEMPT):
        return False
    # hidden folders beside the clone are tool caches and settings (a clone in $HOME sits beside ~/.cache), not data
    return not full[len(_PARENT):].startswith(".")


def _hook(event: str, args: tuple) -> None:
    if event == "open" and args and isinstance(args[0], str | bytes | os.PathLike):
        path = os.fsdecode(args[0])
        if outside(path):
            violations.append(path)


_installed: list[bool] = []


def install() -> None:
    """Add the hook once (conftest is imported twice: by pytest, and as ``tests.conftest`` by test modules)."""
    if not _installed:
        sys.addaudithook(_hook)
        _installed.append(True)
