"""Write the stored help (``cli/help/<lang>.txt``: the top level; ``<lang>.commands.json``: every command and
subcommand, by path) from the real command tree, in every language.

Run after changing a command, its help text or a translation: ``python -m synthguard.cli.help_index``;
``--check`` exits 1 when a stored text differs from what the tree prints (tests/test_cli_speed.py runs it).  Run it
in a fresh interpreter: commands list in the order their modules were first imported.
"""

from __future__ import annotations

import json
from pathlib import Path

from synthguard.cli import render_helps
from synthguard.i18n import SUPPORTED

HELP_DIR = Path(__file__).resolve().parent / "help"


def _texts(lang: str) -> dict[Path, str]:
    """File -> content for one language."""
    helps = render_helps(lang)
    top = helps.pop("")
    return {HELP_DIR / f"{lang}.txt": top,
            HELP_DIR / f"{lang}.commands.json": json.dumps(helps, ensure_ascii=False, indent=0, sort_keys=True) + "\n"}


def write() -> list[Path]:
    HELP_DIR.mkdir(exist_ok=True)
    out = []
    for lang in SUPPORTED:
        for path, text in _texts(lang).items():
            path.write_text(text, encoding="utf-8")
            out.append(path)
    return out


def stale() -> list[str]:
    return [lang for lang in SUPPORTED
            if any(not path.is_file() or path.read_text(encoding="utf-8") != text
                   for path, text in _texts(lang).items())]


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--check"]:
        bad = stale()
        print("stale: " + ", ".join(bad) if bad else "fresh")
        sys.exit(1 if bad else 0)
    for p in write():
        print(p)
