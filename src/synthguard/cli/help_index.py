"""Write the stored top-level help (``cli/help/<lang>.txt``) from the real command tree, in every language.

Run after changing a command, its help text or a translation: ``python -m synthguard.cli.help_index``
(tests/test_cli_speed.py fails while the stored text differs from what the tree prints).
"""

from __future__ import annotations

from pathlib import Path

from synthguard.cli import render_help
from synthguard.i18n import SUPPORTED

HELP_DIR = Path(__file__).resolve().parent / "help"


def write() -> list[Path]:
    HELP_DIR.mkdir(exist_ok=True)
    out = []
    for lang in SUPPORTED:
        path = HELP_DIR / f"{lang}.txt"
        path.write_text(render_help(lang), encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":
    for p in write():
        print(p)
