"""The incident file: a strict pydantic model (unknown fields rejected), checks, and the flat fact namespace.

Parties are kept apart (LAW.md §2.7 lesson a): the person *depicted* is not the person *deceived*, and neither
is the *actor*, the *platform* or the *provider*.  Brute facts live in sections; evaluative facts ("obscene",
"identifiable", "social evaluation lowered") must come under ``assessed`` with who assessed them and on what
basis, and are never inferred.  The JSON Schema shipped as ``incident.schema.json`` is generated from these
models (a test keeps them equal); docs/incident-format.md documents it.
"""

from __future__ import annotations

import datetime as _dt
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt

Tri = bool | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Kind = Literal["private_person", "public_figure", "minor", "corporate_officer", "organization", "public_body",
               "state_official"]
Jurisdiction = Literal["CN", "HK", "EU", "US"]
Localized = str | dict[Literal["en", "zh"], str]  # free text, optionally in both memo languages
Consent = Literal["none", "given", "bundled", "separate", "written", "withdrawn"]


class _Party(_Strict):
    id: str = Field(min_length=1, description="Short identifier used in the report (pseudonymous is fine).")
    name: str | None = None
    kind: Kind | None = Field(default=None, description="Unknown unless stated (never assumed).")
    age: Annotated[int, Field(ge=0, le=130)] | None = None
    jurisdiction: str | None = Field(default=None, description="Where the party lives or is established (ISO code).")


class Depicted(_Party):
    """The person whose face, body or voice appears (the impersonated person)."""

    role: Literal["depicted"]
    consent: Consent | None = Field(default=None, description="Consent to the synthesis/use of the likeness.")
    knew_of_harm_on: date | None = Field(
        default=None, description="When they knew of the damage and the infringer (CC 188).")
    requested_removal: bool | None = None


class Deceived(_Party):
    """Someone misled by the synthetic content (fraud, extortion victim) - not the person depicted."""

    role: Literal["deceived"]
    knew_of_harm_on: date | None = None


class Actor(_Party):
    """Who made, used or spread the synthetic content."""

    role: Literal["actor"]
    knowingly: bool | None = Field(default=None, description="Acted intentionally / knew the content was fabricated.")
    is_media: bool | None = Field(default=None, description="A news organisation acting as such (CC 1025).")
    prior_defamation_penalty_2y: bool | None = Field(default=None, description="Administrative penalty for defamation "
                                                     "within 2 years (2013 Interpretation Art. 2(3)).")
    prior_pi_penalty_2y: bool | None = None
    supplied_tools_to_criminals: bool | None = Field(
        default=None, description="Knowingly gave tech support (CL 287-2).")
    recipients_supported: NonNegativeInt | None = None
    gains_rmb: NonNegativeFloat | None = Field(default=None, description="Illegal gains in RMB.")
    threatened_disclosure: bool | None = Field(default=None, description="Threatened to publish the content (CL 274).")
    surrendered: bool | None = Field(default=None, description="Voluntary surrender (自首, CL 67(1)).")
    confessed: bool | None = Field(default=None, description="Truthful confession after arrest (坦白, CL 67(3)).")
    made_restitution: bool | None = Field(default=None, description="Returned the gains or compensated the victims "
                                          "(退赃退赔).")


class Platform(_Party):
    """The service that hosted or spread the content."""

    role: Literal["platform"]
    notified: bool | None = None
    notice_valid: bool | None = Field(default=None, description="Notice had evidence and identity (CC 1195; TIDA §3).")
    notice_received_at: datetime | None = None
    removed_at: datetime | None = None
    forwarded_notice: bool | None = None
    recommended: bool | None = Field(
        default=None, description="Algorithmically recommended, ranked or edited the item.")
    repeat_infringer: bool | None = None
    flagged_ai_content: bool | None = Field(default=None, description="Showed an AI notice (LM Art. 6).")
    covered_platform: bool | None = Field(default=None, description="US TAKE IT DOWN 'covered platform'.")
    very_large: bool | None = Field(default=None, description="EU DSA very large online platform.")


