"""How a reader recognises an explicit text notice (GB-02): any short line with an AI element and a generation
element; our own notices are that line in 【】 brackets, which the content digest leaves out (so labeling never
changes a document's digest).  Writing the notice is ``marking/text/notice.py``."""

from __future__ import annotations

import re

AI_ELEMENT = re.compile(r"人工智能|AI")
GENERATION_ELEMENT = re.compile(r"生成|合成|generated|synthesi[sz]ed", re.IGNORECASE)
MAX_NOTICE_CHARS = 80
OPEN, CLOSE = "【", "】"


def is_notice(line: str) -> bool:
    """Any short line with both GB-02 elements: how a reader recognises an explicit text label."""
    s = line.strip()
    return 0 < len(s) <= MAX_NOTICE_CHARS and bool(AI_ELEMENT.search(s)) and bool(GENERATION_ELEMENT.search(s))


def is_our_notice(line: str) -> bool:
    """A notice in our bracketed form (ours or another tool's of the same form): never duplicated, never hashed."""
    s = line.strip()
    inner = s[1:-1]
    return (s.startswith(OPEN) and s.endswith(CLOSE) and OPEN not in inner and CLOSE not in inner
            and is_notice(s))
