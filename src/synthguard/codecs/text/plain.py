"""Plain text and Markdown as lines (reading): the front matter, the head, the body, the tail.

A document is ``[front matter] head body tail``: the head is the blank lines and bracketed notices before the
body, the tail the blank lines, bracketed notices and ``AIGC:`` trailer lines after it. The body is what the
content digest hashes, so adding or removing our notice or metadata never changes it.  Writing the notice and the
metadata is ``marking/text/plain.py``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from synthguard.codecs.text import frontmatter
from synthguard.codecs.text.notice import is_our_notice
from synthguard.errors import CorruptMediaError, MetadataError, UnsupportedMediaError

TRAILER = re.compile(r"^[ \t]*AIGC[ \t]*[:=][ \t]*(\{.*\})[ \t]*$")
MAX_AIGC_CHARS = 4096


@dataclass(frozen=True)
class PlainDoc:
    format: str  # "text" or "markdown"
    raw: str  # the decoded document (no BOM)
    bom: bool
    newline: str
    front: frontmatter.FrontMatter | None  # Markdown only
    lines: tuple[str, ...]  # everything after the front matter, split on newlines, "\r" removed
    problems: tuple[str, ...] = ()

    @cached_property
    def head(self) -> int:
        """Index of the first body line."""
        i = 0
        while i < len(self.lines) and (not self.lines[i].strip() or is_our_notice(self.lines[i])):
            i += 1
        return i

    @cached_property
    def tail(self) -> int:
        """Index just after the last body line."""
        j, head = len(self.lines), self.head
        while j > head and (not self.lines[j - 1].strip() or is_our_notice(self.lines[j - 1])
                                 or TRAILER.match(self.lines[j - 1])):
            j -= 1
        return j

    def body(self) -> str:
        """The normalised body: NFC, trailing spaces and surrounding blank lines removed, LF newlines."""
        lines = [unicodedata.normalize("NFC", line.rstrip()) for line in self.lines[self.head:self.tail]]
        return "\n".join(lines)

    def trailers(self) -> list[str]:
        """JSON of every ``AIGC:`` line after the body (GB-08 counts them all; one inside the body is content)."""
        return [m.group(1) for line in self.lines[self.tail:] if (m := TRAILER.match(line))]

    def notices(self) -> dict[str, list[str]]:
        """Bracketed notices in the head and tail."""
        return {"start": [x.strip() for x in self.lines[:self.head] if is_our_notice(x)],
                "end": [x.strip() for x in self.lines[self.tail:] if is_our_notice(x)]}

    def render(self, lines: list[str] | tuple[str, ...], front: str | None = None) -> bytes:
        """Bytes of the document with other lines (and optionally another front matter block)."""
        if front is None:
            front = self.raw[: self.front.end] if self.front else ""
        if front and not front.endswith("\n"):  # a closing fence at the very end of the file
            front += self.newline
        text = front + self.newline.join(lines)
        return ("\ufeff" if self.bom else "").encode() + text.encode("utf-8")


# Formats whose first bytes look like text but that a notice line or a trailer would break.
STRUCTURED = {b"%PDF-": "PDF", b"{\\rtf": "RTF", b"<?xml": "XML", b"%!PS": "PostScript"}


def decode(data: bytes, fmt: str, name: str) -> PlainDoc:
    kind = next((k for magic, k in STRUCTURED.items() if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(magic)), None)
    if kind is not None:
        raise UnsupportedMediaError(
            "{kind} files are not labeled as plain text (a notice line would corrupt them)", path=name,
            hint="Label the document's text, or a .docx/.md export of it; PDF/XML labeling is not implemented.",
            values={"kind": kind})
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data[3 if bom else 0:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptMediaError("the text is not valid UTF-8 (byte {start})", path=name,
                                hint="Save the text as UTF-8 and retry.", values={"start": exc.start}) from exc
    if "\x00" in text:
        raise CorruptMediaError("the text contains NUL characters: it looks binary", path=name,
                                hint="Pass a UTF-8 text file.")
    newline = "\r\n" if "\r\n" in text else "\n"
    problems: tuple[str, ...] = ()
    try:
        front = frontmatter.find(text) if fmt == "markdown" else None
    except MetadataError as exc:  # an oversized block is reported and read as body text, never parsed
        front, problems = None, (exc.message,)
    rest = text[front.end:] if front else text
    lines = tuple(line[:-1] if line.endswith("\r") else line for line in rest.split("\n"))
    return PlainDoc(fmt, text, bom, newline, front, lines, problems)
