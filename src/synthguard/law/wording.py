"""How the memo words facts, elements and values in each language (``templates/labels.yaml``).

English keeps the fact paths and enum values as written in the incident file (the reader knows the format);
Chinese translates every one of them, so that a memo in Chinese reads without English words except ids.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

ROLES = ("depicted", "deceived", "actor", "platform", "provider")


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    return yaml.safe_load(files("synthguard.law").joinpath("templates", "labels.yaml").read_text(encoding="utf-8"))


def local(value: Any, lang: str) -> str:
    """Free text given as a string or as {en, zh}."""
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or next(iter(value.values()), "")
    return "" if value is None else str(value)


def fact(path: str, lang: str) -> str:
    """``content.technique`` -> 合成技术; ``actor.knowingly`` -> 行为人明知（故意）."""
    if lang != "zh":
        return path
    lab = labels()
    if path in lab["facts"]:
        return lab["facts"][path]
    head, _, tail = path.partition(".")
    if head == "assessed" and tail in lab["assessed"]:
        return lab["assessed"][tail]
    if head in ROLES and tail in lab["facts"]:
        return lab["roles_short"][head] + lab["facts"][tail]
    return path


def element(name: str, lang: str) -> str:
    return labels()["elements"].get(name, name) if lang == "zh" else name


def value(v: Any, lang: str) -> str:
    """A fact's value: numbers with separators, dates ISO, enums and booleans translated in Chinese."""
    if isinstance(v, bool):
        return ("是" if v else "否") if lang == "zh" else str(v).lower()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int | float):
        return f"{v:,}"
    if isinstance(v, date | datetime):
        return v.isoformat()
    if isinstance(v, list):
        return ("、" if lang == "zh" else ", ").join(value(x, lang) for x in v)
    if lang == "zh" and isinstance(v, str):
        return labels()["values"].get(v, v)
    return str(v)


def assessor(by: str, lang: str) -> str:
    return labels()["assessors"].get(by, by) if lang == "zh" else by


def sep(lang: str) -> tuple[str, str]:
    """(item separator, key-value separator)."""
    return ("；", "：") if lang == "zh" else ("; ", " ")
