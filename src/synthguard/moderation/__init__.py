"""The moderation service: cases (state machine + ledger), policy as data, notice-and-takedown, refutation,
SLA timers, the review queue and reports (DS-10..12, CC-10..12, US-02..04, DSA-01..11).

Entry point: ``sg.moderation`` (:class:`~synthguard.moderation.service.Moderation`).  The public names load on
first use (PEP 562), so ``synthguard report`` can import the report renderer at module level without the service,
the database layer or numpy (issue 22 start-up).
"""

from typing import Any

from synthguard.lazy import load_lazily

_LAZY = {"Moderation": "synthguard.moderation.service", "Policy": "synthguard.moderation.policy",
         "load": "synthguard.moderation.policy"}


def __getattr__(name: str) -> Any:
    return load_lazily(globals(), _LAZY, name)


__all__ = ["Moderation", "Policy", "load"]
