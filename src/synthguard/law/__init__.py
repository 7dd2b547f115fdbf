"""Legal assessment engine: incident facts -> cited, explainable findings (LAW.md §2.7).

Rules, parameters, severity factors and consistency constraints are YAML data under ``packs/``; the
evaluator is three-valued (a missing fact gives ``undetermined`` plus the facts to ask for) and records a
trace of every comparison with its citation.  Reports render as Markdown, HTML or PDF in Chinese or English.
"""

from __future__ import annotations

from synthguard.law.bridge import facts_from_trace
from synthguard.law.engine import assess
from synthguard.law.facts import Incident
from synthguard.law.incident import load_incident, parse_text, validate_incident
from synthguard.law.rules import Library, library

__all__ = ["Incident", "Library", "assess", "facts_from_trace", "library", "load_incident", "parse_text",
           "validate_incident"]
