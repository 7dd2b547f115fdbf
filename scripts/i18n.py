"""Maintain the message catalogs: ``extract`` (code + templates -> synthguard.pot, merged into every .po) and
``compile`` (.po -> .mo, done by `make venv` at build time). Wraps Babel's own commands so the options live in
one place; `make i18n` runs extract.

    python scripts/i18n.py extract
    python scripts/i18n.py compile
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "synthguard" / "locale"
POT = LOCALE / "synthguard.pot"
LANGS = ("zh_CN",)  # English is the source language
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def error_classes() -> list[str]:
    """Every SynthGuardError subclass name: their first argument is a message template the catalogs hold."""
    names = set()
    for f in (ROOT / "src" / "synthguard").rglob("*.py"):
        names.update(re.findall(r"^class (\w+(?:Error|Refused|Denied))\(", f.read_text(encoding="utf-8"), re.M))
    return sorted(names)


def extract(pot: Path = POT) -> None:
    keywords = [a for name in error_classes() for a in ("-k", f"{name}:1")]
    subprocess.run([*PYBABEL, "extract", "-F", str(ROOT / "babel.cfg"), "--no-default-keywords", *keywords,
                    "-k", "_:1", "-k", "N_:1", "-k", "ngettext:1,2", "-k", "gettext:1", "--no-location",
                    "--sort-output", "--omit-header", "-o", str(pot), str(ROOT)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    add_cli_help(pot)


def add_cli_help(pot: Path) -> None:
    """Typer takes help texts from docstrings, which no keyword extractor sees: collect them from the command
    tree (the same walk ``synthguard.cli.command()`` translates at run time) into the template."""
    from babel.messages.pofile import read_po, write_po

    from synthguard import i18n
    from synthguard.cli import command, help_texts

    i18n.use("en")  # the source texts, whatever the machine's locale
    with pot.open("rb") as fh:
        cat = read_po(fh)
    for msg in list(cat):  # pieces of messages built with "+" or .join() are not messages of their own
        if msg.id and isinstance(msg.id, str) and (msg.id != msg.id.strip() or not re.search("[A-Za-z]", msg.id)):
            cat.delete(msg.id)
    for obj, attr in help_texts(command()):
        text = getattr(obj, attr)
        if text and text not in cat:
            cat.add(text, auto_comments=["CLI help"])
    with pot.open("wb") as fh:
        write_po(fh, cat, omit_header=True, sort_output=True, no_location=True)


def update() -> None:
    for lang in LANGS:
        po = LOCALE / lang / "LC_MESSAGES" / "synthguard.po"
        cmd = "update" if po.exists() else "init"
        args = [*PYBABEL, cmd, "-i", str(POT), "-d", str(LOCALE), "-D", "synthguard", "-l", lang]
        if cmd == "update":
            args += ["--omit-header", "--no-fuzzy-matching", "--ignore-obsolete", "--no-wrap"]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def compile_() -> None:
    # --use-fuzzy: `update --omit-header` leaves no header, which Babel reads as a fuzzy catalog; entries themselves
    # are never fuzzy (tests/test_i18n.py fails on one)
    subprocess.run([*PYBABEL, "compile", "-d", str(LOCALE), "-D", "synthguard", "--statistics", "--use-fuzzy"],
                   check=True)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "extract"
    if what == "extract":
        extract()
        update()
    elif what == "compile":
        compile_()
    else:
        raise SystemExit(__doc__)
