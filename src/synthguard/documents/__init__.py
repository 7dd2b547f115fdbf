"""Documents: one block model rendered as Markdown, HTML and PDF (issue 23, step 5).

The legal memo (``law/report.py``), the compliance reports (``compliance/report.py``), the evidence report
(``evidence/report.py``) and the moderation report (``moderation/reports.py``) each build a :class:`Document` of
typed blocks (:mod:`.blocks`); :func:`render_markdown`, :func:`render_html` and :func:`render_pdf` turn it into a
file.  The look of each kind of document is a theme (:mod:`.themes`); the PDF font and the handling of glyphs a
font lacks are in :mod:`.fonts`, for every document alike (GB-03: never tofu boxes).
"""

from __future__ import annotations

from synthguard.documents.blocks import (
                                         Bar,
                                         BarChart,
                                         Block,
                                         Box,
                                         BulletList,
                                         Document,
                                         Heading,
                                         Image,
                                         KeyValues,
                                         Note,
                                         PageBreak,
                                         Paragraph,
                                         Status,
                                         Table,
                                         texts,
                                         walk,
)
from synthguard.documents.html import render_html
from synthguard.documents.markdown import render_markdown
from synthguard.documents.pdf import render_pdf

__all__ = ["Bar", "BarChart", "Block", "Box", "BulletList", "Document", "Heading", "Image", "KeyValues", "Note",
           "PageBreak", "Paragraph", "Status", "Table", "render_html", "render_markdown", "render_pdf", "texts",
           "walk"]
