"""Maintain the message catalogs: ``extract`` (code + templates -> synthguard.pot, merged into every .po) and
``compile`` (.po -> .mo, done by `make venv` at build time). Wraps Babel's own commands so the options live in
one place; `make i18n` runs extract.

    python scripts/i18n.py extract
    python scripts/i18n.py compile
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "synthguard" / "locale"
POT = LOCALE / "synthguard.pot"
LANGS = ("zh_CN",)  # English is the source language
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def extract(pot: Path = POT) -> None:
    subprocess.run([*PYBABEL, "extract", "-F", str(ROOT / "babel.cfg"), "--no-default-keywords", "-k", "_:1", "-k", "N_:1",
                    "-k", "ngettext:1,2", "-k", "gettext:1", "--no-location",
                    "--sort-output", "--omit-header", "-o", str(pot), str(ROOT)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def update() -> None:
    for lang in LANGS:
        po = LOCALE / lang / "LC_MESSAGES" / "synthguard.po"
        cmd = "update" if po.exists() else "init"
        args = [*PYBABEL, cmd, "-i", str(POT), "-d", str(LOCALE), "-D", "synthguard", "-l", lang]
        if cmd == "update":
            args += ["--omit-header", "--no-fuzzy-matching", "--ignore-obsolete"]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def compile_() -> None:
    subprocess.run([*PYBABEL, "compile", "-d", str(LOCALE), "-D", "synthguard", "--statistics"], check=True)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "extract"
    if what == "extract":
        extract()
        update()
    elif what == "compile":
        compile_()
    else:
        raise SystemExit(__doc__)
