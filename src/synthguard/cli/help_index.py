"""Write the stored top-level help (``cli/help/<lang>.txt``) from the real command tree, in every language.

Run after changing a command, its help text or a translation: ``python -m synthguard.cli.help_index``;
``--check`` exits 1 when a stored text differs from what the tree prints (tests/test_cli_speed.py runs it).  Run it
in a fresh interpreter: commands list in the order their modules were first imported.
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


def stale() -> list[str]:
    return [lang for lang in SUPPORTED if (HELP_DIR / f"{lang}.txt").read_text(encoding="utf-8") != render_help(lang)]


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--check"]:
        bad = stale()
        print("stale: " + ", ".join(bad) if bad else "fresh")
        sys.exit(1 if bad else 0)
    for p in write():
        print(p)
