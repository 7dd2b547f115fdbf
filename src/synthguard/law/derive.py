"""Facts that follow from other facts, the way courts and police reports state them; each derivation says why.

* A stated purpose that entails intent (fraud, extortion, defamation, harassment) satisfies ``actor.knowingly``
  unless the incident says ``knowingly: false``: nobody defrauds by accident.
* ``assessed.serious_mental_harm`` (CC 1183) is read from the reported harm when nobody assessed it: serious
  distress, self-harm or a mental disorder -> serious; none or moderate distress -> not serious.  An explicit
  assessment always wins.
* ``harm.money_lost_rmb``: the stated RMB equivalent (a court's or the police's figure), else the amount in RMB,
  else the amount converted at the dated rate parameter ``fx.<currency>_rmb`` in force on the incident date.
* ``dissemination.for_profit`` is true when the content was sold to buyers.
* ``assessed.identifiable`` (the person, by any means) is true when the face or the voice was assessed
  identifiable; portrait rules read ``face_identifiable``, voice rules ``voice_identifiable``.

Nothing evaluative is invented: a derivation only restates what the stated facts already say.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from synthguard.law.citation import render_ref
from synthguard.law.rules import Library

INTENT_PURPOSES = ("fraud", "extortion", "defamation", "harassment")
Derivation = dict[str, str]  # {en, zh}


def derive(facts: dict[str, Any], lib: Library, on: date) -> dict[str, Derivation]:
    """Fill derivable facts in place; return {fact: {en, zh} reason} for the memo and the JSON output."""
    why: dict[str, Derivation] = {}
    purposes = [p for p in (facts.get("purpose") or []) if p in INTENT_PURPOSES]
    if facts.get("actor.knowingly") is None and purposes:
        facts["actor.knowingly"] = True
        why["actor.knowingly"] = {"en": f"stated purpose ({', '.join(purposes)}) entails intent",
                                  "zh": "所述目的（" + "、".join(PURPOSE_ZH[p] for p in purposes) + "）本身即表明故意"}
    if facts.get("assessed.serious_mental_harm") is None:
        distress, injury = facts.get("harm.mental_distress"), facts.get("harm.self_harm_or_mental_disorder")
        if distress == "serious" or injury is True:
            facts["assessed.serious_mental_harm"] = True
            why["assessed.serious_mental_harm"] = {
                "en": "reported serious distress, self-harm or a mental disorder",
                "zh": "已报告严重精神痛苦、自伤或精神障碍"}
        elif distress in ("none", "moderate") and injury is not True:
            facts["assessed.serious_mental_harm"] = False
            why["assessed.serious_mental_harm"] = {"en": f"reported distress is {distress}",
                                                   "zh": f"所报告的精神痛苦程度为“{DISTRESS_ZH[distress]}”"}
    if facts.get("assessed.identifiable") is None:
        by = [k for k in ("face", "voice") if facts.get(f"assessed.{k}_identifiable") is True]
        if by:
            facts["assessed.identifiable"] = True
            why["assessed.identifiable"] = {"en": f"identifiable by {' and '.join(by)}",
                                            "zh": "可通过" + "、".join({"face": "面部", "voice": "声音"}[k] for k in by)
                                                  + "识别"}
    _money(facts, lib, on, why)
    if facts.get("dissemination.for_profit") is None and (facts.get("dissemination.buyers") or 0) > 0:
        facts["dissemination.for_profit"] = True
        why["dissemination.for_profit"] = {"en": "sold to buyers", "zh": "内容系向购买者出售"}
    return why


def _money(facts: dict[str, Any], lib: Library, on: date, why: dict[str, Derivation]) -> None:
    lost, currency = facts.get("harm.money_lost"), facts.get("harm.currency")
    if facts.get("harm.money_lost_rmb") is not None or lost is None:
        return
    if currency == "RMB" or lost == 0:
        facts["harm.money_lost_rmb"] = lost
        return
    if currency is None:
        return
    rate, cite = lib.param(f"fx.{currency.lower()}_rmb", on)
    if rate is None:
        return
    facts["harm.money_lost_rmb"] = round(lost * rate, 2)
    why["harm.money_lost_rmb"] = {
        "en": f"{lost:,.0f} {currency} x {rate} ({render_ref(cite, 'en')})",
        "zh": f"{lost:,.0f} {CURRENCY_ZH[currency]} × {rate}（{render_ref(cite, 'zh')}）"}


PURPOSE_ZH = {"fraud": "诈骗", "extortion": "敲诈勒索", "defamation": "诽谤", "harassment": "骚扰"}
DISTRESS_ZH = {"none": "无", "moderate": "一般", "serious": "严重"}
CURRENCY_ZH = {"HKD": "港元", "USD": "美元", "EUR": "欧元", "RMB": "元"}
