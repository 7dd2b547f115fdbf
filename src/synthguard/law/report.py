"""The assessment as a lawyer's memo: facts, issues, findings with citations and reasoning, what is missing.

One view model (a list of :mod:`synthguard.documents` blocks) rendered three ways: Markdown, HTML (self-contained)
and PDF (with a font that has every CJK character, :mod:`synthguard.documents.fonts`).  Vocabulary is data
(``templates/texts.yaml``); rule titles and citations come from the packs, in Chinese or English.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from synthguard import documents
from synthguard.documents import Block, BulletList, Document, Heading, KeyValues, Note, Paragraph
from synthguard.errors import ValidationError
from synthguard.law import wording as w

ENGAGED = ("met", "undetermined", "defeated")


@lru_cache(maxsize=1)
def texts() -> dict[str, Any]:
    return yaml.safe_load(files("synthguard.law").joinpath("templates", "texts.yaml").read_text(encoding="utf-8"))


def _t(lang: str) -> dict[str, Any]:
    if lang not in ("en", "zh"):
        raise ValidationError("unsupported report language {lang!r}",
                              values={"lang": lang}, hint="Use --lang zh or --lang en.")
    return texts()[lang]


def _tx(value: Any, lang: str) -> str:
    return (value.get(lang) or value.get("en") or "") if isinstance(value, dict) else str(value)


def blocks(a: dict[str, Any]) -> list[Block]:
    lang = a["lang"]
    t = _t(lang)
    inc = a["incident"]
    item, kv = w.sep(lang)
    out: list[Block] = [Heading(f"{t['title']}{t['colon']}{w.local(inc['title'], lang) or inc['id']}"),
                        KeyValues([(t["incident"], inc["id"]), (t["date"], inc["date"]),
                                   (t["as_of"], inc["assessed_on"]),
                                   (t["jurisdictions"], w.value(inc["jurisdictions"], lang)),
                                   (t["place"], w.value(inc.get("place") or inc["jurisdictions"][0], lang))])]
    out.append(Heading(t["facts"], 2))
    if inc.get("summary"):
        out.append(Paragraph(w.local(inc["summary"], lang)))
    out.append(Heading(t["parties"], 3))
    out.append(BulletList([f"{t['roles'][p['role']]}{t['colon']}{p['id']}" + "".join(
        f"{item}{w.fact(k, lang)}{kv}{w.value(v, lang)}" for k, v in p.items() if k not in ("id", "role"))
        for p in a["parties"]]))
    out.append(KeyValues([(w.fact(k, lang), w.value(v, lang)) for k, v in a["facts"].items()
                       if not k.endswith(".count") and k.split(".")[0] not in (*t["roles"], "assessed")]))
    if a.get("derived"):
        out.append(Paragraph(t["derived"]))
        out.append(BulletList([f"{w.fact(k, lang)}{t['colon']}{v}" for k, v in a["derived"].items()]))
    if a["assessed"]:
        out.append(Paragraph(t["assessed"]))
        out.append(BulletList([_assessed(k, v, t, lang) for k, v in a["assessed"].items()]))
    domestic = [f for f in a["findings"] if not f["comparative"]]
    comparative = [f for f in a["findings"] if f["comparative"]]
    out.append(Heading(t["issues"], 2))
    out.append(BulletList([_issue(f, t) for f in domestic + comparative if f["status"] in ENGAGED] or [t["none"]]))
    out.append(Heading(t["findings"], 2))
    for f in domestic:
        if f["status"] in ENGAGED:
            out += finding_blocks(f, t, lang)
    if not any(f["status"] in ENGAGED for f in domestic):
        out.append(Paragraph(t["none"]))
    if any(f["status"] in ENGAGED for f in comparative):
        out.append(Heading(t["comparative"], 2))
        for f in comparative:
            if f["status"] in ENGAGED:
                out += finding_blocks(f, t, lang)
    for heading, statuses in (("not_engaged", ("not_met", "not_applicable")),
                              ("not_in_force", ("not_in_force", "proposed"))):
        out.append(Heading(t[heading], 2))
        out.append(BulletList([_line(f, t) for f in a["findings"] if f["status"] in statuses] or [t["none"]]))
    out.append(Heading(t["severity"], 2))
    out.append(Paragraph(t["severity_note"]))
    out.append(KeyValues([(v["title"], t["levels"][v["level"]] + _asked(v, lang))
                       for v in a["severity"]["factors"].values()]))
    out.append(BulletList(a["severity"]["cites"]))
    out += _missing(a, t, lang)
    out += _glossary(out, lang, t)
    if inc.get("sources"):
        out.append(Heading(t["sources"], 3))
        out.append(BulletList(inc["sources"]))
    out.append(Note(a["disclaimer"]))
    return out


def _assessed(k: str, v: dict[str, Any], t: dict[str, Any], lang: str) -> str:
    """An evaluative fact with who assessed it and why."""
    who, why = w.assessor(v["by"], lang), w.local(v["basis"], lang)
    head = f"{w.fact('assessed.' + k, lang)}{t['colon']}{w.value(v['value'], lang)}"
    return f"{head}（{who}{t['colon']}{why}）" if lang == "zh" else f"{head} ({who}: {why})"


def _issue(f: dict[str, Any], t: dict[str, Any]) -> str:
    """The question as a lawyer frames it, with the provisions it turns on."""
    if f.get("issue"):
        return t["issue_cited"].format(issue=f["issue"].rstrip("。."), citation=f["citation"])
    return t["issue"].format(title=f["title"], citation=f["citation"])


def _line(f: dict[str, Any], t: dict[str, Any]) -> str:
    return t["line"].format(title=f["title"], citation=f["citation"], status=t["status"][f["status"]])


def _missing(a: dict[str, Any], t: dict[str, Any], lang: str) -> list[Block]:
    out: list[Block] = [Heading(t["missing"], 2)]
    if not a["missing_facts"]:
        return out + [Paragraph(t["missing_none"])]
    titles = {f["rule"]: f["title"] for f in a["findings"]}
    first = [m for m in a["missing_facts"] if m["group"] == "ask_first"]
    if first:
        out.append(Paragraph(t["missing_first"]))
        out.append(BulletList([f"{w.fact(m['fact'], lang)}{t['colon']}" + t["decides"].format(n=len(m["rules"]))
                           + (t["screening"] if m["screening"] else "") for m in first]))
    rest: dict[str, list[str]] = {}
    for m in a["missing_facts"][len(first):]:
        rest.setdefault(m["group"], []).append(w.fact(m["fact"], lang))
    if rest:
        out.append(Paragraph(t["missing_rest"]))
        out.append(BulletList([f"{titles.get(rid, rid)}{t['colon']}{w.value(facts, lang)}"
                               for rid, facts in rest.items()]))
    return out


def _glossary(memo: list[Block], lang: str, t: dict[str, Any]) -> list[Block]:
    """The legal terms this memo uses, each with the provision that defines or uses it (zh memos)."""
    if lang != "zh":
        return []
    body = "\n".join(documents.texts(memo))
    used = [g for g in glossary() if g["zh"] in body]
    if not used:
        return []
    return [Heading(t["glossary"], 2),
            BulletList([f"{g['zh']}{t['colon']}{g['meaning']}（{g['source']}）" for g in used])]


@lru_cache(maxsize=1)
def glossary() -> list[dict[str, str]]:
    data = files("synthguard.law").joinpath("templates", "glossary.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(data)["terms"]


def finding_blocks(f: dict[str, Any], t: dict[str, Any], lang: str) -> list[Block]:
    item = w.sep(lang)[0]
    out: list[Block] = [Heading(f"{f['title']} — {f['citation']}", 3)]
    rows = [(t["status_label"], t["status"][f["status"]])]
    if f["defeated_by"]:
        rows.append((t["defeated_by"], ", ".join(f["defeated_by"])))
    if f["band"]:
        b = f["band"]
        rows.append((t["band"], f"{_tx(b['title'], lang)}{t['colon']}{_tx(b.get('penalty') or '', lang)}"))
    if f["band_missing_facts"] and f["status"] == "met":
        rows.append((t["band_open"], w.value([w.fact(x, lang) for x in f["band_missing_facts"]], lang)))
    for key, label in (("aggravators", t["aggravators"]), ("mitigators", t["mitigators"])):
        if f.get(key):
            rows.append((label, item.join(_factor(x, t, lang) for x in f[key])))
    if f["remedies"]:
        rows.append((t["remedies"], "、".join(_tx(texts()["remedies"].get(r, r), lang) for r in f["remedies"])
                     if lang == "zh" else ", ".join(_tx(texts()["remedies"].get(r, r), lang) for r in f["remedies"])))
    fine = (f["band"] or {}).get("fine") or f["fine"]
    if fine:
        rows.append((t["fine"], item.join(f"{t['fine_keys'].get(k, k)}{t['colon']}{w.value(v, lang)}"
                                          for k, v in fine.items() if k != "cites" and v is not None)))
    if f["requirements"]:
        rows.append((t["requirements"], ", ".join(f["requirements"])))
    out.append(KeyValues(rows))
    if f["elements"]:
        out.append(Paragraph(t["elements"]))
        out.append(BulletList([f"{w.element(name, lang)}{t['colon']}{t['status'][e['status']]}" + (
            f"（{t['needs']}{w.value([w.fact(x, lang) for x in e['missing_facts']], lang)}）" if lang == "zh" and
            e["missing_facts"] else f" ({', '.join(e['missing_facts'])})" if e["missing_facts"] else "")
            for name, e in f["elements"].items()]))
    elif f.get("screening"):
        out.append(Paragraph(t["screening_open"].format(facts=w.value([w.fact(x, lang) for x in f["missing_facts"]],
                                                                   lang))))
    if f["deadlines"] and f["status"] == "met":
        out.append(Paragraph(t["deadlines"]))
        out.append(BulletList([_deadline(d, t, lang) for d in f["deadlines"]]))
    if f.get("trace"):
        out.append(Paragraph(t["reasoning"]))
        out.append(BulletList([_event(e, t, lang) for e in f["trace"]]))
    if f["note"]:
        out.append(Paragraph(f["note"]))
    if f["confidence"] == "unverified":
        out.append(Note(t["unverified"]))
    return out


def _factor(x: dict[str, Any], t: dict[str, Any], lang: str) -> str:
    cite = w.local(x.get("cite"), lang)
    return _tx(x["title"], lang) + (f"（{cite}）" if lang == "zh" else f" ({cite})") * bool(cite) + (
        t["advisory"] if x.get("advisory") else "")


def _asked(v: dict[str, Any], lang: str) -> str:
    if v["level"] != "unknown" or not v["missing_facts"]:
        return ""
    facts = w.value([w.fact(x, lang) for x in v["missing_facts"]], lang)
    return f"（{facts}）" if lang == "zh" else f" ({facts})"


def _deadline(d: dict[str, Any], t: dict[str, Any], lang: str) -> str:
    missing = w.fact(d.get("missing_fact") or "", lang)
    status = t["deadline_status"][d["status"]].format(due=d.get("due", ""), missing=missing)
    cite = w.local(d["cite"], lang)
    return f"{_tx(d['title'], lang)}（{cite}）{t['colon']}{status}" if lang == "zh" else \
        f"{_tx(d['title'], lang)} ({cite}): {status}"


def _event(e: dict[str, Any], t: dict[str, Any], lang: str) -> str:
    op = t["ops"].get(e["op"], e["op"])
    if e["op"] in ("rule", "exception"):
        return f"{op} {e['expected']}{t['colon'] if lang == 'zh' else ' → '}{t['status'].get(e['actual'], e['actual'])}"
    actual = t["unknown"] if e["actual"] is None else w.value(e["actual"], lang)
    expected = w.value(e.get("expected"), lang) if e.get("expected") is not None else t["unknown"]
    if e.get("param"):
        cite = w.local(e.get("cite"), lang)
        expected += f"（{cite}）" if lang == "zh" else f" [{e['param']}: {cite}]"
    if lang == "zh":
        result = t["trace_result"][str(e["value"]).lower()]
        return t["trace_line"].format(fact=w.fact(e["fact"], lang), actual=actual, op=op, expected=expected,
                                      result=result)
    result = {True: "✓", False: "✗", None: "?"}[e["value"]]
    return f"{w.fact(e['fact'], lang)} = {actual} {op} {expected} {result}"


def document(a: dict[str, Any]) -> Document:
    """The memo as a document (its title is the first heading)."""
    memo = blocks(a)
    return Document(title=next(documents.texts(memo)), blocks=memo, lang=a["lang"], theme="memo",
                    creator="synthguard law")


def render_markdown(a: dict[str, Any]) -> str:
    return documents.render_markdown(document(a))


def render_html(a: dict[str, Any]) -> str:
    return documents.render_html(document(a))
