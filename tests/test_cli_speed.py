"""Issue 22, CLI start-up: lazy imports, one command module per run, ``--version``; the tables that make this
possible kept equal to what they mirror.  The timings themselves are measured by bench/cli.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from synthguard.cli import COMMANDS, MODULES, command, main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sqlalchemy", "alembic", "scipy", "numpy", "PIL", "rich", "pydantic_settings", "fontTools", "c2pa")


def _module_of(cmd) -> str:
    if getattr(cmd, "callback", None) is not None and cmd.callback.__module__.startswith("synthguard.cli."):
        return cmd.callback.__module__.rsplit(".", 1)[1]
    return _module_of(next(iter(cmd.commands.values())))


def test_the_command_table_names_the_module_of_every_command():
    cmd = command()
    assert {name: _module_of(c) for name, c in cmd.commands.items()} == COMMANDS
    assert set(COMMANDS.values()) == set(MODULES)


def test_each_command_alone_keeps_its_name():
    """Run in a fresh interpreter per command, so only that command's module is loaded (the lazy path)."""
    env = os.environ | {"PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    names = sorted(COMMANDS)
    code = ("import sys, io, contextlib\nfrom synthguard.cli import main\nname = sys.argv[1]\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n    rc = main([name, '--help'])\n"
            "print(rc, f'synthguard {name}' in buf.getvalue())")
    for name in names:
        out = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, env=env, timeout=120)
        assert out.stdout.split() == ["0", "True"], (name, out.stdout, out.stderr[-300:])


def test_mirrored_constants_equal_their_originals():
    from synthguard.auth import Role
    from synthguard.cli.bank import KINDS
    from synthguard.cli.serve import RoleName
    from synthguard.fingerprint import banks
    from synthguard.plugins import Plugins

    assert [r.value for r in RoleName] == [r.value for r in Role]
    assert set(KINDS) == set(banks.KINDS) == set(Plugins(load_entry_points=False).hashers.names)


def _imported(*args: str) -> set[str]:
    """Top-level packages a fresh interpreter has imported after running the CLI with ``args``."""
    code = ("import sys; from synthguard.cli import main; main(sys.argv[1:]); "
            "import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)")
    env = os.environ | {"PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_version_and_help_import_nothing_heavy():
    for args in (["--version"], ["--help"], ["label", "--help"]):
        assert not _imported(*args) & set(HEAVY), args


def test_inspect_and_hash_open_no_database(tmp_path):
    from tests.conftest import image_bytes

    f = tmp_path / "x.png"
    f.write_bytes(image_bytes("PNG", size=(64, 48)))
    for args in (["hash", str(f)], ["inspect", str(f), "--json"]):
        seen = _imported(*args)
        assert "sqlalchemy" not in seen and "alembic" not in seen and "scipy" not in seen, args


def test_version(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("synthguard ") and len(out.split()) == 2


def test_font_coverage_reader_agrees_with_fonttools():
    import glob

    import pytest
    from fontTools.ttLib import TTCollection, TTFont

    from synthguard.marking import fonts

    paths = [str(fonts.BUNDLED), *sorted(glob.glob("/usr/share/fonts/**/*.tt[fc]", recursive=True))[:6]]
    for path in paths:
        ref = TTCollection(path).fonts[0] if path.endswith(".ttc") else TTFont(path, lazy=True)
        assert fonts._cmap(path) == frozenset(ref.getBestCmap() or {}), path
    assert fonts._cmap(__file__) == frozenset()  # not a font: skipped, no exception
    with pytest.raises(Exception, match="lacks glyphs"):
        fonts.find_font("AI生成\U0001F600", configured=fonts.BUNDLED)


def test_top_level_help_is_stored_and_fresh(capsys):
    """``synthguard --help`` prints the stored overview without building the command tree (issue 22: <= 0.2 s);
    it must equal what the tree prints, in every language (regenerate: python -m synthguard.cli.help_index)."""
    from synthguard.cli import render_help, stored_help
    from synthguard.i18n import SUPPORTED

    for lang in SUPPORTED:
        assert stored_help(lang) == render_help(lang), f"stale cli/help/{lang}.txt: python -m synthguard.cli.help_index"
    assert main(["--help"]) == 0 and capsys.readouterr().out == stored_help("en")
    assert main(["--lang", "zh_CN", "-h"]) == 0 and capsys.readouterr().out == stored_help("zh_CN")
    assert not _imported("--help") & {"typer", "click", "rich"}
