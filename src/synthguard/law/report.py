"""The assessment as a lawyer's memo: facts, issues, findings with citations and reasoning, what is missing.

One view model (a list of blocks) rendered three ways: Markdown, HTML (Jinja2, self-contained) and PDF
(fpdf2 with a CJK font from :func:`synthguard.marking.fonts.find_font`).  Vocabulary is data
(``templates/texts.yaml``); rule titles and citations come from the packs, in Chinese or English.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from synthguard.errors import ValidationError
from synthguard.law import wording as w

Block = tuple[str, Any]  # ("h1"|"h2"|"h3"|"p"|"ul"|"kv"|"note", payload)
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
    out: list[Block] = [("h1", f"{t['title']}{t['colon']}{w.local(inc['title'], lang) or inc['id']}"),
                        ("kv", [(t["incident"], inc["id"]), (t["date"], inc["date"]), (t["as_of"], inc["assessed_on"]),
                                (t["jurisdictions"], w.value(inc["jurisdictions"], lang)),
                                (t["place"], w.value(inc.get("place") or inc["jurisdictions"][0], lang))])]
    out.append(("h2", t["facts"]))
    if inc.get("summary"):
        out.append(("p", w.local(inc["summary"], lang)))
    out.append(("h3", t["parties"]))
    out.append(("ul", [f"{t['roles'][p['role']]}{t['colon']}{p['id']}" + "".join(
        f"{item}{w.fact(k, lang)}{kv}{w.value(v, lang)}" for k, v in p.items() if k not in ("id", "role"))
        for p in a["parties"]]))
    out.append(("kv", [(w.fact(k, lang), w.value(v, lang)) for k, v in a["facts"].items()
                       if not k.endswith(".count") and k.split(".")[0] not in (*t["roles"], "assessed")]))
    if a.get("derived"):
        out.append(("p", t["derived"]))
        out.append(("ul", [f"{w.fact(k, lang)}{t['colon']}{v}" for k, v in a["derived"].items()]))
    if a["assessed"]:
        out.append(("p", t["assessed"]))
        out.append(("ul", [_assessed(k, v, t, lang) for k, v in a["assessed"].items()]))
    domestic = [f for f in a["findings"] if not f["comparative"]]
    comparative = [f for f in a["findings"] if f["comparative"]]
    out.append(("h2", t["issues"]))
    out.append(("ul", [_issue(f, t) for f in domestic + comparative if f["status"] in ENGAGED] or [t["none"]]))
    out.append(("h2", t["findings"]))
    for f in domestic:
        if f["status"] in ENGAGED:
            out += finding_blocks(f, t, lang)
    if not any(f["status"] in ENGAGED for f in domestic):
        out.append(("p", t["none"]))
    if any(f["status"] in ENGAGED for f in comparative):
        out.append(("h2", t["comparative"]))
        for f in comparative:
            if f["status"] in ENGAGED:
                out += finding_blocks(f, t, lang)
    for heading, statuses in (("not_engaged", ("not_met", "not_applicable")),
                              ("not_in_force", ("not_in_force", "proposed"))):
        out.append(("h2", t[heading]))
        out.append(("ul", [_line(f, t) for f in a["findings"] if f["status"] in statuses] or [t["none"]]))
    out.append(("h2", t["severity"]))
    out.append(("p", t["severity_note"]))
    out.append(("kv", [(v["title"], t["levels"][v["level"]] + _asked(v, lang))
                       for v in a["severity"]["factors"].values()]))
    out.append(("ul", a["severity"]["cites"]))
    out += _missing(a, t, lang)
    out += _glossary(out, lang, t)
    if inc.get("sources"):
        out.append(("h3", t["sources"]))
        out.append(("ul", inc["sources"]))
    out.append(("note", a["disclaimer"]))
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
    out: list[Block] = [("h2", t["missing"])]
    if not a["missing_facts"]:
        return out + [("p", t["missing_none"])]
    titles = {f["rule"]: f["title"] for f in a["findings"]}
    first = [m for m in a["missing_facts"] if m["group"] == "ask_first"]
    if first:
        out.append(("p", t["missing_first"]))
        out.append(("ul", [f"{w.fact(m['fact'], lang)}{t['colon']}" + t["decides"].format(n=len(m["rules"]))
                           + (t["screening"] if m["screening"] else "") for m in first]))
    rest: dict[str, list[str]] = {}
    for m in a["missing_facts"][len(first):]:
        rest.setdefault(m["group"], []).append(w.fact(m["fact"], lang))
    if rest:
        out.append(("p", t["missing_rest"]))
        out.append(("ul", [f"{titles.get(rid, rid)}{t['colon']}{w.value(facts, lang)}" for rid, facts in rest.items()]))
    return out


def _glossary(memo: list[Block], lang: str, t: dict[str, Any]) -> list[Block]:
    """The legal terms this memo uses, each with the provision that defines or uses it (zh memos)."""
    if lang != "zh":
        return []
    body = "\n".join(str(p) for _, p in memo)
    used = [g for g in glossary() if g["zh"] in body]
    if not used:
        return []
    return [("h2", t["glossary"]), ("ul", [f"{g['zh']}{t['colon']}{g['meaning']}（{g['source']}）" for g in used])]


@lru_cache(maxsize=1)
def glossary() -> list[dict[str, str]]:
    data = files("synthguard.law").joinpath("templates", "glossary.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(data)["terms"]


def finding_blocks(f: dict[str, Any], t: dict[str, Any], lang: str) -> list[Block]:
    item = w.sep(lang)[0]
    out: list[Block] = [("h3", f"{f['title']} — {f['citation']}")]
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
    out.append(("kv", rows))
    if f["elements"]:
        out.append(("p", t["elements"]))
        out.append(("ul", [f"{w.element(name, lang)}{t['colon']}{t['status'][e['status']]}" + (
            f"（{t['needs']}{w.value([w.fact(x, lang) for x in e['missing_facts']], lang)}）" if lang == "zh" and
            e["missing_facts"] else f" ({', '.join(e['missing_facts'])})" if e["missing_facts"] else "")
            for name, e in f["elements"].items()]))
    elif f.get("screening"):
        out.append(("p", t["screening_open"].format(facts=w.value([w.fact(x, lang) for x in f["missing_facts"]],
                                                                   lang))))
    if f["deadlines"] and f["status"] == "met":
        out.append(("p", t["deadlines"]))
        out.append(("ul", [_deadline(d, t, lang) for d in f["deadlines"]]))
    if f.get("trace"):
        out.append(("p", t["reasoning"]))
        out.append(("ul", [_event(e, t, lang) for e in f["trace"]]))
    if f["note"]:
        out.append(("p", f["note"]))
    if f["confidence"] == "unverified":
        out.append(("note", t["unverified"]))
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


def render_markdown(a: dict[str, Any]) -> str:
    lines: list[str] = []
    for kind, p in blocks(a):
        if kind in ("h1", "h2", "h3"):
            lines += ["#" * int(kind[1]) + " " + p, ""]
        elif kind == "p":
            lines += [p, ""]
        elif kind == "note":
            lines += [f"> {p}", ""]
        elif kind == "ul":
            lines += [f"- {x}" for x in p] + [""]
        elif kind == "kv":
            lines += [f"- **{k}**: {v}" for k, v in p] + [""]
    return "\n".join(lines)


def render_html(a: dict[str, Any]) -> str:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("synthguard.law", "templates"), autoescape=True)
    return env.get_template("memo.html.j2").render(blocks=blocks(a), lang=a["lang"], title=_t(a["lang"])["title"])
