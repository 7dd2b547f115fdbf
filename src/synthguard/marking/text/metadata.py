"""``text.metadata``: the implicit GB 45438 Annex E label for text documents (LM-10, GB-08..GB-12, GB-18).

Where the AIGC JSON goes: docx/xlsx/pptx custom property ``AIGC`` in ``docProps/custom.xml`` (``vt:lpwstr``);
Markdown a top-level ``AIGC:`` mapping in the YAML front matter; plain text, which has no metadata container,
a last line ``AIGC: {...}`` (see ``plain``). Exactly one block is kept (GB-08); on first write the propagator
fields repeat the producer's (GB-11); ``ReservedCode1`` is the keyed code over the label and the content digest
(GB-12), so it still verifies after the notice and the metadata are written, and fails when the words change.
"""

from __future__ import annotations

from typing import Any

from synthguard.codecs.text import TextDoc, ooxml
from synthguard.codecs.text.plain import MAX_AIGC_CHARS
from synthguard.errors import MetadataError, UnsupportedMediaError
from synthguard.marking import aigc
from synthguard.marking.aigc import AIGCLabel
from synthguard.marking.aigc_marker import AIGCMetadataMarker, Blocks
from synthguard.marking.text import customprops, frontmatter, plain
from synthguard.media import Media, Modality

MACRO_HINT = "Save the document without macros (.docx/.xlsx/.pptx) and label that copy."


def require_writable(media: Media, marker: str) -> TextDoc:
    """The decoded document, refusing what a text marker must not rewrite: other modalities and macro-enabled
    packages (we never rewrite files that carry executable VBA; inspecting them still works)."""
    if media.modality is not Modality.TEXT:
        raise UnsupportedMediaError("{marker} labels text documents, not {mime}", path=media.name,
                                    values={"marker": marker, "mime": media.mime})
    doc: TextDoc = media.text()
    if doc.package is not None and doc.package.macros:
        raise UnsupportedMediaError("macro-enabled office documents are not labeled (the package carries VBA)",
                                    path=media.name, hint=MACRO_HINT)
    if doc.problems:  # e.g. an oversized front matter: neither the notice nor the metadata can be placed safely
        raise MetadataError(doc.problems[0], path=media.name, hint="Shorten or fix the front matter and retry.")
    return doc


class TextAIGCCodec:
    """docx/xlsx/pptx custom property, Markdown front matter, plain-text trailer (module docstring). Writing never
    changes the normalised text, so ``ReservedCode1`` over the content digest verifies after it (GB-12)."""

    modality = Modality.TEXT
    what = "text"

    def handles(self, media: Media) -> bool:
        return media.modality is Modality.TEXT

    def check_writable(self, media: Media) -> None:
        require_writable(media, "text.metadata")

    def write(self, media: Media, label: AIGCLabel, digital_source_type: str | None) -> Media:
        doc: TextDoc = media.text()
        if doc.plain is not None and doc.plain.format == "text":
            data = plain.with_trailer(doc.plain, label.to_json())
        elif doc.plain is not None:
            try:
                data = plain.with_front_matter(doc.plain, label.to_dict())
            except MetadataError as exc:
                raise MetadataError(exc.template, values=exc.values, path=media.name, hint=exc.hint) from exc
        else:
            assert doc.package is not None
            data = ooxml.write_package(doc.package, customprops.with_aigc(doc.package, label.to_json()))
        out = media.replace(data)
        if out.content_sha256 != media.content_sha256:
            raise MetadataError("writing the metadata changed the text's content digest; nothing was written",
                                path=media.name, hint="Report this file to SynthGuard's maintainers.")
        return out

    def blocks(self, media: Media) -> Blocks:
        """Every AIGC block; front-matter ``AIGC`` keys count even when the YAML cannot be loaded (GB-08)."""
        doc: TextDoc = media.text()
        problems = list(doc.problems)
        blocks: list[tuple[str, str]] = []
        count = 0
        if doc.plain is not None:
            if doc.plain.front is not None:
                keys = frontmatter.aigc_key_count(doc.plain.front)
                count += keys
                try:
                    fm = frontmatter.load(doc.plain.front)
                    if "AIGC" in fm:
                        blocks.append(("front-matter", frontmatter.aigc_json(fm["AIGC"])))
                except MetadataError as exc:
                    problems.append(exc.message)
            trailers = doc.plain.trailers()
            blocks += [("trailer", t) for t in trailers]
            count += len(trailers)
        else:
            assert doc.package is not None
            values = customprops.aigc_properties(doc.package)
            blocks += [(customprops.custom_part(doc.package), v) for v in values]
            count += len(values)
        for where, text in blocks:
            if len(text) > MAX_AIGC_CHARS:
                problems.append(f"{where}: AIGC value is {len(text):,} characters, over the "
                                f"{MAX_AIGC_CHARS:,} limit; not parsed")
        return Blocks([(w, t) for w, t in blocks if len(t) <= MAX_AIGC_CHARS], count, None, problems)


class TextMetadataMarker(AIGCMetadataMarker):
    """Marker "text.metadata": :class:`AIGCMetadataMarker` over :class:`TextAIGCCodec`."""

    def __init__(self, integrity_key: bytes | None, *, strict_chars: bool = True,
                 propagator_key: bytes | None = None, producer: str | None = None) -> None:
        super().__init__(TextAIGCCodec(), integrity_key, strict_chars=strict_chars, propagator_key=propagator_key,
                         producer=producer)

    @classmethod
    def from_settings(cls, settings: Any, keys: Any) -> TextMetadataMarker:
        return cls(aigc.integrity_key_of(keys))