class Provider(_Party):
    """The deep-synthesis / generative-AI service used to make the content."""

    role: Literal["provider"]
    offers_biometric_editing: bool | None = None
    prompted_separate_consent: bool | None = Field(default=None, description="DSP Art. 14(2) prompt + consent.")
    explicit_label: bool | None = None
    implicit_label: bool | None = None
    logs_kept_months: NonNegativeFloat | None = None
    verifies_user_identity: bool | None = None
    irrevocable_face_licence: bool | None = Field(
        default=None, description="ToS: unlimited, irrevocable, sublicensable "
                                                  "rights over face data (SPC face-recognition Art. 11).")
    turnover_prev_year_rmb: NonNegativeFloat | None = None
    collection_rules_published: bool | None = Field(
        default=None, description="Published its rules for collecting and using PI (CSL 41(1)).")
    sme: bool | None = None


PartyT = Annotated[Depicted | Deceived | Actor | Platform | Provider, Field(discriminator="role")]
Modality = Literal["image", "video", "audio", "text", "live_video"]
Technique = Literal["face_swap", "face_reenactment", "voice_clone", "undress", "full_synthesis", "text_persona",
                    "lip_sync", "scene"]
Purpose = Literal["fraud", "extortion", "sexual_gratification", "harassment", "defamation", "profit",
                  "entertainment", "parody", "news", "research", "teaching", "public_interest", "political",
                  "advertising", "personal_household", "public_panic"]


class Content(_Strict):
    synthetic: bool | None = None
    modality: list[Modality] | None = None
    technique: list[Technique] | None = None
    sexual: bool | None = Field(
        default=None, description="Sexual or intimate depiction (brute fact; 'obscene' is assessed).")
    fabricated_facts: bool | None = Field(default=None, description="States or shows events that did not happen.")
    insulting: bool | None = None
    false_danger_info: bool | None = Field(
        default=None, description="False disaster/epidemic/police information (291-1).")
    labeled: Literal["none", "implicit_only", "explicit_only", "explicit_and_implicit"] | None = None
    label_removed: bool | None = None
    realism: Literal["low", "medium", "high"] | None = None
    artistic_or_satirical: bool | None = None


class Acquisition(_Strict):
    source: Literal["provided_by_subject", "public_posts", "scraped", "covert", "breach", "purchased",
                    "none"] | None = None
    biometric: bool | None = Field(default=None, description="Face or voice prints were processed.")
    lawful_basis: Literal["none", "consent", "separate_consent", "contract", "public_info", "news",
                          "legal_duty"] | None = None
    pi_items: NonNegativeInt | None = None
    pi_tier: Literal["sensitive_50", "health_500", "other_5000"] | None = Field(
        default=None, description="CL 253-1 quantity tier (2017 Interpretation Art. 5); faces are a known gap.")
    sold_or_provided: bool | None = None
    supplied_by_buyers: bool | None = Field(
        default=None, description="The photos or recordings were supplied by buyers ordering the content.")


class Dissemination(_Strict):
    public: bool | None = None
    channels: list[str] = []
    views: NonNegativeInt | None = None
    reposts: NonNegativeInt | None = None
    for_profit: bool | None = None
    videos: NonNegativeInt | None = None
    images: NonNegativeInt | None = None
    audio_files: NonNegativeInt | None = None
    paying_members: NonNegativeInt | None = None
    posts: NonNegativeInt | None = Field(default=None, description="Separate posts or messages publishing it.")
    buyers: NonNegativeInt | None = Field(default=None, description="Persons who bought the content (a sale is for "
                                          "profit).")
    group_members: NonNegativeInt | None = None
    still_online: bool | None = None
    reached_minors: bool | None = None
    eu_exposure: bool | None = None
    us_exposure: bool | None = None


class Harm(_Strict):
    money_lost: NonNegativeFloat | None = None
    currency: Literal["RMB", "HKD", "USD", "EUR"] | None = Field(
        default=None, description="Currency of money_lost and money_recovered (unknown unless stated).")
    money_lost_rmb: NonNegativeFloat | None = Field(
        default=None, description="RMB equivalent as found by a court or the police; else converted at the dated "
                                  "rate parameter fx.<currency>_rmb.")
    money_recovered: NonNegativeFloat | None = Field(
        default=None, description="Amount frozen, recovered or returned (same currency); the offence amount is "
                                  "still money_lost.")
    property_loss_rmb: NonNegativeFloat | None = Field(default=None, description="Depicted person's own property loss.")
    infringer_gains_rmb: NonNegativeFloat | None = None
    mental_distress: Literal["none", "moderate", "serious"] | None = None
    self_harm_or_mental_disorder: bool | None = None
    caused_by_incident: bool | None = Field(default=None, description="Causation: the harm flows from the conduct.")
    victims_count: NonNegativeInt | None = None
    social_order_disrupted: bool | None = None


