"""Text documents (plain text, Markdown, docx, xlsx, pptx): decoding and the content digest.

``Media.from_bytes`` calls :func:`sniff_ooxml`, ``Media.text()`` :func:`decode_text` and ``Media.content_sha256``
:func:`content_digest`. The digest hashes the normalised body text WITHOUT our notice and metadata (NFC, LF
newlines, trailing spaces and blank edge lines dropped), so ``ReservedCode1`` computed before the metadata is
written still verifies afterwards (GB-12), and a copy stripped of notice and metadata still matches the ledger
record by content hash. Styling, images and the front matter are outside the digest: it binds the words, not the
layout.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from synthguard.codecs.text import ooxml, plain
from synthguard.codecs.text.office import body_text
from synthguard.errors import CorruptMediaError, UnsupportedMediaError

if TYPE_CHECKING:
    from synthguard.media import Media

TEXT_FORMATS = ("text", "markdown")
OFFICE_FORMATS = ("docx", "xlsx", "pptx")
DIGEST_DOMAIN = b"synthguard.text.v1\n"


def sniff_ooxml(data: bytes, name: str = "<bytes>") -> str | None:
    """docx / xlsx / pptx for a ZIP holding an OOXML package (called by ``Media.from_bytes``)."""
    return ooxml.sniff(data, name)


@dataclass(frozen=True)
class TextDoc:
    """A decoded text document: lines for plain text and Markdown, parts for OOXML, and the digest body."""

    format: str
    body: str
    plain: plain.PlainDoc | None = None
    package: ooxml.Package | None = None
    problems: tuple[str, ...] = field(default=())


def normalise(text: str) -> str:
    lines = [unicodedata.normalize("NFC", line.rstrip()) for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def decode_text(media: Media) -> TextDoc:
    """Decode fully (UTF-8, ZIP CRCs, every XML part we read), so bad input fails before anything is written."""
    if media.format in TEXT_FORMATS:
        doc = plain.decode(media.data, media.format, media.name)
        return TextDoc(media.format, normalise(doc.body()), plain=doc, problems=doc.problems)
    if media.format not in OFFICE_FORMATS:
        raise UnsupportedMediaError("{format} is not a text format", path=media.name,
                                    values={"format": media.format})
    pkg = ooxml.open_package(media.data, media.name)
    if pkg.kind != media.format:
        raise CorruptMediaError("the package is a {kind}, not a {format}", path=media.name,
                                values={"kind": pkg.kind, "format": media.format})
    try:
        body = body_text(pkg)
    except CorruptMediaError as exc:
        raise CorruptMediaError(exc.template, values=exc.values, path=media.name, hint=exc.hint) from exc
    return TextDoc(media.format, normalise(body), package=pkg)


def content_digest(media: Media) -> str:
    """SHA-256 of the normalised body text (see the module docstring): what ReservedCode1 and trace bind to."""
    return hashlib.sha256(DIGEST_DOMAIN + media.text().body.encode("utf-8")).hexdigest()
