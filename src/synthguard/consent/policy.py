"""The consent policy as data (``consent/policy.yaml``): purposes, the unknown-face rule, protected-person actions."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import yaml

from synthguard.errors import ValidationError
from synthguard.i18n import N_

if TYPE_CHECKING:
    from synthguard.config import Settings


@lru_cache(maxsize=1)
def load_policy() -> dict[str, Any]:
    return yaml.safe_load(files("synthguard.consent").joinpath("policy.yaml").read_text(encoding="utf-8"))


def purposes() -> dict[str, dict[str, Any]]:
    return dict(load_policy()["purposes"])


def purpose_modalities(purpose: str) -> list[str]:
    """The modalities a purpose edits; ValidationError naming the known purposes otherwise."""
    known = purposes()
    if purpose not in known:
        raise ValidationError("unknown purpose {purpose!r}", hint=N_("Use one of: {known}."),
                              values={"purpose": purpose, "known": ", ".join(sorted(known))})
    return list(known[purpose]["modalities"])


def unknown_rule(settings: Settings) -> str:
    """allow | deny for a face or voice that matches nobody (SYNTHGUARD_CONSENT_UNKNOWN_POLICY, else the profile's
    default, ``config.PROFILE_DEFAULTS``)."""
    return settings.profile_defaults().consent_unknown_policy


def protected_action(verdict: str) -> str | None:
    return load_policy()["protected"].get(verdict)