Evaluative = Literal["identifiable", "face_identifiable", "voice_identifiable", "excessive_collection", "obscene",
                     "social_evaluation_lowered", "serious_mental_harm",
                     "timely_removal", "platform_knew", "serious_case", "public_interest", "fault",
                     "household_only", "serious_social_order_harm"]


class Assessment(_Strict):
    value: bool
    by: Literal["analyst", "court", "regulator", "police", "prosecutor", "expert", "victim", "platform"]
    basis: Annotated[str, Field(min_length=3)] | dict[Literal["en", "zh"], Annotated[str, Field(min_length=2)]] = Field(
        description="Why: the evidence or the decision relied on (text, or {en, zh}).")
    on: date | None = None


class Incident(_Strict):
    format: Literal["synthguard.incident/1"] = "synthguard.incident/1"
    id: str = Field(min_length=1)
    title: Localized | None = None
    summary: Localized | None = None
    date: _dt.date = Field(description="When the conduct happened: decides which law was in force.")
    discovered: _dt.date | None = None
    assessed_on: _dt.date | None = Field(default=None, description="'As of' date for deadlines; default today.")
    jurisdictions: list[Jurisdiction] = Field(min_length=1)
    place: Jurisdiction | None = Field(
        default=None, description="Where the conduct happened (the forum): its law is primary, the other "
                                  "jurisdictions' law comparative.  Default: the first jurisdiction listed.")
    parties: list[PartyT] = Field(min_length=1)
    content: Content = Content()
    purpose: list[Purpose] | None = Field(
        default=None, description="What the actor used the content for (all of them).")
    acquisition: Acquisition = Acquisition()
    dissemination: Dissemination = Dissemination()
    harm: Harm = Harm()
    assessed: dict[Evaluative, Assessment] = {}
    sources: list[str] = Field(default=[], description="Public sources the facts come from.")


def namespace(inc: Incident, today: date) -> dict[str, Any]:
    """Flatten to dotted fact paths; a role's first party answers ``role.field`` (``role.count`` counts them)."""
    out: dict[str, Any] = {"incident.date": inc.date, "incident.place": inc.place or inc.jurisdictions[0],
                           "incident.discovered": inc.discovered, "incident.assessed_on": inc.assessed_on or today,
                           "jurisdictions": list(inc.jurisdictions),
                           "purpose": inc.purpose}
    for section in ("content", "acquisition", "dissemination", "harm"):
        for k, v in getattr(inc, section).model_dump().items():
            out[f"{section}.{k}"] = v
    for role in ("depicted", "deceived", "actor", "platform", "provider"):
        group = [p for p in inc.parties if p.role == role]
        out[f"{role}.count"] = len(group)
        if group:
            for k, v in group[0].model_dump().items():
                out[f"{role}.{k}"] = v
            out[f"{role}.minor"] = _minor(group)
            ages = [p.age for p in group]
            out[f"{role}.under_14"] = (True if any(a is not None and a < 14 for a in ages)
                                       else None if None in ages else False)
    out["platform.hours_to_removal"] = _hours_to_removal(out, today)
    for name, a in inc.assessed.items():
        out[f"assessed.{name}"] = a.value
    return out


ADULT_KINDS = ("corporate_officer", "state_official")


def _minor(group: list[Any]) -> bool | None:
    """True if anyone is a minor; False only if everyone is known to be an adult; else unknown (not assumed)."""
    if any(p.kind == "minor" or (p.age is not None and p.age < 18) for p in group):
        return True
    if all((p.age is not None and p.age >= 18) or p.kind in ADULT_KINDS for p in group):
        return False
    return None


def _hours_to_removal(f: dict[str, Any], today: date) -> float | None:
    """Hours from a notice to removal; if still online, hours so far (end of the as-of day)."""
    notice, removed = f.get("platform.notice_received_at"), f.get("platform.removed_at")
    if notice is None:
        return None
    if removed is None:
        if f.get("dissemination.still_online") is not True:
            return None
        as_of = f["incident.assessed_on"]
        removed = datetime(as_of.year, as_of.month, as_of.day, 23, 59, tzinfo=notice.tzinfo)
    if (removed.tzinfo is None) != (notice.tzinfo is None):
        removed, notice = removed.replace(tzinfo=None), notice.replace(tzinfo=None)
    return round((removed - notice).total_seconds() / 3600, 2)
