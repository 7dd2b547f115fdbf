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


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v).lower() if isinstance(v, bool) else str(v)


def blocks(a: dict[str, Any]) -> list[Block]:
    lang = a["lang"]
    t = _t(lang)
    inc = a["incident"]
    out: list[Block] = [("h1", f"{t['title']}: {inc['title'] or inc['id']}"),
                        ("kv", [(t["incident"], inc["id"]), (t["date"], inc["date"]), (t["as_of"], inc["assessed_on"]),
                                (t["jurisdictions"], ", ".join(inc["jurisdictions"]))])]
    out.append(("h2", t["facts"]))
    if inc.get("summary"):
        out.append(("p", inc["summary"]))
    out.append(("h3", t["parties"]))
    out.append(("ul", [f"{t['roles'][p['role']]}: {p['id']}" + "".join(
        f"; {k} {_fmt(v)}" for k, v in p.items() if k not in ("id", "role")) for p in a["parties"]]))
    out.append(("kv", [(k, _fmt(v)) for k, v in a["facts"].items()
                       if not k.endswith(".count") and k.split(".")[0] not in t["roles"]]))
    if a["assessed"]:
        out.append(("ul", [f"{k}: {_fmt(v['value'])} ({v['by']}: {v['basis']})" for k, v in a["assessed"].items()]))
    domestic = [f for f in a["findings"] if not f["comparative"]]
    comparative = [f for f in a["findings"] if f["comparative"]]
    out.append(("h2", t["issues"]))
    out.append(("ul", [t["issue"].format(title=f["title"], citation=f["citation"])
                       for f in domestic + comparative if f["status"] in ENGAGED] or [t["none"]]))
    out.append(("h2", t["findings"]))
    for f in domestic:
        if f["status"] in ENGAGED:
            out += finding_blocks(f, t, lang)
    if any(f["status"] in ENGAGED for f in comparative):
        out.append(("h2", t["comparative"]))
        for f in comparative:
            if f["status"] in ENGAGED:
                out += finding_blocks(f, t, lang)
    out.append(("h2", t["not_engaged"]))
    out.append(("ul", [f"{f['title']} ({f['citation']}): {t['status'][f['status']]}" for f in a["findings"]
                       if f["status"] in ("not_met", "not_applicable")] or [t["none"]]))
    out.append(("h2", t["not_in_force"]))
    out.append(("ul", [f"{f['title']} ({f['citation']}): {t['status'][f['status']]}" for f in a["findings"]
                       if f["status"] in ("not_in_force", "proposed")] or [t["none"]]))
    out.append(("h2", t["severity"]))
    out.append(("p", t["severity_note"]))
    out.append(("kv", [(v["title"], t["levels"][v["level"]] + _asked(v)) for v in a["severity"]["factors"].values()]))
    out.append(("ul", a["severity"]["cites"]))
    out.append(("h2", t["missing"]))
    if a["missing_facts"]:
        out.append(("p", t["missing_intro"]))
        out.append(("ul", [f"{m['fact']}: {', '.join(m['rules'])}" for m in a["missing_facts"]]))
    else:
        out.append(("p", t["missing_none"]))
    if inc.get("sources"):
        out.append(("h3", t["sources"]))
        out.append(("ul", inc["sources"]))
    out.append(("note", a["disclaimer"]))
    return out


def finding_blocks(f: dict[str, Any], t: dict[str, Any], lang: str) -> list[Block]:
    out: list[Block] = [("h3", f"{f['title']} — {f['citation']}")]
    rows = [(t["status_label"], t["status"][f["status"]])]
    if f["defeated_by"]:
        rows.append((t["defeated_by"], ", ".join(f["defeated_by"])))
    if f["band"]:
        b = f["band"]
        rows.append((t["band"], f"{_tx(b['title'], lang)}: {_tx(b.get('penalty') or '', lang)}"))
    if f["band_missing_facts"] and f["status"] == "met":
        rows.append((t["band_open"], ", ".join(f["band_missing_facts"])))
    if f["aggravators"]:
        rows.append((t["aggravators"], "; ".join(f"{_tx(x['title'], lang)} ({x['cite']})" for x in f["aggravators"])))
    if f["remedies"]:
        rows.append((t["remedies"], ", ".join(_tx(texts()["remedies"].get(r, r), lang) for r in f["remedies"])))
    fine = (f["band"] or {}).get("fine") or f["fine"]
    if fine:
        rows.append((t["fine"], "; ".join(f"{k} {_fmt(v)}" for k, v in fine.items() if k != "cites")))
    if f["requirements"]:
        rows.append((t["requirements"], ", ".join(f["requirements"])))
    out.append(("kv", rows))
    if f["elements"]:
        out.append(("p", t["elements"]))
        out.append(("ul", [f"{name}: {t['status'][e['status']]}" + (f" ({', '.join(e['missing_facts'])})"
                                                                    if e["missing_facts"] else "")
                           for name, e in f["elements"].items()]))
    if f["deadlines"] and f["status"] == "met":
        out.append(("p", t["deadlines"]))
        out.append(("ul", [_deadline(d, t, lang) for d in f["deadlines"]]))
    if f.get("trace"):
        out.append(("p", t["reasoning"]))
        out.append(("ul", [_event(e, t) for e in f["trace"]]))
    if f["note"]:
        out.append(("p", f["note"]))
    if f["confidence"] == "unverified":
        out.append(("note", t["unverified"]))
    return out


def _asked(v: dict[str, Any]) -> str:
    return f" ({', '.join(v['missing_facts'])})" if v["level"] == "unknown" and v["missing_facts"] else ""


def _deadline(d: dict[str, Any], t: dict[str, Any], lang: str) -> str:
    status = t["deadline_status"][d["status"]].format(due=d.get("due", ""), missing=d.get("missing_fact", ""))
    return f"{_tx(d['title'], lang)} ({d['cite']}): {status}"


def _event(e: dict[str, Any], t: dict[str, Any]) -> str:
    op = t["ops"].get(e["op"], e["op"])
    if e["op"] in ("rule", "exception"):
        return f"{op} {e['expected']} → {t['status'].get(e['actual'], e['actual'])}"
    actual = t["unknown"] if e["actual"] is None else _fmt(e["actual"])
    expected = _fmt(e.get("expected")) + (f" [{e['param']}: {e['cite']}]" if e.get("param") else "")
    result = {True: "✓", False: "✗", None: "?"}[e["value"]]
    return f"{e['fact']} = {actual} {op} {expected} {result}"


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
