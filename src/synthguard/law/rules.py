"""Rule packs: one YAML file per instrument (``packs/<jurisdiction>/<instrument>.yaml``).

Each file holds the instrument (titles, in-force and repeal dates, status law/proposed), its dated parameters
(OpenFisca style: the value in force on the incident date is used) and its rules.  Every rule cites at least
one article and carries a confidence; rules whose source row is tagged [M] or (?) say ``unverified``.
Loading validates the whole pack strictly, so a typo in a rule file fails with the file and rule named.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from synthguard.errors import ValidationError
from synthguard.law import citation

Text = dict[Literal["en", "zh"], str]
Confidence = Literal["verified", "secondary", "unverified"]


def text(t: dict[Any, str] | None, lang: str) -> str:
    """A zh/en text in ``lang``, falling back to English."""
    return (t.get(lang) or t.get("en") or "") if t else ""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cite(_M):
    article: str
    instrument: Text | str | None = None  # defaults to the pack's instrument
    confidence: Confidence = "verified"
    url: str | None = None
    valid_from: date | None = None  # a dated version of the article (amendments renumber and rewrite articles)
    valid_to: date | None = None

    def in_force(self, on: date | None) -> bool:
        return on is None or ((self.valid_from is None or on >= self.valid_from) and
                              (self.valid_to is None or on <= self.valid_to))

    def render(self, default: Instrument, lang: str) -> str:
        """As judgments cite it: ``Civil Code art. 1019(1)`` / ``《中华人民共和国民法典》第一千零一十九条第一款``."""
        return "".join(self.parts(default, lang))

    def parts(self, default: Instrument, lang: str) -> tuple[str, str]:
        inst = self.instrument
        if isinstance(inst, dict):
            return citation.parts(inst["en"], inst.get("zh"), self.article, lang)
        return citation.parts(inst or default.short["en"], default.short.get("zh"), self.article, lang)


Ref = str | Text  # a cite written as text (``Criminal Law art. 87``), or {en, zh} where the grammar cannot express it


class Instrument(_M):
    id: str
    title: Text
    short: Text
    jurisdiction: Literal["CN", "HK", "EU", "US"]
    in_force: date
    repealed: date | None = None
    status: Literal["law", "proposed"] = "law"
    url: str | None = None


class Param(_M):
    description: str
    unit: str | None = None
    cite: Ref
    confidence: Confidence = "verified"
    values: dict[date, float | None]


class Band(_M):
    name: str
    title: Text
    when: dict[str, Any]
    max_years: float | None = None   # statutory maximum (drives CL 87 prosecution limits)
    penalty: Text | None = None
    fine: dict[str, Any] | None = None  # {min|max|pct_turnover: number or {param: ...}}


class Aggravator(_M):
    """A circumstance that weighs on the sentence; ``advisory`` when no provision lists it (CL 61 discretion)."""

    id: str
    title: Text
    when: dict[str, Any]
    cite: Ref | None = None
    advisory: bool = False


class Deadline(_M):
    id: str
    title: Text
    period: dict[Literal["years", "months", "days", "hours"], float] | None = None  # None = no limitation
    start: str | None = None       # fact path the period runs from
    from_band: bool = False        # prosecution limit from the band's max_years (CL 87)
    when: dict[str, Any] | None = None  # shown unless this condition is definitely false
    cite: Ref


class Rule(_M):
    id: str
    title: Text
    kind: Literal["provision", "predicate", "exception"] = "provision"
    domain: Literal["civil", "administrative", "criminal", "regulatory", "procedure"]
    cites: list[Cite] = Field(min_length=1)
    confidence: Confidence
    requirements: list[str] = []      # REQUIREMENTS.md row ids
    valid_from: date | None = None    # defaults to the instrument's in_force
    valid_to: date | None = None      # defaults to the day before its repeal
    scope: dict[str, Any] | None = None
    elements: dict[str, dict[str, Any]] = Field(min_length=1)
    exception_to: list[str] = []
    bands: list[Band] = []
    aggravators: list[Aggravator] = []
    mitigators: list[Aggravator] = []
    remedies: list[str] = []
    fine: dict[str, Any] | None = None
    deadlines: list[Deadline] = []
    note: Text | None = None
    issue: Text | None = None         # the question as a lawyer frames it in the memo
    instrument: Instrument | None = None  # filled by the loader

    def in_force(self, on: date) -> bool:
        assert self.instrument is not None
        if self.instrument.status != "law":
            return False
        if on < (self.valid_from or self.instrument.in_force):
            return False
        if self.valid_to is not None:
            return on <= self.valid_to
        return self.instrument.repealed is None or on < self.instrument.repealed

    def cites_on(self, on: date | None) -> list[Cite]:
        """The versions of the cited articles in force on ``on`` (all of them if no date)."""
        return [c for c in self.cites if c.in_force(on)] or self.cites

    def citation(self, lang: str = "en", on: date | None = None) -> str:
        """All cites; in Chinese, articles of one instrument share its title, as judgments write it:
        ``《中华人民共和国民法典》第九百九十五条、第一百九十六条``."""
        assert self.instrument is not None
        parts = [c.parts(self.instrument, lang) for c in self.cites_on(on)]
        if lang != "zh":
            return "; ".join(t + a for t, a in parts)
        out: list[list[str]] = []
        for title, article in parts:
            if title and out and out[-1][0] == title:
                out[-1].append(article)
            else:
                out.append([title, article])
        return "；".join(group[0] + "、".join(group[1:]) for group in out)

    def confidence_on(self, on: date | None) -> Confidence:
        """The weakest of the rule's own confidence and that of the article versions in force on ``on``."""
        order = ["unverified", "secondary", "verified"]
        return min([self.confidence, *(c.confidence for c in self.cites_on(on))], key=order.index)


