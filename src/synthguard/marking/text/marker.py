"""The text markers: ``text.notice`` (explicit label, LM-03/LM-09/GB-02) and ``text.metadata`` (implicit, LM-10).

Both are built by ``plugins.py`` through ``from_settings(settings, keys)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthguard.codecs.text import TextDoc, ooxml
from synthguard.codecs.text.notice import is_notice, is_our_notice
from synthguard.codecs.text.plain import TRAILER, PlainDoc
from synthguard.marking.base import LabelContext, Reading
from synthguard.marking.text import notice as wording
from synthguard.marking.text import office, plain
from synthguard.marking.text.metadata import TextMetadataMarker, require_writable
from synthguard.media import Media, Modality

__all__ = ["TextMetadataMarker", "TextNoticeMarker"]

if TYPE_CHECKING:
    from synthguard.config import Settings


class TextNoticeMarker:
    """Marker "text.notice": a visible notice line at the start, the end or both (LM-03, GB-02).

    ``notice`` is the rendered line (see ``notice.render``); labeling a file that already carries a bracketed
    notice at that position changes nothing, so labeling twice never duplicates it (LM-09 export copies).
    """

    name = "text.notice"
    modalities = frozenset({Modality.TEXT})

    def __init__(self, notice: str | None = None, position: str = "start") -> None:
        self.notice = notice or wording.render()
        if not is_our_notice(self.notice):
            self.notice = wording.render(self.notice, None)
        self.position = wording.check_position(position)

    @classmethod
    def from_settings(cls, settings: Settings, keys: Any) -> TextNoticeMarker:
        line = wording.render(settings.text_notice_zh, settings.text_notice_en)
        return cls(line, settings.text_notice_position)

    def spec(self) -> dict[str, str]:
        """The label spec applied, for the record (DS-19 asks to store text and position)."""
        return {"text": self.notice, "position": self.position}

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        doc = require_writable(media, self.name)
        if doc.plain is not None:
            data = plain.with_notice(doc.plain, self.notice, self.position)
        else:
            assert doc.package is not None
            changes = office.with_notice(doc.package, self.notice, self.position)
            data = ooxml.write_package(doc.package, changes) if changes else None
        return media.replace(media.data if data is None else data)

    def read(self, media: Media) -> Reading:
        """Notices at the start and the end; any short line with both GB-02 elements counts."""
        if media.modality is not Modality.TEXT:
            return Reading(self.name, found=False)
        doc: TextDoc = media.text()
        found = _plain_notices(doc.plain) if doc.plain is not None else office.notices(doc.package)  # type: ignore
        positions = [p for p in ("start", "end") if found[p]]
        texts = [t for p in positions for t in found[p]]
        data = {"text": texts[0] if texts else None, "positions": positions, "notices": texts}
        return Reading(self.name, found=bool(texts), data=data, valid=True if texts else None,
                       problems=doc.problems if not texts else ())


def _plain_notices(doc: PlainDoc) -> dict[str, list[str]]:
    lines = [x.strip() for x in doc.lines if x.strip() and not TRAILER.match(x)]
    start = [lines[0]] if lines and is_notice(lines[0]) else []
    end = [lines[-1]] if len(lines) > 1 and is_notice(lines[-1]) else []
    return {"start": start, "end": end}
