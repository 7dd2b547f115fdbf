"""Human-readable moderation texts, marked for the catalogs (issue 12): shown in the reader's language.

Case states, actions, sources, history events, content statuses and the shipped policies' titles and reason texts
(policies/{cn,eu,us}.yaml) are data; only their *display* is translated, at render time: in templates with the
globals of ``synthguard.server.i18n`` -- ``display("states", code)`` (a code through a table below),
``tr(text)`` (a marked data text; no %-formatting), ``bilingual({"zh", "en"})`` (the LM Art. 6 notices of
policies/notices.yaml) and ``when(iso)`` (a timestamp in the reader's locale); in Python with :func:`label`,
:func:`bilingual` and :func:`when`. The codes themselves stay in the API's JSON and in ``data-*`` attributes.
An operator's own policy file shows its texts as written (gettext returns unknown messages unchanged);
``tests/test_i18n_pages.py`` checks every shipped policy text is listed here, so a new policy row cannot ship
untranslated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from synthguard.i18n import N_, current, format_datetime, translate

# states, actions and events keep their code words in English (what the API returns, and what people already read)
STATES = {"opened": N_("opened"), "in_review": N_("in review"), "actioned": N_("actioned"),
          "dismissed": N_("dismissed"), "appealed": N_("appealed"), "closed": N_("closed")}
ACTIONS = {"remove": N_("remove"), "restrict": N_("restrict"), "label": N_("label"), "notice": N_("notice"),
           "refute": N_("refute"), "dismiss": N_("dismiss"), "escalate": N_("escalate"), "block": N_("block")}
SOURCES = {"scan": N_("automated scan"), "complaint": N_("complaint"), "victim_notice": N_("victim's notice"),
           "regulator": N_("regulator"), "copy": N_("copy of handled content")}
EVENTS = {k: k for k in (N_("open"), N_("claim"), N_("release"), N_("decide"), N_("escalate"), N_("close"),
                          N_("forward"), N_("reveal"), N_("counter_notice"), N_("suit_proof"), N_("appeal"),
                          N_("reupload_blocked"))}  # case-history event kinds, as the ledger records them
OUTCOMES = {"restored": N_("restored")}
CONTENT = {"visible": N_("visible"), "restricted": N_("restricted"), "removed": N_("removed")}  # content status
VERDICTS = {"ai_generated": N_("AI-generated"), "possibly_ai": N_("Possibly AI-generated"),
            "suspected_ai": N_("Suspected AI-generated"), "none": N_("No AI label found")}  # LM Art. 6 (1)-(3)
FIELDS = {"name": N_("full name"), "email": N_("email"), "signature": N_("signature"),
          "good_faith": N_("good-faith statement"), "location": N_("location of the content"),
          "description": N_("description")}
POLICY_TEXTS = (
    N_('China: Deep Synthesis Provisions, Labeling Measures, Civil Code Arts. 1195-1197'),  # cn
    N_('Intimate or sexual deepfake of me (non-consensual)'),  # cn
    N_('My face or likeness was forged'),  # cn
    N_('My voice was imitated'),  # cn
    N_('Defamatory synthetic content about me'),  # cn
    N_('False information / rumor made with AI'),  # cn
    N_('AI-generated content without a label'),  # cn
    N_('Request from a competent authority'),  # cn
    N_('Synthetic intimate imagery of a real person without consent'),  # cn
    N_('Portrait forged with information technology'),  # cn
    N_('Voice imitated without consent'),  # cn
    N_('Defamatory deep synthesis'),  # cn
    N_('False information made with deep synthesis'),  # cn
    N_('AI-generated content without the required label'),  # cn
    N_('Re-upload of content removed earlier'),  # cn
    N_('No infringement shown'),  # cn
    N_('Notice lacks prima facie evidence'),  # cn
    N_('Counter-notice stands; no complaint or suit proved in time'),  # cn
    N_('Disposal ordered by the competent authority'),  # cn
    N_('EU: Digital Services Act notice-and-action, statements of reasons; AI Act Art. 50 labels'),  # eu
    N_('Synthetic child sexual abuse material'),  # eu
    N_('Someone impersonates me with a deepfake'),  # eu
    N_('Manipulated media presented as real (disinformation)'),  # eu
    N_('Deepfake without an AI disclosure'),  # eu
    N_('Order from a judicial or administrative authority'),  # eu
    N_('Non-consensual intimate deepfake (illegal content)'),  # eu
    N_('Impersonation with a synthetic likeness'),  # eu
    N_('Defamatory synthetic content'),  # eu
    N_('Manipulated media presented as authentic (disinformation)'),  # eu
    N_('Deepfake without the Art. 50(4) disclosure'),  # eu
    N_('AI-generated or manipulated content labelled as such'),  # eu (scan rule eu.scan.labelled, issue 20)
    N_('Synthetic child sexual abuse material (illegal content)'),  # eu
    N_('Not illegal and not incompatible with the terms'),  # eu
    N_('Notice not sufficiently substantiated'),  # eu
    N_('Decision reversed on internal complaint'),  # eu
    N_('Order of a judicial or administrative authority'),  # eu
    N_('US: TAKE IT DOWN Act notice-and-removal (48 h), CA SB 981 sexually explicit digital identity theft'),
    N_('Intimate visual depiction of me published without consent (TAKE IT DOWN Act)'),  # us
    N_('Sexually explicit digital identity theft (California residents)'),  # us
    N_('Unauthorised digital replica of my voice or likeness'),  # us
    N_('Materially deceptive synthetic media'),  # us
    N_('AI-generated content without a disclosure'),  # us
    N_('Order of a court or agency'),  # us
    N_('Non-consensual intimate visual depiction (TAKE IT DOWN Act)'),  # us
    N_('Unauthorised digital replica of voice or likeness'),  # us
    N_('Sexually explicit digital identity theft (Cal. Bus. & Prof. Code 22671)'),  # us
    N_("AI-generated content without the platform's disclosure"),  # us
    N_('Re-upload of a depiction removed earlier'),  # us
    N_('Not a covered depiction'),  # us
    N_('Request lacks a required element'),  # us
    N_('Counter-notice stands'),  # us
)


def label(table: dict[str, str], code: str | None, lang: str | None = None) -> str:
    """The display text of a code in ``lang`` (default: the current language); unknown codes shown as they are."""
    if not code:
        return "-"
    return translate(table[code], lang) if code in table else code



def bilingual(value: Any, lang: str | None = None) -> str:
    """Pick the reader's side of a bilingual data value ``{"zh": ..., "en": ...}`` (the LM Art. 6 notices of
    policies/notices.yaml); plain strings pass through. Falls back to the other language when one is missing."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    first, other = ("zh", "en") if (lang or current()).startswith("zh") else ("en", "zh")
    return str(value.get(first) or value.get(other) or "")


def when(value: str | datetime | None, lang: str | None = None) -> str:
    """An ISO timestamp (as the service's dicts carry them) in the reader's locale; "-" for none."""
    if not value:
        return "-"
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:  # not a timestamp after all: show it as it is rather than fail the page
        return str(value)
    return format_datetime(dt, lang, fmt="long")  # "long" names the time zone: deadlines must be unambiguous


__all__ = ["ACTIONS", "CONTENT", "EVENTS", "FIELDS", "OUTCOMES", "POLICY_TEXTS", "SOURCES", "STATES", "VERDICTS",
           "bilingual", "label", "when"]
