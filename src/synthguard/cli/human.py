"""Human output for an 80-column terminal (issue 22): no Python reprs, values never cut.

A dict becomes aligned ``key  value`` lines, nested dicts and lists indent under their key, a list of rows
becomes a table when it fits the width and a block per row when it does not.  A value that does not fit on its
line moves to the next one, whole, so a hash or a path can be double-clicked and copied; prose wraps between
words.  Widths count CJK characters as two columns.  ``--json`` output is not touched.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from typing import Any

from synthguard.fields import KEY_LABELS, NONE, scalar
from synthguard.i18n import _, current, translate

INDENT = 2
def width() -> int:
    cols = shutil.get_terminal_size((80, 24)).columns if "COLUMNS" not in os.environ else int(os.environ["COLUMNS"])
    return max(40, min(cols, 120))


def cells(text: str) -> int:
    """Display width: East Asian wide and full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap(text: str, avail: int) -> list[str]:
    """Lines of at most ``avail`` cells, broken only between words (a long token stays whole on its own line)."""
    out: list[str] = []
    for para in text.splitlines() or [""]:
        words, line = para.split(" "), ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if cells(candidate) <= avail or not line:
                line = candidate
            else:
                out.append(line)
                line = word
        out.append(line)
    return out


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def block(data: dict[str, Any], indent: int = 0, labels: dict[str, str] | None = None) -> list[str]:
    """``key  value`` lines for a dict; nested values indent below their key."""
    labels = labels or {}
    names = {k: translate(labels[k]) if k in labels else str(k) for k in data}
    key_w = min(max((cells(n) for n in names.values()), default=0), 22)
    start, total = indent + key_w + 2, width()
    lines: list[str] = []
    for k, v in data.items():
        head = " " * indent + names[k]
        if isinstance(v, dict) and v:
            lines.append(head)
            lines += block(v, indent + INDENT, labels)
            continue
        if _is_rows(v):
            lines.append(head)
            lines += rows(v, indent + INDENT, labels)
            continue
        if isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
            lines.append(head)
            lines += [" " * (indent + INDENT) + "- " + scalar(x) for x in v]
            continue
        text = NONE if v in ({}, [], "") else ", ".join(scalar(x) for x in v) if isinstance(v, list) else scalar(v)
        parts = _wrap(text, total - start)
        if " " not in text.strip() and cells(text) > 2 * total:  # a blob (canonical JSON, base64): --json has it
            lines.append(head + " " * max(2, start - cells(head)) + _("({n} characters; see --json)", n=len(text)))
            continue
        if " " not in text.strip() and cells(text) > total - start:  # one unbreakable value (hash, URL, path)
            lines += [head, " " * (indent + INDENT) + text]  # whole, on its own line, copyable
            continue
        if cells(names[k]) > key_w:
            lines.append(head)
            lines += [" " * start + p for p in parts]
            continue
        lines.append(head + " " * (start - cells(head)) + parts[0])
        lines += [" " * start + p for p in parts[1:]]
    return lines


def rows(items: list[dict[str, Any]], indent: int = 0, labels: dict[str, str] | None = None) -> list[str]:
    """A table when every row fits the width, else one block per row."""
    labels = labels or {}
    keys = [k for k in items[0] if all(not isinstance(r.get(k), (dict, list)) or not r.get(k) for r in items)]
    table = [[scalar(r.get(k)) for k in keys] for r in items]
    heads = [translate(labels[k]) if k in labels else str(k) for k in keys]
    widths = [max(cells(x) for x in [h, *(row[i] for row in table)]) for i, h in enumerate(heads)]
    if keys and indent + sum(widths) + 2 * (len(widths) - 1) <= width() and len(keys) == len(items[0]):
        def line(values: list[str]) -> str:
            return " " * indent + "  ".join(v + " " * (w - cells(v)) for v, w in zip(values, widths, strict=True))

        return [line(heads).rstrip(), line(["-" * w for w in widths]).rstrip(), *(line(r).rstrip() for r in table)]
    out: list[str] = []
    for n, r in enumerate(items):
        if n:
            out.append("")
        out += block(r, indent, labels)
    return out


def render(data: Any, title: str | None = None, labels: dict[str, str] | None = None) -> str:
    """The human view of ``data`` under ``title`` (translated; field names too outside English)."""
    title = translate(title) if title else title
    if labels is None and current() != "en":
        labels = KEY_LABELS
    lines = _wrap(title, width()) if title else []
    if isinstance(data, dict):
        lines += block(data, INDENT if title else 0, labels)
    elif _is_rows(data):
        lines += rows(data, INDENT if title else 0, labels)
    elif isinstance(data, list):
        lines += [scalar(x) for x in data] or [_("(none)")]
    else:
        lines.append(scalar(data))
    return "\n".join(lines)


def wrap_paragraph(text: str, indent: int = 0, hang: int = 0) -> str:
    """``text`` wrapped between words; continuation lines indented ``hang`` more (under a "fix:" label)."""
    lines = _wrap(text, width() - indent - hang)
    return "\n".join(" " * (indent + (hang if n else 0)) + line for n, line in enumerate(lines))
