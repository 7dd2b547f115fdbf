"""What the moderation service needs from the rest of SynthGuard, passed in by the composition root (issue 23).

Each field is a value or a callable, never the core: ``core.py`` builds :class:`ModerationDeps` once and every
module of ``moderation/`` takes it (or the part it needs), so no module here imports ``synthguard.core``.
Callables that return a service (``settings``, ``vault``, ``banks``) are read at each use: the core builds those
lazily and a test may replace the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.fingerprint.banks import Banks
    from synthguard.ledger.erasure import SubjectVault
    from synthguard.ledger.log import Ledger
    from synthguard.media import Media
    from synthguard.store.protocols import Units


@dataclass(frozen=True)
class ModerationDeps:
    """The moderation service's dependencies (DS-10..12): storage, the ledger and vault, scans and hash banks."""

    settings: Callable[[], Settings]
    units: Units  # ``with units() as uow:`` -- one transaction: ``uow.moderation`` and ``uow.session``
    ledger: Ledger  # every case transition is a ledger entry (DS-10)
    vault: Callable[[], SubjectVault]  # complainants' and uploaders' personal data (crypto-shredded)
    media: Callable[[Any], Media]  # an upload as Media under the operator's limits
    scan: Callable[..., Any]  # the platform scan of an upload (``SynthGuard.scan``: a ScanResult)
    banks: Callable[[], Banks]  # the stay-down hash banks (CC-12, US-04)
    user_ref: Callable[[str], str]  # the ledger pseudonym of a reviewer or an uploader key
    deep_scan: Callable[..., tuple[dict[str, Any], int, bool]]  # ``Jobs.deep_scan``: (job, upload id, created)


__all__ = ["ModerationDeps"]
