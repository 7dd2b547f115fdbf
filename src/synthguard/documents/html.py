"""Blocks -> one self-contained HTML page (inline CSS from the document's theme, no external resources)."""

from __future__ import annotations

import base64
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING

from synthguard.documents.blocks import BarChart, Document
from synthguard.documents.themes import THEMES

if TYPE_CHECKING:
    from jinja2 import Template


def html_lang(lang: str) -> str:
    """The ``lang`` attribute of the page: zh-CN for any Chinese, else English (the two report languages)."""
    return "zh-CN" if (lang or "").startswith("zh") else "en"


def svg(chart: BarChart) -> str:
    """A horizontal bar chart as inline SVG (no plotting library, renders in any browser)."""
    width, row = 560, 22
    top = max([bar.value for bar in chart.bars] or [1]) or 1
    h = row * max(len(chart.bars), 1) + 30
    color = "#{:02x}{:02x}{:02x}".format(*chart.color)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img" '
             f'aria-label="{escape(chart.title)}">',
             f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(chart.title)}</text>']
    for i, bar in enumerate(chart.bars):
        y = 24 + i * row
        w = int(300 * bar.value / top)
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(bar.label)}</text>'
                     f'<rect x="200" y="{y + 2}" width="{w}" height="{row - 6}" fill="{color}"/>'
                     f'<text x="{205 + w}" y="{y + 14}" font-size="12">{escape(bar.shown)}</text>')
    return "".join(parts) + "</svg>"  # every text in it is escaped: the template marks it safe


@lru_cache(maxsize=1)
def _template() -> Template:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("synthguard.documents", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(svg=svg, base64=lambda data: base64.b64encode(data).decode("ascii"))
    return env.get_template("document.html.j2")


def render_html(doc: Document) -> str:
    css = THEMES[doc.theme].stylesheet()  # our own package file: the template marks it safe
    return str(_template().render(doc=doc, css=css, html_lang=html_lang(doc.lang)))


__all__ = ["html_lang", "render_html", "svg"]
