"""Plain text and Markdown: where the notice and the metadata go (reading is ``codecs/text/plain.py``).

Plain text has no metadata container (the TC260 text guide's TXT rules were not read, GB-18): we write the
Annex E JSON as the last line, ``AIGC: {...}``. It is machine-readable but visible, and it changes the file's
bytes; formats with a schema (CSV, JSON, code) sniffed as text get it too, so providers of such output should
label them as data, not as text.
"""

from __future__ import annotations

from synthguard.codecs.text.plain import TRAILER, PlainDoc
from synthguard.marking.text import frontmatter


def with_notice(doc: PlainDoc, notice: str, position: str) -> bytes | None:
    """The document with ``notice`` at the start and/or end (before any trailer); None when already there."""
    have = doc.notices()
    if doc.head == doc.tail:  # no body: head and tail are the same lines, one notice serves both ends
        have["end"] = have["start"] = have["start"] + have["end"]
    lines = list(doc.lines)
    changed = False
    if position in ("end", "both") and not have["end"]:
        lines[doc.tail:doc.tail] = ["", notice]  # after the body, before any trailer and the final newline
        changed = True
    if position in ("start", "both") and not have["start"]:
        lines[0:0] = [notice, ""]
        changed = True
    return doc.render(lines) if changed else None


def _without_trailers(doc: PlainDoc) -> list[str]:
    """The lines minus every ``AIGC:`` line after the body (one inside the body is content)."""
    return list(doc.lines[:doc.tail]) + [line for line in doc.lines[doc.tail:] if not TRAILER.match(line)]


def with_trailer(doc: PlainDoc, aigc_json: str) -> bytes:
    """Plain text: every ``AIGC:`` line after the body removed, ours appended as the last line."""
    lines = _without_trailers(doc)
    final_newline = bool(lines) and lines[-1] == ""
    while lines and not lines[-1].strip():
        lines.pop()
    lines += ["", f"AIGC: {aigc_json}"] + ([""] if final_newline else [])
    return doc.render(lines)


def with_front_matter(doc: PlainDoc, label: dict[str, str]) -> bytes:
    """Markdown: the one AIGC mapping in the front matter (created when the file has none); trailers removed."""
    return doc.render(_without_trailers(doc), frontmatter.with_aigc(doc.front, label, doc.newline))
