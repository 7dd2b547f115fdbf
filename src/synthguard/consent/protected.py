"""Platform side: does an AI upload depict a protected person who never consented? (CC-01/02, US-09, DS-15)

A person registers their likeness as *protected* (the embedding can be computed on their own device with
``synthguard consent embed`` so the photo never leaves it).  When a scan finds an upload AI-generated (any verdict
but ``none``), its faces (images, video frames) and voice (audio, video) are matched against the protected
templates; a match with no active grant from that person for any purpose yields an evidence entry and the action
``policy.yaml`` names for the verdict (remove labelled AI content, review the rest).  Nothing runs while no
protected person is registered, so ordinary scans stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthguard.consent import likeness
from synthguard.consent.policy import protected_action
from synthguard.detection import Detection
from synthguard.errors import SynthGuardError
from synthguard.ledger.erasure import subject_ref
from synthguard.media import Media, Modality

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.consent.registry import Registry
    from synthguard.store.protocols import Unit, Units

SOURCE = "consent.protected"
_MODALITIES = {Modality.IMAGE: ("face",), Modality.AUDIO: ("voice",), Modality.VIDEO: ("face", "voice")}


@dataclass(frozen=True, kw_only=True)
class ProtectedCheck:
    """The scan's likeness check (``Scanner.likeness``), built from narrow dependencies (issue 23): the likeness
    registry and the settings (getters) and a unit-of-work factory (the grants)."""

    registry: Callable[[], Registry]
    settings: Callable[[], Settings]
    units: Units

    def __call__(self, media: Media, verdict: str) -> tuple[list[Detection], list[dict[str, Any]]]:
        return check_upload(self, media, verdict)


def check_upload(deps: ProtectedCheck, media: Media, verdict: str) -> tuple[list[Detection], list[dict[str, Any]]]:
    """(evidence, actions) for protected persons depicted without consent in an upload with an AI verdict."""
    if verdict == "none":
        return [], []
    registry = deps.registry()
    wanted = [m for m in _MODALITIES.get(media.modality, ()) if registry.has_templates(m, protected_only=True)]
    if not wanted:
        return [], []
    try:
        found, _ = likeness.find(media)
    except SynthGuardError as exc:  # e.g. too many faces: recorded, and the upload goes to a human
        return ([Detection(SOURCE, "error", problems=(f"protected-person check failed: {exc.message}",))],
                [{"action": "review", "reason": "protected-person check failed", "citations": [{"row": "DS-15"}]}])
    cards = likeness.cards(deps.settings())
    hits: dict[str, dict[str, Any]] = {}
    for modality in wanted:
        gallery = [t for t in registry.templates(modality) if t.protected]
        card = cards[modality]
        for item in (f for f in found if f.modality == modality):
            if item.embedding is None:
                continue
            for t in gallery:
                score = card.score(item.embedding, t.embedding)
                if card.matches(score):  # by key: two tenants' "alice" are two people (issue 18 finding 13)
                    hit = hits.setdefault(t.subject_id, {"subject": t.name or t.subject_id, "modalities": set(),
                                                         "subject_ref": subject_ref(t.subject_id), "score": score})
                    hit["modalities"].add(modality)
                    if card.better(score, hit["score"]):
                        hit["score"] = score
    if not hits:
        return [], []
    evidence, subjects = [], []
    with deps.units() as uow:
        for key, hit in sorted(hits.items()):
            if _has_active_grant(registry, uow, key, hit["modalities"]):
                continue
            mods = sorted(hit["modalities"])
            subject = hit["subject"]
            evidence.append(Detection(SOURCE, "info", round(float(hit["score"]), 4), evidence={
                "subject": subject, "subject_ref": hit["subject_ref"], "modalities": mods, "consent": "none"},
                problems=(f"depicts protected person {subject} ({', '.join(mods)}) who has granted no consent",)))
            subjects.append(subject)
    if not subjects:
        return evidence, []
    action = protected_action(verdict) or "review"
    return evidence, [{"action": action, "reason": "AI content depicts a protected person without consent",
                       "subjects": subjects,
                       "citations": [{"row": "DS-15"}, {"row": "CC-01"}, {"row": "CC-02"}, {"row": "US-09"}]}]


def _has_active_grant(registry: Registry, uow: Unit, subject: str, modalities: set[str]) -> bool:
    for g in uow.consent.grants_of(subject):
        if set(modalities) <= set(g.modalities or []) and registry.grant_status(uow.session, g) == "active":
            return True
    return False
