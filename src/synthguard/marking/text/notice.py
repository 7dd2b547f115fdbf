"""The explicit text notice: its wording and how a reader recognises one (LM-03, LM-09, GB-02).

GB 45438 §5.1 (GB-02) fixes no wording: a text label needs an AI element ("人工智能" or "AI") and a generation
element ("生成" or "合成"), at the start, the end or a suitable middle position. We write one line,
``【AI生成 / AI-generated】`` by default, always in 【】 brackets: the bracketed form is how we recognise our own
notice (idempotent labeling, and the content digest leaves it out), while any short line with both elements
counts as a notice when reading third-party text.
"""

from __future__ import annotations

from typing import Literal

from synthguard.codecs.text.notice import AI_ELEMENT, CLOSE, GENERATION_ELEMENT, MAX_NOTICE_CHARS, OPEN
from synthguard.errors import ConfigError

Position = Literal["start", "end", "both"]
POSITIONS = ("start", "end", "both")
DEFAULT_ZH = "AI生成"
DEFAULT_EN = "AI-generated"


def render(zh: str | None = DEFAULT_ZH, en: str | None = DEFAULT_EN) -> str:
    """The notice line for the configured wordings; ConfigError when it would not satisfy GB-02."""
    parts = [p.strip() for p in (zh, en) if p and p.strip()]
    text = " / ".join(parts)
    hint = ("Set text_notice_zh / text_notice_en (SYNTHGUARD_TEXT_NOTICE_ZH / _EN) to a short single-line wording "
            "with an AI element and a generation element, e.g. \"AI生成\" or \"本内容由人工智能生成\" (GB-02).")
    if not text:
        raise ConfigError("the text notice wording is empty (LM-03)", hint=hint)
    if any(c in text for c in "\r\n" + OPEN + CLOSE):
        raise ConfigError("the text notice {text!r} must be one line without 【】 brackets", hint=hint,
                          values={"text": text})
    line = OPEN + text + CLOSE
    if len(line) > MAX_NOTICE_CHARS:
        raise ConfigError("the text notice is {length} characters, over {MAX_NOTICE_CHARS}", hint=hint,
                          values={"length": len(line), "MAX_NOTICE_CHARS": MAX_NOTICE_CHARS})
    if not (AI_ELEMENT.search(text) and GENERATION_ELEMENT.search(text)):
        raise ConfigError("the text notice {text!r} lacks an AI element or a generation element (GB-02)", hint=hint,
                          values={"text": text})
    return line


def check_position(position: str) -> Position:
    if position not in POSITIONS:
        raise ConfigError("text_notice_position must be one of {positions}, not {position!r}",
                          values={"positions": ", ".join(POSITIONS), "position": position})
    return position  # type: ignore[return-value]
