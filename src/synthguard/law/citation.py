"""Citations written the way each legal system writes them.

Chinese judgments cite ``《中华人民共和国民法典》第一千零一十九条第一款`` and
``《中华人民共和国刑法》第二百五十三条之一``: the full title in book-title marks, the article in Chinese
numerals, ``之一`` for an article inserted by amendment, ``第X款`` for a paragraph and ``第（X）项`` for an
item.  Pack data writes articles compactly: ``1019(1)`` is article 1019 paragraph 1, ``253-1`` the inserted
article 253-1, ``2(1)[5]`` paragraph 1 item 5 and ``42[2]`` item 2 of an article without paragraphs.  Hong
Kong, EU and US provisions keep Arabic numerals (``第16A条``), as Chinese translations of them do.  Instrument
names come from ``templates/instruments.yaml`` (English short name -> full Chinese title), so a cite string
such as ``Criminal Law art. 87`` renders in either language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

DIGITS = "零一二三四五六七八九"
_ARTICLE = re.compile(r"^(?P<num>\d+)(?:-(?P<ins>\d+))?(?P<rest>(?:\(\d+\)|\[\d+\])*)$")
_GROUP = re.compile(r"\((\d+)\)|\[(\d+)\]")
_USC = re.compile(r"(\d+) U\.S\.C\. (\d+)(.*)")
_REF = re.compile(r"^(?P<name>.+?) (?P<kind>arts?\.|secs?\.|s\.) (?P<arts>.+)$")


def cn_number(n: int) -> str:
    """1019 -> 一千零一十九, 12 -> 十二, 253 -> 二百五十三 (the form statutes and judgments use)."""
    if n < 0 or n >= 100000:
        raise ValueError(n)
    if n < 10:
        return DIGITS[n]
    if n < 20:
        return "十" + (DIGITS[n % 10] if n % 10 else "")
    out, zero = "", False
    for value, unit in ((10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            out += ("零" if zero and out else "") + DIGITS[d] + unit
            zero = False
        elif out:
            zero = True
    return out


@lru_cache(maxsize=1)
def instruments() -> dict[str, dict[str, Any]]:
    """English short name -> {zh: full Chinese title, numerals: cn|arabic, bare: title already marked}."""
    data = yaml.safe_load(files("synthguard.law").joinpath("templates", "instruments.yaml").read_text(encoding="utf-8"))
    return {e["en"]: e for e in data["instruments"]}


def article_zh(article: str, numerals: str = "cn") -> str:
    """``1019(1)`` -> 第一千零一十九条第一款; with ``numerals='arabic'`` -> 第1019条第1款."""
    m = _ARTICLE.match(article.strip())
    if not m:
        return _loose_zh(article)
    num = (lambda s: cn_number(int(s))) if numerals == "cn" else str
    out = f"第{num(m['num'])}条" + (f"之{num(m['ins'])}" if m["ins"] else "")
    first = True
    for para, item in _GROUP.findall(m["rest"]):
        if para and first:
            out += f"第{num(para)}款"
        else:
            out += f"第（{num(para or item)}）项"
        first = False
    return out


def _loose_zh(article: str) -> str:
    """Forms the compact grammar does not cover: ``s.16A`` -> 第16A条; ``5.2-5.4`` -> 第5.2条至第5.4条."""
    a = article.strip()
    if a.startswith("s."):
        return f"第{a[2:]}条"
    if re.fullmatch(r"[\d.]+-[\d.]+", a):
        lo, hi = a.split("-")
        return f"第{lo}条至第{hi}条"
    if a.startswith("Recital "):
        return f"鉴于条款第{a.split()[1]}条"
    sec = _USC.fullmatch(a)
    if sec:
        return f"《美国法典》第{sec[1]}编第{sec[2]}节" + sec[3].strip().replace("(as amended)", "（经修正）")
    return a


def article_en(article: str) -> str:
    return article.replace("[", "(").replace("]", ")")


def instrument_zh(name_en: str, fallback: str | None = None) -> tuple[str, str]:
    """(``《full title》``, numeral style) for an English short name; unknown names keep ``fallback``."""
    e = instruments().get(name_en)
    if e:
        return (e["zh"] if e.get("bare") else f"《{e['zh']}》"), e.get("numerals", "cn")
    return (fallback or name_en), "arabic"


def render(name_en: str, name_zh: str | None, article: str, lang: str) -> str:
    """One provision: ``Civil Code art. 1019(1)`` / ``《中华人民共和国民法典》第一千零一十九条第一款``."""
    return "".join(parts(name_en, name_zh, article, lang))


def parts(name_en: str, name_zh: str | None, article: str, lang: str) -> tuple[str, str]:
    """(instrument title, article) as rendered, so that several articles of one instrument can share the title."""
    if lang == "zh":
        if _USC.match(article):
            return "", _loose_zh(article)
        title, numerals = instrument_zh(name_en, name_zh)
        return title, article_zh(article, numerals)
    if _USC.match(article):
        return "", article
    if article[:1].isdigit():
        return name_en, f" art. {article_en(article)}"
    return name_en, f" {article}"


def render_ref(ref: str | Mapping[Any, str] | None, lang: str) -> str:
    """A cite written as text in the packs (``Criminal Law art. 87``, ``Civil Code arts. 995, 196``).

    A ``{en, zh}`` mapping is taken as written (for references the grammar cannot express)."""
    if ref is None:
        return ""
    if isinstance(ref, Mapping):
        return ref.get(lang) or ref.get("en") or ""
    if lang != "zh":
        return article_en(ref)
    m = _REF.match(ref)
    if not m:
        title, _ = instrument_zh(ref)
        return title
    title, numerals = instrument_zh(m["name"])
    if m["kind"].startswith(("sec", "s.")):
        return title + "、".join(f"第{a.strip()}节" for a in m["arts"].split(","))
    return title + "、".join(article_zh(a, numerals) for a in m["arts"].split(","))
