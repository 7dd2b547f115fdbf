"""Markdown YAML front matter: where the block is (reading only; ``marking/text/frontmatter.py`` reads and edits
its ``AIGC`` keys, GB-18)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from synthguard.errors import MetadataError

MAX_FRONT_MATTER = 64 * 1024  # characters; a longer block is refused, not parsed
_OPEN = re.compile(r"---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True)
class FrontMatter:
    yaml: str  # the text between the fences
    end: int  # index just after the closing fence line in the document


def find(text: str) -> FrontMatter | None:
    """The front matter block at the very start of ``text``, None when there is none."""
    m = _OPEN.match(text)
    if not m:
        return None
    close = _CLOSE.search(text, m.end(), m.end() + MAX_FRONT_MATTER + 8)
    if close is None:
        if len(text) - m.end() > MAX_FRONT_MATTER and _CLOSE.search(text, m.end()):
            raise MetadataError("the YAML front matter is longer than {MAX_FRONT_MATTER:,} characters",
                                hint="Shorten the front matter; SynthGuard refuses oversized metadata blocks.",
                                values={"MAX_FRONT_MATTER": MAX_FRONT_MATTER})
        return None  # an opening rule without a closing fence is a thematic break, not front matter
    end = close.end()
    if text.startswith("\r\n", end):
        end += 2
    elif text.startswith("\n", end):
        end += 1
    return FrontMatter(text[m.end():close.start()], end)
