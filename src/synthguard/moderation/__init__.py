"""The moderation service: cases (state machine + ledger), policy as data, notice-and-takedown, refutation,
SLA timers, the review queue and reports (DS-10..12, CC-10..12, US-02..04, DSA-01..11).

Entry point: ``sg.moderation`` (:class:`~synthguard.moderation.service.Moderation`).
"""

from synthguard.moderation.policy import Policy, load
from synthguard.moderation.service import Moderation

__all__ = ["Moderation", "Policy", "load"]
