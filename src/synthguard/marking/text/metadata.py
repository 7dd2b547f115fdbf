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
from synthguard.errors import KeyMissingError, MetadataError, SynthGuardError, UnsupportedMediaError, ValidationError
from synthguard.marking import aigc
from synthguard.marking.aigc import (
    AIGCLabel,
    char_problems,
    integrity_code,
    propagator_integrity_code,
    verify_codes,
)
from synthguard.marking.base import LabelContext, Reading
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


class TextMetadataMarker:
    """Marker "text.metadata". Keys and ``producer`` behave as in ``image.metadata``'s MetadataMarker."""

    name = "text.metadata"
    modalities = frozenset({Modality.TEXT})

    def __init__(self, integrity_key: bytes | None, *, strict_chars: bool = True,
                 propagator_key: bytes | None = None, producer: str | None = None) -> None:
        self.integrity_key = aigc.check_integrity_key(integrity_key)
        self.strict_chars = strict_chars
        self.propagator_key = propagator_key
        self.producer = producer

    @classmethod
    def from_settings(cls, settings: Any, keys: Any) -> TextMetadataMarker:
        key = aigc.integrity_key_of(keys)
        return cls(key)

    # --- writing ------------------------------------------------------------------------------
    def mark(self, media: Media, ctx: LabelContext) -> Media:
        """Label ``media`` as produced by ``ctx.producer`` under ``ctx.content_id`` (LM-10, GB-11, GB-12)."""
        require_writable(media, self.name)
        if self.integrity_key is None:
            raise KeyMissingError("no integrity key: this marker can only read labels (GB-12)")
        label = AIGCLabel(
            Label=ctx.label, ContentProducer=ctx.producer, ProduceID=ctx.content_id,
            ContentPropagator=ctx.propagator or ctx.producer, PropagateID=ctx.propagate_id or ctx.content_id,
        )
        self._check_chars(label)
        label = label.with_(ReservedCode1=integrity_code(self.integrity_key, label, media.content_sha256))
        if self.propagator_key:
            label = label.with_(ReservedCode2=propagator_integrity_code(self.propagator_key, label,
                                                                        media.content_sha256))
        return self._write(media, label)

    def propagate(self, media: Media, propagator_code: str, propagate_id: str, key: bytes | None = None,
                  *, label: str | None = None) -> Media:
        """A platform's fields into the one block (GB-11, LM-17); a new block with ``label`` when there is none."""
        require_writable(media, self.name)
        blocks, _, _ = self._blocks(media)
        existing = next((lab for _, lab in self._parsed(blocks, []) if lab is not None), None)
        if existing is None:
            if label is None:
                raise MetadataError("the file has no readable AIGC label to propagate", path=media.name,
                                    hint="Pass label='1'/'2'/'3' (the platform's tier) to create one (LM-17).")
            existing = AIGCLabel(Label=label, ContentProducer="", ProduceID="")
        new = existing.with_(ContentPropagator=propagator_code, PropagateID=propagate_id, ReservedCode2="")
        self._check_chars(new)
        if key:
            new = new.with_(ReservedCode2=propagator_integrity_code(key, new, media.content_sha256))
        return self._write(media, new)

    def _check_chars(self, label: AIGCLabel) -> None:
        problems = char_problems(label, strict=self.strict_chars)
        if problems:
            raise ValidationError("; ".join(problems), hint="AIGC values must be single-byte printable codes "
                                  "(GB-10): use provider codes, not names.")

    def _write(self, media: Media, label: AIGCLabel) -> Media:
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
        blocks, count, _ = self._blocks(out)  # always read back: exactly one block, ours, same content
        if count != 1 or not blocks or AIGCLabel.parse(blocks[0][1]) != label:
            raise MetadataError("read-back after writing found {count} AIGC blocks", path=media.name,
                                values={"count": count})
        if out.content_sha256 != media.content_sha256:
            raise MetadataError("writing the metadata changed the text's content digest; nothing was written",
                                path=media.name, hint="Report this file to SynthGuard's maintainers.")
        return out

    # --- reading ------------------------------------------------------------------------------
    def _blocks(self, media: Media) -> tuple[list[tuple[str, str]], int, list[str]]:
        """(location, JSON) of every AIGC block, how many there are (GB-08), and problems found on the way."""
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
        return [(w, t) for w, t in blocks if len(t) <= MAX_AIGC_CHARS], count, problems

    @staticmethod
    def _parsed(blocks: list[tuple[str, str]], problems: list[str]) -> list[tuple[str, AIGCLabel | None]]:
        out: list[tuple[str, AIGCLabel | None]] = []
        for where, text in blocks:
            try:
                out.append((where, AIGCLabel.parse(text)))
                continue
            except MetadataError as exc:
                problems.append(f"{where}: {exc.message}")
            try:  # still show what a lenient reader sees (LM-13)
                out.append((where, AIGCLabel.parse(text, strict=False)))
            except MetadataError:
                out.append((where, None))
        return out

    def read(self, media: Media) -> Reading:
        """Find AIGC blocks, count them (GB-08), validate (GB-09, GB-10), verify ReservedCode1 (GB-12)."""
        data: dict[str, Any] = {"aigc": None, "count": 0, "integrity": "unknown", "propagator_integrity": "unknown",
                                "locations": []}
        if media.modality is not Modality.TEXT:
            return Reading(self.name, found=False, data=data)
        try:
            blocks, count, problems = self._blocks(media)
        except SynthGuardError as exc:
            return Reading(self.name, found=False, data=data, valid=False, problems=(exc.message,))
        data.update(count=count, locations=[w for w, _ in blocks])
        if not count:
            return Reading(self.name, found=False, data=data, valid=False if problems else None,
                           problems=tuple(problems))
        if count > 1:
            problems.append(f"{count} AIGC blocks found; a file must keep only one (GB-08)")
        label = next((lab for _, lab in self._parsed(blocks, problems) if lab is not None), None)
        if label is not None:
            data["aigc"] = label.to_dict()
            problems += char_problems(label, strict=self.strict_chars)
            self._verify(media, label, data, problems)
        return Reading(self.name, found=True, data=data, valid=not problems, problems=tuple(problems))

    def _verify(self, media: Media, label: AIGCLabel, data: dict[str, Any], problems: list[str]) -> None:
        verify_codes(label, lambda: media.content_sha256, integrity_key=self.integrity_key,
                     propagator_key=self.propagator_key, producer=self.producer, what="text", data=data,
                     problems=problems)

