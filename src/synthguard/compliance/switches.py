"""Emergency switches per feature (DS-05 "kill switch per feature", DS-24 suspend on a regulator's order).

A feature is a labeling modality (``label.image``, ``label.audio`` ...), ``label`` for all labeling, or a DS-26
technique (``voice_clone``, ``face_swap`` ...).  :meth:`Switches.guard` runs at the start of every
``SynthGuard.label`` and reads the table each time, so a flip takes effect on the very next request; every flip
is also a ledger entry (kind ``feature``), so who turned what off, when and why is tamper-evident.
"""

from __future__ import annotations

import builtins
from typing import Any

from synthguard.compliance.common import FEATURE, UserRef, check_tenant, check_text, ledger_body, sha256_text
from synthguard.errors import FeatureDisabledError, ValidationError
from synthguard.ledger.log import Ledger
from synthguard.store.base import utcnow
from synthguard.store.compliance_tables import FeatureSwitch
from synthguard.store.protocols import Units
from synthguard.times import iso

ALL_TENANTS = "*"


def features_for(modality: str, technique: str | None) -> list[str]:
    """The switch names one labeling request depends on."""
    names = ["label", f"label.{modality}"]
    if technique:
        names.append(technique)
    return names


def _row(r: FeatureSwitch) -> dict[str, Any]:
    return {"tenant": r.tenant, "feature": r.feature, "enabled": r.enabled, "changed_at": iso(r.changed_at),
            "changed_by": r.changed_by, "reason": r.reason, "ledger_index": r.ledger_index}


class Switches:
    """The switch table behind ``sg.compliance.switches``, from narrow dependencies (issue 23): units of work, the
    ledger every flip is appended to, and the pseudonymiser of the actor."""

    def __init__(self, units: Units, ledger: Ledger, user_ref: UserRef):
        self.units, self.ledger, self.user_ref = units, ledger, user_ref

    def set(self, feature: str, *, enabled: bool, actor: str, reason: str, tenant: str = ALL_TENANTS
            ) -> dict[str, Any]:
        """Turn a feature off (or back on) now; the reason is required (DS-05 emergency runbook)."""
        if not FEATURE.match(feature or ""):
            raise ValidationError("feature {feature!r} is not a valid feature name",
                                  hint="Use label, label.image, label.audio, label.video, label.text or a technique "
                                       "such as voice_clone or face_swap.", values={"feature": feature})
        check_tenant(tenant)
        reason = check_text(reason, "the reason")
        actor = check_text(actor, "the actor", max_len=128)
        with self.units() as uow:
            entry = self.ledger.append(uow.session, "feature", ledger_body(
                self.user_ref, "feature_switch", actor, feature=feature, tenant=tenant, enabled=enabled,
                reason_sha256=sha256_text(reason)))
            row = uow.compliance.set_switch(tenant, feature, enabled=enabled, changed_at=utcnow(), changed_by=actor,
                                            reason=reason, ledger_index=entry.index)
            return _row(row)

    def list(self, *, tenant: str | None = None) -> list[dict[str, Any]]:
        """Every switch ever flipped (a feature with no row is on); ``tenant`` also shows the global ones."""
        with self.units() as uow:
            return [_row(r) for r in uow.compliance.switches((tenant, ALL_TENANTS) if tenant is not None else None)]

    def disabled(self, features: builtins.list[str], tenant: str) -> builtins.list[dict[str, Any]]:
        with self.units() as uow:
            return [_row(r) for r in uow.compliance.switched_off(features, tenant, ALL_TENANTS)]

    def guard(self, modality: str, technique: str | None, *, tenant: str) -> None:
        """Refuse the request when any switch it depends on is off (403, see FeatureDisabledError)."""
        self.require(features_for(modality, technique), tenant=tenant)

    def require(self, features: builtins.list[str], *, tenant: str) -> None:
        """Refuse when any of ``features`` is switched off ("register": DS-24 suspension of account registration)."""
        off = self.disabled(features, tenant)
        if off:
            first = off[0]
            raise FeatureDisabledError(
                "feature {feature!r} is disabled by an emergency switch since {changed_at}: {reason} (DS-05)",
                values={"feature": first["feature"], "changed_at": first["changed_at"], "reason": first["reason"]})
