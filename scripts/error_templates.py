"""Codemod: ``raise XError(f"... {expr} ...")`` -> ``raise XError("... {name} ...", values={"name": expr})``.

Error messages become catalog templates (one entry per message, not per value) that SynthGuardError translates
before filling; the English text of ``exc.message`` is unchanged. Run on files or folders; idempotent.

    python scripts/error_templates.py src/synthguard/ledger src/synthguard/keys.py
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import synthguard.errors as errors_module

ERRORS = {n for n, c in vars(errors_module).items() if isinstance(c, type) and issubclass(c, Exception)}


def _name(expr: ast.expr, used: set[str]) -> str:
    base = "value"
    if isinstance(expr, ast.Name):
        base = expr.id
    elif isinstance(expr, ast.Attribute):
        base = expr.attr
    elif isinstance(expr, ast.Call):
        f = expr.func
        base = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else "value"
        if base in ("len", "str", "repr", "type", "int", "float", "round", "sorted", "list", "join"):
            inner = expr.args[0] if expr.args else None
            if base == "join" and isinstance(f, ast.Attribute):
                inner = expr.args[0] if expr.args else None
            base = (_name(inner, set()) if inner is not None else "value") + ("_count" if base == "len" else "")
    elif isinstance(expr, ast.Subscript):
        base = _name(expr.value, set())
        if isinstance(expr.slice, ast.Constant) and isinstance(expr.slice.value, str):
            base = expr.slice.value
    base = re.sub(r"\W", "_", base).strip("_").lower() or "value"
    if base[0].isdigit():
        base = "v" + base
    name, i = base, 2
    while name in used:
        name, i = f"{base}{i}", i + 1
    used.add(name)
    return name


def convert(source: str) -> tuple[str, int]:
    tree = ast.parse(source)
    edits: list[tuple[int, int, str]] = []
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def pos(lineno: int, col: int) -> int:
        return offsets[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.JoinedStr)):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name not in ERRORS or any(k.arg == "values" for k in node.keywords):
            continue
        js = node.args[0]
        used: set[str] = set()
        parts, values = [], []
        for v in js.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value).replace("{", "{{").replace("}", "}}"))
            else:
                assert isinstance(v, ast.FormattedValue)
                key = _name(v.value, used)
                conv = {-1: "", 115: "!s", 114: "!r", 97: "!a"}[v.conversion]
                spec = ""
                if v.format_spec is not None:
                    spec = ":" + "".join(str(c.value) for c in v.format_spec.values if isinstance(c, ast.Constant))
                    if any(not isinstance(c, ast.Constant) for c in v.format_spec.values):
                        break  # a computed format spec: leave this call alone
                parts.append("{" + key + conv + spec + "}")
                values.append((key, ast.get_source_segment(source, v.value)))
        else:
            template = "".join(parts)
            literal = repr(template)
            if '"' not in template:
                literal = '"' + template.replace("\\", "\\\\").replace("\n", "\\n") + '"'
            vals = ", ".join(f'"{k}": {src}' for k, src in values)
            start = pos(js.lineno, js.col_offset)
            end = pos(js.end_lineno, js.end_col_offset)
            line_start = offsets[js.lineno - 1]
            line_end = offsets[js.end_lineno]
            one_line = source[line_start:start] + f"{literal}, values={{{vals}}}" + source[end:line_end].rstrip("\n")
            sep = ", " if len(one_line) <= 120 else ",\n" + " " * js.col_offset
            edits.append((start, end, f"{literal}{sep}values={{{vals}}}"))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source, len(edits)


def main(paths: list[str]) -> None:
    total = 0
    for p in paths:
        for f in ([Path(p)] if p.endswith(".py") else sorted(Path(p).rglob("*.py"))):
            src = f.read_text(encoding="utf-8")
            new, n = convert(src)
            if n:
                ast.parse(new)  # never write a file that does not parse
                f.write_text(new, encoding="utf-8")
                total += n
                print(f"{f}: {n}")
    print(f"{total} error messages converted")


if __name__ == "__main__":
    main(sys.argv[1:])
