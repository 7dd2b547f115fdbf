"""Bilingual user-facing text (zh-CN and en) with GNU gettext catalogs managed by Babel.

Source strings are English and marked with ``_()`` (translate now) or ``N_()`` (mark for extraction, translate
later, e.g. class-level defaults). ``make i18n`` extracts them from the code and templates into
``locale/synthguard.pot`` and merges the ``.po`` catalogs; the build compiles ``.mo`` files. A source checkout
without compiled catalogs still works: the ``.po`` file is compiled in memory on first use.

The language is chosen per call: explicitly (``--lang``, a user setting, ``Accept-Language`` on the web), else
``SYNTHGUARD_LANG``, else the system locale (``LC_ALL``/``LC_MESSAGES``/``LANG``), else English. Chinese terms
follow ``locale/glossary.yaml`` (official terms of the CAC rules and GB 45438, with their sources).
"""

from __future__ import annotations

import gettext as _gettext
import io
import os
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

DOMAIN = "synthguard"
DEFAULT = "en"
SUPPORTED = ("en", "zh_CN")
_current: ContextVar[str | None] = ContextVar("synthguard_lang", default=None)


def normalize(tag: str | None) -> str | None:
    """Map a language tag or POSIX locale ("zh-CN", "zh_Hans", "zh_CN.UTF-8", "en-US", "C") to a supported
    language, or None when it names none of them."""
    if not tag:
        return None
    t = tag.split(".")[0].split("@")[0].replace("-", "_").strip().lower()
    if t.startswith("zh"):
        # Traditional-script variants are not served Simplified text silently: they fall back to English
        return None if any(x in t for x in ("hant", "_tw", "_hk", "_mo")) else "zh_CN"
    if t.startswith("en") or t in ("c", "posix"):
        return "en"
    return None


class UnsupportedLanguage(ValueError):
    """A configured language (``--lang``, SYNTHGUARD_LANG, the lang setting) that has no catalog.

    A plain ValueError, so this module stays below :mod:`synthguard.errors` (which translates through it); the
    CLI reports it as a :class:`~synthguard.errors.ConfigError`."""

    def __init__(self, value: str, where: str):
        super().__init__(f"unsupported language {value!r} ({where})")
        self.value, self.where = value, where


def resolve(explicit: str | None = None, *, setting: str | None = None,
            environ: Mapping[str, str] | None = None) -> str:
    """The language for a CLI run or a library call: explicit, then SYNTHGUARD_LANG, then the setting, then the
    system locale, then English. An explicit or configured value that is not supported is an error."""
    env = os.environ if environ is None else environ
    for value, where in ((explicit, "--lang"), (env.get("SYNTHGUARD_LANG"), "SYNTHGUARD_LANG"),
                         (setting, "the lang setting")):
        if value:
            lang = normalize(value)
            if lang is None:
                raise UnsupportedLanguage(value, where)
            return lang
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(var):
            return normalize(env[var]) or DEFAULT
    return DEFAULT


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """Pick the language for a web request from its ``Accept-Language`` header (RFC 9110 q-values)."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")[:32]):  # bounded: the header is caller input
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        lang = normalize(tag) if tag != "*" else default
        if lang and q > 0:
            ranked.append((-q, i, lang))
    return sorted(ranked)[0][2] if ranked else default


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalog for ``lang``: the compiled ``.mo`` if built, else the ``.po`` compiled in memory."""
    if lang == DEFAULT:
        return _gettext.NullTranslations()  # source strings are English
    base = files("synthguard").joinpath("locale", lang, "LC_MESSAGES")
    mo, po = base.joinpath(f"{DOMAIN}.mo"), base.joinpath(f"{DOMAIN}.po")
    if mo.is_file() and not (po.is_file() and _newer(po, mo)):  # a stale .mo (edited .po) is not used
        return _gettext.GNUTranslations(io.BytesIO(mo.read_bytes()))
    if not po.is_file():
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    buf = io.BytesIO()
    write_mo(buf, read_po(io.BytesIO(po.read_bytes()), locale=lang, domain=DOMAIN))
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def _newer(a: Any, b: Any) -> bool:
    try:
        return bool(os.stat(str(a)).st_mtime > os.stat(str(b)).st_mtime)
    except OSError:  # not on a file system (zipped package): trust the compiled catalog
        return False


def current() -> str:
    """The language of the current context (set by the CLI or a web request), else resolved from the env."""
    return _current.get() or resolve()


def use(lang: str | None) -> Any:
    """Set the language for the current context (a CLI run, a request); returns a token for ``reset``."""
    return _current.set(normalize(lang) if lang else None)


def reset(token: Any) -> None:
    _current.reset(token)


def _(message: str, lang: str | None = None, **values: Any) -> str:
    """Translate ``message`` into ``lang`` (default: the current language), then fill ``{named}`` values."""
    text = translations(lang or current()).gettext(message)
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a broken translation must never hide the error: English then
        return message.format(**values)


def translate(text: str, lang: str | None = None, **values: Any) -> str:
    """Translate a message that is not a literal here (a marked constant, a policy text, a template held by an
    error): the extractor sees only literals passed to ``_``, so dynamic texts go through this name (issue 17:
    what an extractor makes of ``_(variable)`` changes between Babel releases; a lint test keeps ``_`` literal)."""
    return _(text, lang, **values)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None, **values: Any) -> str:
    text = translations(lang or current()).ngettext(singular, plural, n)
    return text.format(n=n, **values)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (class attributes, module constants)."""
    return message


# --- locale-aware formatting (Babel CLDR data) ---------------------------------------------------
def format_datetime(value: datetime, lang: str | None = None, fmt: str = "medium") -> str:
    from babel.dates import format_datetime as fd

    return fd(value, format=fmt, locale=lang or current())


def format_date(value: date, lang: str | None = None, fmt: str = "medium") -> str:
    from babel.dates import format_date as fd

    return fd(value, format=fmt, locale=lang or current())


def format_number(value: float, lang: str | None = None) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=lang or current())


def format_currency(value: float, currency: str, lang: str | None = None) -> str:
    from babel.numbers import format_currency as fc

    return fc(value, currency, locale=lang or current())


__all__ = ["DEFAULT", "DOMAIN", "N_", "SUPPORTED", "_", "current", "format_currency", "format_date",
           "format_datetime", "format_number", "negotiate", "ngettext", "normalize", "reset", "resolve", "translate",
           "translations", "use"]