class Pack(_M):
    instrument: Instrument
    params: dict[str, Param] = {}
    rules: list[Rule] = []


PACKS = files("synthguard.law").joinpath("packs")


def _pack_files(root: Any = PACKS) -> list[Any]:
    out = []
    for jur in sorted(root.iterdir(), key=lambda p: p.name):
        if jur.is_dir():
            out += sorted((f for f in jur.iterdir() if f.name.endswith(".yaml")), key=lambda p: p.name)
    return out


def load_pack(path: Any) -> Pack:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        pack = Pack.model_validate(data)
    except yaml.YAMLError as exc:
        raise ValidationError("rule pack is not valid YAML: {exc}", values={"exc": exc}, path=str(path)) from exc
    except PydanticError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        raise ValidationError("rule pack field {where}: {msg}",
                              values={"where": where, "msg": e['msg']}, path=str(path)) from exc
    rules = [r.model_copy(update={"instrument": pack.instrument}) for r in pack.rules]
    return pack.model_copy(update={"rules": rules})


class Library:
    """All packs: rules by id (in file order) and dated parameters."""

    def __init__(self, packs: list[Pack], overrides: dict[str, float] | None = None):
        self.packs = packs
        self.rules: dict[str, Rule] = {}
        self.params: dict[str, Param] = {}
        for p in packs:
            for name, par in p.params.items():
                if name in self.params:
                    raise ValidationError("parameter {name} defined twice", values={"name": name}, path=p.instrument.id)
                self.params[name] = par
            for r in p.rules:
                if r.id in self.rules:
                    raise ValidationError("rule {id} defined twice", values={"id": r.id}, path=p.instrument.id)
                self.rules[r.id] = r
        self.overrides = dict(overrides or {})
        unknown = set(self.overrides) - set(self.params)
        if unknown:
            raise ValidationError("unknown parameter(s) to override: {unknown}",
                                  values={"unknown": ', '.join(sorted(unknown))},
                                  hint="Use names from the packs' params sections.")
        for rule in self.rules.values():
            for target in rule.exception_to:
                if target not in self.rules:
                    raise ValidationError("rule {id} is an exception to unknown rule {target}",
                                          values={"id": rule.id, "target": target})

    def param(self, name: str, on: date) -> tuple[float | None, dict[str, str]]:
        """The value in force on ``on`` (None before the first) and its citation in both languages."""
        par = self.params.get(name)
        if par is None:
            raise ValidationError("unknown parameter {name}", values={"name": name})
        cite = {lang: citation.render_ref(par.cite, lang) for lang in ("en", "zh")}
        if name in self.overrides:
            return self.overrides[name], {"en": cite["en"] + " (overridden)", "zh": cite["zh"] + "（已按参数文件替换）"}
        dated = [d for d in par.values if d <= on]
        return (par.values[max(dated)] if dated else None), cite

    def exceptions_to(self, rule_id: str) -> list[Rule]:
        return [r for r in self.rules.values() if rule_id in r.exception_to]


@lru_cache(maxsize=4)
def _default(overrides: tuple[tuple[str, float], ...] = ()) -> Library:
    return Library([load_pack(f) for f in _pack_files()], dict(overrides))


def library(overrides: dict[str, float] | None = None, root: Path | None = None) -> Library:
    """The shipped packs (cached), or the packs under ``root``; ``overrides`` replaces parameter values."""
    if root is not None:
        return Library([load_pack(f) for f in _pack_files(root)], overrides)
    return _default(tuple(sorted((overrides or {}).items())))
