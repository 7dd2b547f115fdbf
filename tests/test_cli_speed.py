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


# One interpreter imports the CLI entry point (what a fresh `synthguard` run does first), then forks a child per
# call: each child starts from exactly that state, so what it loads is what that command alone loads, without paying
# an interpreter start-up per call (29 commands + 5 import checks used to take ~35 s of subprocess start-up).
_FORKER = """
import contextlib, io, json, os, sys
from synthguard.cli import main
for args in json.loads(sys.argv[1]):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                rc = main(args)
        except BaseException as exc:  # SystemExit included: reported, not lost
            rc = repr(exc)
        out = {"rc": rc, "stdout": buf.getvalue(), "modules": sorted({m.split('.')[0] for m in sys.modules})}
        with os.fdopen(w, "w") as f:
            json.dump(out, f, default=str)
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": status, **(json.loads(data) if data else {"rc": None})}))
"""


def _fresh_cli_runs(*calls: list[str]) -> list[dict]:
    """For each argument list: rc, stdout and the top-level packages imported, as a fresh ``synthguard`` run."""
    env = os.environ | {"PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-c", _FORKER, json.dumps(list(calls))], capture_output=True, text=True,
                          env=env, timeout=300)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) == len(calls), (proc.returncode, proc.stdout[-500:], proc.stderr[-500:])
    return [json.loads(line) for line in lines]


def test_each_command_alone_keeps_its_name():
    """Each command in its own fresh process, so only that command's module is loaded (the lazy path)."""
    names = sorted(COMMANDS)
    for name, out in zip(names, _fresh_cli_runs(*([name, "--help"] for name in names)), strict=True):
        assert (out["status"], out["rc"], f"synthguard {name}" in out["stdout"]) == (0, 0, True), (name, out)
        others = {f"synthguard.cli.{m}" for m in MODULES if m != COMMANDS[name]}
        assert "synthguard" in out["modules"] and not others & set(out["modules"]), name


def test_mirrored_constants_equal_their_originals():
    from synthguard.auth import Role
    from synthguard.cli.bank import KINDS
    from synthguard.cli.serve import RoleName
    from synthguard.fingerprint import banks
    from synthguard.plugins import Plugins

    assert [r.value for r in RoleName] == [r.value for r in Role]
    assert set(KINDS) == set(banks.KINDS) == set(Plugins(load_entry_points=False).hashers.names)


def test_version_and_help_import_nothing_heavy(tmp_path):
    from tests.conftest import image_bytes

    f = tmp_path / "x.png"
    f.write_bytes(image_bytes("PNG", size=(64, 48)))
    light = (["--version"], ["--help"], ["label", "--help"])
    no_db = (["hash", str(f)], ["inspect", str(f), "--json"])
    runs = _fresh_cli_runs(*light, *no_db)
    for args, out in zip(light, runs[:3], strict=True):
        assert out["status"] == 0 and not set(out["modules"]) & set(HEAVY), args
    for args, out in zip(no_db, runs[3:], strict=True):  # inspect and hash open no database
        seen = set(out["modules"])
        assert out["rc"] in (0, None) and "numpy" in seen, (args, out["rc"])  # they did run
        assert "sqlalchemy" not in seen and "alembic" not in seen and "scipy" not in seen, args
        if args[0] == "hash":  # the built-in plugins load by module path: hashing needs no watermark, C2PA, keys
            assert not {"cv2", "c2pa", "cryptography"} & seen, sorted(seen)


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
    from synthguard.cli import stored_help

    env = os.environ | {"PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    check = subprocess.run([sys.executable, "-m", "synthguard.cli.help_index", "--check"], capture_output=True,
                           text=True, env=env, timeout=300)  # a fresh interpreter: the command order of a real run
    assert check.returncode == 0, f"{check.stdout}{check.stderr[-500:]}: python -m synthguard.cli.help_index"
    assert main(["--help"]) == 0 and capsys.readouterr().out == stored_help("en")
    assert main(["--lang", "zh_CN", "-h"]) == 0 and capsys.readouterr().out == stored_help("zh_CN")
    assert not set(_fresh_cli_runs(["--help"])[0]["modules"]) & {"typer", "click", "rich"}


def test_image_watermark_detect_loads_no_cryptography(tmp_path, monkeypatch):
    """`watermark detect` on an image reads one secret: the ledger's and the PKI's cryptography stays unloaded."""
    from synthguard.config import Settings
    from synthguard.keys import init_keys
    from tests.conftest import image_bytes

    monkeypatch.setenv("SYNTHGUARD_HOME", str(tmp_path))
    init_keys(Settings.load())
    f = tmp_path / "x.png"
    f.write_bytes(image_bytes("PNG", size=(128, 96)))
    (out,) = _fresh_cli_runs(["watermark", "detect", str(f), "--json"])
    assert out["rc"] in (0, None) and json.loads(out["stdout"])["detected"] is False, out
    assert "cv2" in out["modules"] and "cryptography" not in out["modules"], sorted(out["modules"])
